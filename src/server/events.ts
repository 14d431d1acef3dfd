import type { ClientToServerFrame } from '../protocol/frames';
import type { ErrorCode } from '../protocol/errors';

/** What a counted delivery carried: a group message (live or catch-up) or a saved message. */
export type DeliveryKind = 'group' | 'saved';

/** How a client left a group (docs/usage.md "Server"). */
export type LeaveReason =
  /** `leave_group`. */
  | 'left'
  /** It joined another group. */
  | 'switched'
  /** dereg, or its connection closed. */
  | 'offline'
  /** It did not ack a group message within ackTimeoutMs. */
  | 'unresponsive'
  /** Its unacked backlog passed the bound (docs/architecture.md "Flow control and memory bounds"). */
  | 'slow';

/**
 * Everything ChatServer reports. The server never prints; cli/server-mode.ts
 * renders each event as the exact line of docs/usage.md "Server".
 */
export type ServerEvents = {
  /** The client table changed (registration, re-registration, dereg, closed connection). */
  tableUpdated: [];
  groupCreated: [name: string, group: string];
  groupCreateFailed: [name: string, group: string];
  groupsListed: [name: string, groups: readonly string[]];
  groupJoined: [name: string, group: string];
  groupJoinFailed: [name: string, group: string];
  groupMessage: [name: string, group: string, text: string];
  membersListed: [name: string, group: string, members: readonly string[]];
  /** Left a group, in any of the ways LeaveReason lists. */
  groupLeft: [name: string, group: string, reason: LeaveReason];
  /** A creator deleted its group. */
  groupDeleted: [name: string, group: string];
  /** A client deleted its account. */
  accountDeleted: [name: string];
  /** An unexpected internal error; only the connection involved was closed. */
  fault: [error: Error];
  /** A connection was accepted (registered or not yet). */
  connectionOpened: [];
  /** A connection closed; `code` says why when the server closed it for a protocol reason. */
  connectionClosed: [code: ErrorCode | undefined];
  /** A frame arrived from a client and goes to its handler (what docs/operations.md counts as messages in). */
  frameReceived: [type: ClientToServerFrame['type']];
  /** A frame was refused: at the connection (undecodable, too large, over the rate) or answered with an error. */
  frameRejected: [code: ErrorCode];
  /** `count` frames carrying messages of `kind` were queued to clients. */
  delivered: [kind: DeliveryKind, count: number];
  /** A member acked group deliveries; `latencyMs` since the oldest of them was sent. */
  groupAcked: [latencyMs: number];
  /** The server stopped accepting and is finishing what it holds (SIGTERM, docs/operations.md). */
  draining: [];
};

/** Emits a server event (handed to handlers, which cannot reach the protected emit). */
export type EmitEvent = <K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]) => void;

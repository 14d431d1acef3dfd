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
};

/** Emits a server event (handed to handlers, which cannot reach the protected emit). */
export type EmitEvent = <K extends keyof ServerEvents>(event: K, ...args: ServerEvents[K]) => void;

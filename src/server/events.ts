/**
 * Everything ChatServer reports. The server never prints; cli/server-mode.ts
 * renders each event as the exact SPEC §4 line.
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
  /** A member did not ack a group message within ackTimeoutMs and was removed. */
  memberUnresponsive: [name: string, group: string];
  membersListed: [name: string, group: string, members: readonly string[]];
  /** Left by leave_group, dereg, joining another group, or a closed connection. */
  groupLeft: [name: string, group: string];
  /** An unexpected internal error; only the connection involved was closed. */
  fault: [error: Error];
};

/** Emits a server event (handed to handlers, which cannot reach the protected emit). */
export type EmitEvent = <K extends keyof ServerEvents & string>(event: K, ...args: ServerEvents[K]) => void;

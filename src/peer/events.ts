import type { SendReport } from './fanout';

/**
 * What a MeshPeer reports (it never prints; src/cli/peer-mode.ts renders these
 * as the docs/usage.md "Peer mode" lines).
 */
export type MeshPeerEvents = {
  /** A member linked after our own join finished: `[<name> has joined the chat]`. */
  memberJoined: [name: string];
  /** A member said bye: `[<name> has left the chat]`. */
  memberLeft: [name: string];
  /** A member's link closed or went silent without bye: `[<name> disconnected]`. */
  memberDisconnected: [name: string];
  /** A chat message, shown once per id: `<from>: <text>`. */
  message: [from: string, text: string];
  /** After start, another process won our name; the peer has left the mesh. */
  nameInUse: [];
  /** An internal fault closed one link (the mesh carries on). */
  fault: [error: Error];
};

/** How `MeshPeer.send` ended: who did not ack, or refused before sending. */
export type MeshSendResult = SendReport | 'too_long';

/** How `MeshPeer.start` ended. */
export type StartOutcome =
  /** No address answered (or none given): a new chat on `port`. */
  | { readonly kind: 'created'; readonly port: number }
  /** Joined through an address; linked to `others` members. */
  | { readonly kind: 'joined'; readonly port: number; readonly others: number }
  /** The mesh already has a member with our name; the peer has left. */
  | { readonly kind: 'name_in_use' };

import type { ClientEntry, HistoryEntry } from '../protocol/frames';
import type { ShownSaved } from './saved-messages';
import type { ErrorCode } from '../protocol/errors';
import type { RequestOutcome } from './server-link';
import type { DirectMessage } from './peer-listener';
import type { ServerRefusal } from './server-dial';

/**
 * Typed results of every ChatClient call and its events (docs/events.md).
 * Each call settles exactly once with one of these; none of them throws for an
 * expected condition.
 */

/** Why a server request did not succeed, for any request. */
export type RequestFailure =
  | 'not_responding' // no reply after every try on a connection believed open (docs/usage.md "Client")
  | 'not_connected' // the link is being re-established; the request was not performed (docs/usage.md)
  | 'rate_limited' // the server refused the frame (docs/protocol.md `rate_limited`)
  | { readonly error: ErrorCode }; // any other error code from the server

/** Result of ChatClient.register() (docs/events.md). */
export type RegisterResult =
  | 'ok'
  | 'name_in_use'
  | 'name_owned'
  | 'refused' // the client will not talk to this server (`serverRefused` says why, docs/usage.md "TLS")
  | RequestFailure;
/** Result of ChatClient.sendDirect(): the receiver's verdict, or why it was not sent. */
export type SendDirectResult =
  | 'received'
  | 'no_ack'
  | 'receiver_full' // the receiver holds as many messages as it allows (docs/usage.md)
  | 'offline' // offline, and the server cannot be reached to keep it
  | 'saved' // offline: the server keeps it until the receiver comes back (docs/usage.md "Saved messages")
  | 'mailbox_full'
  | 'unknown'
  | 'too_long'
  | { readonly rejected: ErrorCode }
  | RequestFailure;
/** Result of ChatClient.createGroup() (docs/events.md). */
export type CreateGroupResult = 'created' | 'exists' | 'invalid_name' | RequestFailure;
/** Result of ChatClient.listGroups() (docs/events.md). */
export type ListGroupsResult = { readonly groups: readonly string[] } | RequestFailure;
/** Result of ChatClient.joinGroup() (docs/events.md). */
/** Result of ChatClient.joinGroup(): the group as shown, and its last messages (oldest first). */
export type JoinGroupResult =
  | { readonly joined: string; readonly history: readonly HistoryEntry[] }
  | 'no_such_group'
  | 'invalid_name'
  | RequestFailure;
/** Result of ChatClient.history(): the current group's last messages, oldest first. */
export type HistoryResult =
  { readonly group: string; readonly history: readonly HistoryEntry[] } | 'not_in_group' | RequestFailure;
/** Result of ChatClient.deleteGroup(). */
export type DeleteGroupResult =
  'deleted' | 'no_such_group' | { readonly creator: string } | 'invalid_name' | RequestFailure;
/** Result of ChatClient.deleteAccount(). */
export type DeleteAccountResult = 'deleted' | 'not_self' | RequestFailure;
/** Result of ChatClient.leaveGroup() (docs/events.md). */
export type LeaveGroupResult = { readonly left: string } | 'not_in_group' | RequestFailure;
/** Result of ChatClient.listMembers() (docs/events.md). */
export type ListMembersResult =
  { readonly group: string; readonly members: readonly string[] } | 'not_in_group' | RequestFailure;
/** Result of ChatClient.sendGroup() (docs/events.md). */
export type SendGroupResult = 'received' | 'too_long' | 'not_in_group' | RequestFailure;
/** Result of ChatClient.deregister() (docs/events.md). */
export type DeregisterResult = 'ok' | 'not_self' | RequestFailure;

/** A group message shown to this member (each `(group, seq)` once). */
export interface GroupMessage {
  readonly group: string;
  readonly seq: number;
  readonly from: string;
  readonly text: string;
}

export type { DirectMessage };

/** A private message the server kept while this client was offline. */
export type SavedMessage = ShownSaved;

/** Events a ChatClient emits; it never prints (the client is a library). */
export type ChatClientEvents = {
  /** A table push was applied (also the first full table after registering). */
  tableUpdated: [clients: readonly ClientEntry[]];
  /** A verified private message (each id once). */
  directMessage: [message: DirectMessage];
  /** A message of the current group (each seq once). */
  groupMessage: [message: GroupMessage];
  /** Another member joined the current group (docs/protocol.md `presence`). */
  memberJoined: [info: { readonly group: string; readonly name: string }];
  /** Another member left the current group, in any way (docs/protocol.md `presence`). */
  memberLeft: [info: { readonly group: string; readonly name: string }];
  /** The server removed this client from its group, or the group vanished across a reconnect. */
  removedFromGroup: [info: { readonly group: string }];
  /** Messages saved for this client while it was offline, oldest first (verified; each id once). */
  savedMessages: [messages: readonly SavedMessage[]];
  /**
   * The server shows `name`, whose key this client pinned when they exchanged
   * private messages, with another key (docs/security.md "Trust on first
   * use"); the new key is pinned, so this comes once per change.
   */
  identityChanged: [info: { readonly name: string }];
  /** `name` received the messages this client saved for it. */
  receipt: [info: { readonly name: string }];
  /** The creator deleted `group`; if this client was in it, it is back in normal mode. */
  groupDeleted: [info: { readonly group: string }];
  /** The registered server connection was lost; reconnecting in the background. */
  serverLost: [];
  /** Registered again (and re-joined the group, if it still exists) after `serverLost`. */
  reconnected: [];
  /** The server's certificate was pinned on first use for `address` (`<host>:<port>`). */
  serverTrusted: [info: { readonly address: string; readonly fingerprint: string }];
  /** The client will not talk to the server at `address` (docs/usage.md "TLS"); it stops, no reconnect. */
  serverRefused: [info: { readonly address: string; readonly refusal: ServerRefusal }];
  /** An internal fault on one connection (that connection was closed). */
  fault: [error: Error];
};

/** Maps a failed server answer to a RequestFailure. */
export function toFailure(outcome: Exclude<RequestOutcome, { type: 'reply' }>): RequestFailure {
  if (outcome.type === 'not_responding') return 'not_responding';
  if (outcome.type === 'not_connected') return 'not_connected';
  if (outcome.code === 'rate_limited') return 'rate_limited';
  return { error: outcome.code };
}

/** True when `result` is one of the RequestFailure shapes. */
export function isFailure(result: unknown): result is RequestFailure {
  return (
    result === 'not_responding' ||
    result === 'not_connected' ||
    result === 'rate_limited' ||
    (typeof result === 'object' && result !== null && 'error' in result)
  );
}

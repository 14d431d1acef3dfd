import type { Limits } from '../protocol/limits';
import type { ErrorCode } from '../protocol/errors';
import { ERROR_CODES } from '../protocol/errors';
import type { HistoryEntry, ClientEntry } from '../protocol/frames';
import type { ChatStore, Owner, SavedMessage } from '../store/chat-store';
import type { GroupFanout } from './group-fanout';
import type { Membership } from './membership';
import type { TablePusher } from './table-push';
import type { EmitEvent } from './events';
import type { Session } from './session';
import type { RelayAcks } from './relay-acks';

/** A session that has registered: its name is known. */
export type RegisteredSession = Session & { readonly name: string };

/** What handlers may use. Handlers never print and never touch other sessions directly. */
export interface ServerContext {
  readonly store: ChatStore;
  /** One node of a cluster: group messages are delivered from the cluster feed, not by the handler. */
  readonly clustered: boolean;
  readonly membership: Membership;
  readonly fanout: GroupFanout;
  readonly tables: TablePusher;
  readonly limits: Limits;
  readonly emit: EmitEvent;
  /** The server's clock, in ms (timestamps of group messages). */
  now(): number;
  /** The sessions here of these names (those online on this server). */
  sessionsOf(names: readonly string[]): Session[];
  /** True if this connection's address may register now (docs/security.md: per-address limits). */
  admitRegistration(session: Session): boolean;
  /**
   * `holder` holds a name someone registers again with its key: if it is a
   * stale connection (it does not answer a ping in time), it is closed and
   * taken offline, and this resolves true; if it is alive, false.
   */
  replaceIfStale(holder: Owner): Promise<boolean>;
  /** Sends a client that just registered its saved messages (`waiting`, read before the reply), after its full table. */
  deliverSaved(session: RegisteredSession, waiting: readonly SavedMessage[]): void;
  /** The receiver showed saved message `id`. */
  savedAcked(session: RegisteredSession, id: string): void;
  /** Relayed private messages waiting for their receiver's `relayed_ack`. */
  readonly relayAcks: RelayAcks;
  /** Binds a freshly registered name to its session (name → session, register deadline off). */
  bind(session: Session, name: string): void;
  /** Marks the session's client offline, takes it out of its groups and pushes the table. */
  goOffline(session: Session): Promise<void>;
  /** The account of the session's client was deleted: unbinds it and pushes the change. */
  accountDeleted(session: RegisteredSession, leftGroups: readonly string[]): void;
}

/** A reply frame sent to a request. */
export type ReplyFrame = {
  readonly type: 'reply';
  readonly id: string;
  readonly groups?: readonly string[];
  readonly members?: readonly string[];
  readonly group?: string;
  readonly history?: readonly HistoryEntry[];
  readonly entry?: ClientEntry;
  readonly seq?: number;
  readonly saved?: number;
};

/** An error frame sent to a request (`who`: the name it is about, where the client needs it). */
export type ErrorFrame = {
  readonly type: 'error';
  readonly id: string;
  readonly code: ErrorCode;
  readonly message: string;
  readonly who?: string;
};

/**
 * What a handler decides: the frame to answer with, and work to do right after
 * it is queued. When `after` returns a promise, the connection's next request
 * waits for it (register: until the full table is out).
 */
export interface Outcome {
  readonly frame: ReplyFrame | ErrorFrame;
  readonly after?: () => void | Promise<void>;
}

/** A success outcome for request `id`. */
export function ok(
  id: string,
  extra: Omit<ReplyFrame, 'type' | 'id'> = {},
  after?: () => void | Promise<void>,
): Outcome {
  const frame: ReplyFrame = { type: 'reply', id, ...extra };
  return after ? { frame, after } : { frame };
}

/** A failure outcome for request `id`, with the catalogue message. */
export function fail(id: string, code: ErrorCode): Outcome {
  return { frame: { type: 'error', id, code, message: ERROR_CODES[code] } };
}

/** A failure outcome that names who it is about (`not_creator`: the creator). */
export function failAbout(id: string, code: ErrorCode, who: string): Outcome {
  return { frame: { type: 'error', id, code, message: ERROR_CODES[code], who } };
}

import type { DmEnvelope } from '../protocol/dm-envelope';
import type { ClientEntry, HistoryEntry } from '../protocol/frames';

/**
 * The server's state behind one asynchronous interface (docs/architecture.md,
 * "Store"). The server core never knows which implementation it has: the
 * in-memory one (`--ephemeral`), the embedded database (the default) and the
 * cluster one all pass the same contract tests.
 *
 * Lock discipline, the contract every implementation keeps:
 * - Each method is ONE atomic step: no caller ever composes two calls that
 *   must be atomic together (a join that first leaves the old group is one
 *   `join`; going offline and leaving the group is one `disconnect`; a
 *   registration that binds a new name to its key is one `register`).
 * - The client table (with the accounts) and the group table each have their
 *   own lock. A method that needs both takes the client table's first, then
 *   the group table's, and releases in reverse; no method waits for socket
 *   I/O or an ack while holding either. An implementation holds its lock
 *   across its own persistence (a database commit): that is what it is for.
 * - A method resolves only once its change is durable (committed), so a reply
 *   sent after it never promises what a crash could take back.
 * - Reads (`clients`, `groups`, `membersOf`, `history`, `mailbox`) see a state
 *   that some sequence of completed writes produced, never a half-done write.
 * - Every result says what changed, so the caller can push exactly that.
 * - Client and group names compare without regard to case; each is shown
 *   as it was first registered or created (docs/usage.md "Names").
 * test/property/store-interleaving.property.test.ts runs random concurrent
 * interleavings against these rules.
 */
export interface ChatStore {
  /**
   * Puts `reg` online for `owner` (a connection token). A name is bound to the
   * key that first registered it (its account, created here); another key
   * gets `name_owned`. While the name is online elsewhere: `name_in_use`,
   * with the owner holding it.
   */
  register(reg: Registration, owner: Owner): Promise<RegisterResult>;
  /**
   * `name` goes offline if `owner` still holds it, and leaves its groups in
   * the same step. Null when `owner` no longer held the name.
   */
  disconnect(name: string, owner: Owner): Promise<DisconnectResult | null>;
  /**
   * Forgets the account of `name` (held by `owner`): its key, its saved
   * messages and its table entry; it leaves its groups in the same step.
   */
  deleteAccount(name: string, owner: Owner): Promise<DeleteAccountResult>;
  /** Every client-table entry, in first-registration order (a snapshot). */
  clients(): Promise<readonly ClientEntry[]>;
  /** The entry of `name` — online, or offline with its account key — or null if no account has it. */
  lookup(name: string): Promise<ClientEntry | null>;

  /** Creates an empty group within `quota`; groups live until deleted, across restarts. */
  createGroup(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult>;
  /** Deletes `group` if `by` created it, with its history; says who was in it. */
  deleteGroup(group: string, by: string): Promise<DeleteGroupResult>;
  /** Group names in creation order (an immutable snapshot, the same array until the groups change). */
  groups(): Promise<readonly string[]>;
  /**
   * Puts `member` in `group`, leaving its current groups in the same step (so
   * a member that joins this way is in at most one group) — unless `keep`,
   * which adds `group` to the groups it is in (a relay session such as an IRC
   * connection, docs/architecture.md "Membership").
   */
  join(member: string, group: string, keep?: boolean): Promise<JoinResult>;
  /** Takes `member` out of `onlyFrom` if it is in it; without `onlyFrom`, out of its (first) group. */
  leave(member: string, onlyFrom?: string): Promise<LeaveResult>;
  /** Members of `group` in join order, or undefined if there is no such group. */
  membersOf(group: string): Promise<readonly string[] | undefined>;

  /**
   * Appends a message to `group`'s history and gives it the group's next seq
   * (one order per group, across restarts); resolves once it is durable. The
   * history keeps the group's last `historyLimit` messages. Null if there is
   * no such group.
   */
  appendMessage(group: string, message: NewGroupMessage): Promise<number | null>;
  /** Messages of `group` in seq order: those inside the query's bounds, at most `limit` (the newest unless `oldest`). */
  history(group: string, query: HistoryQuery): Promise<readonly HistoryEntry[]>;

  /** Keeps sealed `message` for its offline receiver, unless its mailbox already holds `limit` messages. */
  saveMessage(message: DmEnvelope, limit: number): Promise<SaveResult>;
  /** The saved messages of `name`, oldest first. */
  mailbox(name: string): Promise<readonly SavedMessage[]>;
  /** Deletes saved messages of `name` once its client showed them; resolves once durable. */
  deleteSaved(name: string, ids: readonly string[]): Promise<void>;

  /** How many accounts and saved messages the store holds (the operator's gauges, docs/operations.md). */
  counts(): Promise<StoreCounts>;

  /** Releases what the store holds (files, connections); pending writes are committed first. */
  close(): Promise<void>;
}

/** Totals an operator watches: every account (online or not) and every saved message not yet shown. */
export interface StoreCounts {
  readonly accounts: number;
  readonly saved: number;
}

/** Who holds an online name: the connection that registered it. */
export type Owner = number;

/** What a client supplies when it registers. */
export interface Registration {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly key: string;
  /** The X25519 key (verified by the caller against `key`) and its signature; absent for IRC sessions. */
  readonly ekey?: string;
  readonly ekeySig?: string;
}

export type RegisterResult =
  | { readonly ok: true; readonly entry: ClientEntry }
  | { readonly ok: false; readonly code: 'name_in_use'; readonly holder: Owner }
  | { readonly ok: false; readonly code: 'name_owned' };

export interface DisconnectResult {
  /** The entry as it is now (offline). */
  readonly entry: ClientEntry;
  /** The groups the client was taken out of (none, or one unless it joined with `keep`). */
  readonly leftGroups: readonly string[];
}

export type DeleteAccountResult =
  | { readonly ok: true; readonly leftGroups: readonly string[] }
  | { readonly ok: false; readonly code: 'not_registered' };

/** How many groups there may be, in all and per creator (docs/protocol.md limits). */
export interface GroupQuota {
  readonly maxGroups: number;
  readonly maxPerCreator: number;
}

export type CreateGroupResult =
  { readonly ok: true } | { readonly ok: false; readonly code: 'group_exists' | 'too_many_groups' | 'group_quota' };

export type DeleteGroupResult =
  | { readonly ok: true; readonly members: readonly string[] }
  | { readonly ok: false; readonly code: 'no_such_group' }
  | { readonly ok: false; readonly code: 'not_creator'; readonly creator: string };

/**
 * `left` names the group the member left first, if any (the last one, in
 * the unusual case it was in several and joined without `keep`). `group` is the
 * group's name as shown (first created), present when the request spelled it
 * in another case (docs/usage.md "Names").
 */
export type JoinResult =
  | { readonly ok: true; readonly left: string | null; readonly group?: string }
  | { readonly ok: false; readonly code: 'no_such_group' };

export type LeaveResult =
  { readonly ok: true; readonly group: string } | { readonly ok: false; readonly code: 'not_in_group' };

/** A group message as the server accepted it. */
export interface NewGroupMessage {
  readonly from: string;
  readonly text: string;
  readonly at: number;
}

/** Which part of a history to read: the messages inside every bound given, then `limit` of them. */
export interface HistoryQuery {
  /** Only messages with a seq above this. */
  readonly after?: number;
  /** Only messages with a seq below this. */
  readonly before?: number;
  /** Only messages accepted after this time (ms since the epoch). */
  readonly afterAt?: number;
  /** Only messages accepted before this time (ms since the epoch). */
  readonly beforeAt?: number;
  /** At most this many: the newest of those, or with `oldest` the oldest. */
  readonly limit: number;
  readonly oldest?: boolean;
}

/** A saved private message (sealed: the store never holds its text) and the key of the account that sent it. */
export interface SavedMessage {
  readonly message: DmEnvelope;
  readonly senderKey: string;
}

export type SaveResult = 'saved' | 'mailbox_full' | 'unknown_client';

import type { ClientEntry } from '../protocol/frames';

/**
 * The server's state behind one asynchronous interface (docs/architecture.md,
 * "Store"). The server core never knows which implementation it has: the
 * in-memory one (here), and the database and cluster ones that sit behind
 * the same contract tests.
 *
 * Lock discipline, the contract every implementation keeps:
 * - Each method is ONE atomic step: no caller ever composes two calls that
 *   must be atomic together (a join that first leaves the old group is one
 *   `join`; going offline and leaving the group is one `disconnect`).
 * - The client table and the group table each have their own lock. A method
 *   that needs both takes the client table's first, then the group table's,
 *   and releases in reverse; no method waits for socket I/O or an ack while
 *   holding either. An implementation may hold its lock across its own
 *   persistence I/O (a database commit), which is what the lock is for.
 * - Reads (`clients`, `groups`, `membersOf`) see a state that some sequence
 *   of completed writes produced, never a half-done write.
 * - Every result says what changed, so the caller can push exactly that.
 * - Client and group names compare without regard to case; each is shown
 *   as it was first registered or created (docs/usage.md "Names").
 * test/property/store-interleaving.property.test.ts runs random concurrent
 * interleavings against these rules.
 */
export interface ChatStore {
  /** Puts `reg` online for `owner` (a connection token); refused while the name is online elsewhere. */
  register(reg: Registration, owner: Owner): Promise<RegisterResult>;
  /**
   * `name` goes offline if `owner` still holds it, and leaves its group in
   * the same step. Null when `owner` no longer held the name.
   */
  disconnect(name: string, owner: Owner): Promise<DisconnectResult | null>;
  /** Every client-table entry, in first-registration order (a snapshot). */
  clients(): Promise<readonly ClientEntry[]>;

  /** Creates an empty group within `quota`; groups live until the server stops. */
  createGroup(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult>;
  /** Group names in creation order (an immutable snapshot, the same array until the groups change). */
  groups(): Promise<readonly string[]>;
  /** Puts `member` in `group`, leaving its current group in the same step (at most one group). */
  join(member: string, group: string): Promise<JoinResult>;
  /** Takes `member` out of its group; with `onlyFrom`, only if that is still its group. */
  leave(member: string, onlyFrom?: string): Promise<LeaveResult>;
  /** Members of `group` in join order, or undefined if there is no such group. */
  membersOf(group: string): Promise<readonly string[] | undefined>;

  /** Releases what the store holds (files, connections). */
  close(): Promise<void>;
}

/** Who holds an online name: the connection that registered it. */
export type Owner = number;

/** What a client supplies when it registers. */
export interface Registration {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly key: string;
}

export type RegisterResult =
  | { readonly ok: true; readonly entry: ClientEntry }
  | { readonly ok: false; readonly code: 'name_in_use' };

export interface DisconnectResult {
  /** The entry as it is now (offline). */
  readonly entry: ClientEntry;
  /** The group the client was taken out of, or null. */
  readonly leftGroup: string | null;
}

/** How many groups there may be, in all and per creator (docs/protocol.md limits). */
export interface GroupQuota {
  readonly maxGroups: number;
  readonly maxPerCreator: number;
}

export type CreateGroupResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'group_exists' | 'too_many_groups' | 'group_quota' };

/**
 * `left` names the group the member left first, if any. `group` is the
 * group's name as shown (first created), present when the request spelled it
 * in another case (docs/usage.md "Names").
 */
export type JoinResult =
  | { readonly ok: true; readonly left: string | null; readonly group?: string }
  | { readonly ok: false; readonly code: 'no_such_group' };

export type LeaveResult =
  | { readonly ok: true; readonly group: string }
  | { readonly ok: false; readonly code: 'not_in_group' };

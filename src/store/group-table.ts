import { Mutex } from 'async-mutex';
import { foldName } from '../protocol/names';
import type { CreateGroupResult, GroupQuota, JoinResult, LeaveResult } from './chat-store';

/** A change the group table made, handed to its persistence hook inside the critical section. */
export type GroupChange =
  | { readonly kind: 'created'; readonly group: string; readonly creator: string }
  | { readonly kind: 'joined'; readonly member: string; readonly group: string }
  | { readonly kind: 'left'; readonly member: string; readonly group: string };

/** One group: its name as first created, and its members (join order, copy-on-write). */
interface GroupEntry {
  readonly name: string;
  readonly members: readonly string[];
}

/**
 * The group table (docs/architecture.md "Store"): group → members (join
 * order) beside member → group, both updated in the same critical section,
 * so a client is in at most one group by construction. Member arrays are
 * copy-on-write: a snapshot handed out is never mutated. As in ClientTable,
 * each verb decides, waits for `persist`, then applies, under its mutex.
 * Lock order: the client table before this one; never held across socket I/O.
 *
 * Group and member names compare without regard to case (docs/usage.md
 * "Names"): the maps are keyed by folded names, and a group is shown as it
 * was first created.
 */
export class GroupTable {
  private readonly mutex = new Mutex();
  /** Folded group name → the group. */
  private readonly groups = new Map<string, GroupEntry>();
  /** Folded member name → folded group name. */
  private readonly memberGroup = new Map<string, string>();
  /** Groups created per folded creator name, for the quota. */
  private readonly created = new Map<string, number>();
  /** The group names as handed out, until the next create (so listings can reuse their encoding). */
  private names: readonly string[] | null = null;

  constructor(private readonly persist: (change: GroupChange) => Promise<void> = async () => undefined) {}

  /** Creates an empty group within `quota`; groups live until the server stops. */
  create(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult> {
    return this.mutex.runExclusive(async (): Promise<CreateGroupResult> => {
      const key = foldName(group);
      if (this.groups.has(key)) return { ok: false, code: 'group_exists' }; // any case
      const mine = this.created.get(foldName(creator)) ?? 0;
      if (quota && this.groups.size >= quota.maxGroups) return { ok: false, code: 'too_many_groups' };
      if (quota && mine >= quota.maxPerCreator) return { ok: false, code: 'group_quota' };
      await this.persist({ kind: 'created', group, creator });
      this.groups.set(key, { name: group, members: Object.freeze([]) });
      this.created.set(foldName(creator), mine + 1);
      this.names = null;
      return { ok: true };
    });
  }

  /**
   * Puts `member` in `group`, leaving its current group first (at most one
   * group). The result names the group as shown when `group` spelled it
   * another way.
   */
  join(member: string, group: string): Promise<JoinResult> {
    return this.mutex.runExclusive(async (): Promise<JoinResult> => {
      const key = foldName(group);
      const target = this.groups.get(key);
      if (target === undefined) return { ok: false, code: 'no_such_group' };
      const shown = target.name === group ? {} : { group: target.name };
      const current = this.memberGroup.get(foldName(member));
      if (current === key) return { ok: true, left: null, ...shown };
      const left = current === undefined ? null : await this.remove(member, current);
      await this.persist({ kind: 'joined', member, group: target.name });
      const now = this.groups.get(key) ?? target;
      this.groups.set(key, { name: now.name, members: Object.freeze([...now.members, member]) });
      this.memberGroup.set(foldName(member), key);
      return { ok: true, left, ...shown };
    });
  }

  /** Takes `member` out of its group; with `onlyFrom`, only if that is still its group. */
  leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    return this.mutex.runExclusive(async (): Promise<LeaveResult> => {
      const current = this.memberGroup.get(foldName(member));
      if (current === undefined || (onlyFrom !== undefined && current !== foldName(onlyFrom))) {
        return { ok: false, code: 'not_in_group' };
      }
      return { ok: true, group: await this.remove(member, current) };
    });
  }

  /** Group names as shown, in creation order: the same frozen array until a group is created. */
  groupNames(): readonly string[] {
    this.names ??= Object.freeze([...this.groups.values()].map((g) => g.name));
    return this.names;
  }

  /** Members of `group` (any case) in join order (an immutable snapshot), or undefined if no such group. */
  membersOf(group: string): readonly string[] | undefined {
    return this.groups.get(foldName(group))?.members;
  }

  /** The group `member` is in, as shown, if any. */
  groupOf(member: string): string | undefined {
    const key = this.memberGroup.get(foldName(member));
    return key === undefined ? undefined : this.groups.get(key)?.name;
  }

  /** Both indexes, updated together; callers hold the mutex. Returns the group's name as shown. */
  private async remove(member: string, key: string): Promise<string> {
    const entry = this.groups.get(key);
    const name = entry?.name ?? key;
    await this.persist({ kind: 'left', member, group: name });
    const folded = foldName(member);
    if (entry) this.groups.set(key, { name, members: Object.freeze(entry.members.filter((m) => foldName(m) !== folded)) });
    this.memberGroup.delete(folded);
    return name;
  }
}

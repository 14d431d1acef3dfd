import { Mutex } from 'async-mutex';
import { foldName } from '../protocol/names';
import type { CreateGroupResult, DeleteGroupResult, GroupQuota, JoinResult, LeaveResult } from './chat-store';

/** A group as it survives a restart: its name, who created it and when. */
export interface GroupRecord {
  readonly name: string;
  readonly creator: string;
  readonly createdAt: number;
}

/** A change the group table made, handed to its persistence hook inside the critical section. */
export type GroupChange =
  | { readonly kind: 'created'; readonly group: GroupRecord }
  | { readonly kind: 'deleted'; readonly group: string }
  | { readonly kind: 'joined'; readonly member: string; readonly group: string }
  | { readonly kind: 'left'; readonly member: string; readonly group: string };

/**
 * The group table (docs/architecture.md "Store"): the groups (durable, with
 * creator and creation time) and who is in them — group → members (join
 * order) beside member → group, both updated in the same critical section.
 * A member is in at most one group unless it joins with `keep` (a relay
 * session such as an IRC connection, docs/architecture.md "Membership"). Member arrays are
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
  /** Folded group name → its record (the name as shown). */
  private readonly records = new Map<string, GroupRecord>();
  /** Folded group name → members, as they registered, in join order. */
  private readonly members = new Map<string, readonly string[]>();
  /** Folded member name → folded group names, in join order (one, unless it joined with `keep`). */
  private readonly memberGroups = new Map<string, readonly string[]>();
  /** Groups created per folded creator name, for the quota. */
  private readonly created = new Map<string, number>();
  /** The group names as handed out, until the groups change (so listings can reuse their encoding). */
  private names: readonly string[] | null = null;

  constructor(
    private readonly persist: (change: GroupChange) => Promise<void> = async () => undefined,
    private readonly now: () => number = Date.now,
    groups: Iterable<GroupRecord> = [],
  ) {
    for (const record of groups) this.add(record);
  }

  /** Creates an empty group within `quota`; groups live until deleted. */
  create(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult> {
    return this.mutex.runExclusive(async (): Promise<CreateGroupResult> => {
      if (this.records.has(foldName(group))) return { ok: false, code: 'group_exists' }; // any case
      if (quota && this.records.size >= quota.maxGroups) return { ok: false, code: 'too_many_groups' };
      if (quota && (this.created.get(foldName(creator)) ?? 0) >= quota.maxPerCreator)
        return { ok: false, code: 'group_quota' };
      const record: GroupRecord = { name: group, creator, createdAt: this.now() };
      await this.persist({ kind: 'created', group: record });
      this.add(record);
      return { ok: true };
    });
  }

  /** Deletes `group` if `by` created it; its members are out of it. */
  delete(group: string, by: string): Promise<DeleteGroupResult> {
    return this.mutex.runExclusive(async (): Promise<DeleteGroupResult> => {
      const key = foldName(group);
      const record = this.records.get(key);
      if (record === undefined) return { ok: false, code: 'no_such_group' };
      if (foldName(record.creator) !== foldName(by)) return { ok: false, code: 'not_creator', creator: record.creator };
      await this.persist({ kind: 'deleted', group: record.name });
      const members = this.members.get(key) ?? [];
      for (const member of members) this.unlink(foldName(member), key);
      this.records.delete(key);
      this.members.delete(key);
      const creator = foldName(record.creator);
      this.created.set(creator, (this.created.get(creator) ?? 1) - 1);
      this.names = null;
      return { ok: true, members };
    });
  }

  /**
   * Puts `member` in `group`, leaving its current groups first — unless
   * `keep`, which adds `group` to those it is in. The result names the group
   * as shown when `group` spelled it another way.
   */
  join(member: string, group: string, keep = false): Promise<JoinResult> {
    return this.mutex.runExclusive(async (): Promise<JoinResult> => {
      const key = foldName(group);
      const record = this.records.get(key);
      if (record === undefined) return { ok: false, code: 'no_such_group' };
      const shown = record.name === group ? {} : { group: record.name };
      const current = this.memberGroups.get(foldName(member)) ?? [];
      if (current.includes(key)) return { ok: true, left: null, ...shown };
      let left: string | null = null;
      if (!keep) for (const other of current) left = await this.remove(member, other);
      await this.persist({ kind: 'joined', member, group: record.name });
      this.members.set(key, Object.freeze([...(this.members.get(key) ?? []), member]));
      this.memberGroups.set(foldName(member), [...(this.memberGroups.get(foldName(member)) ?? []), key]);
      return { ok: true, left, ...shown };
    });
  }

  /** Takes `member` out of `onlyFrom` if it is in it; without `onlyFrom`, out of its first group. */
  leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    return this.mutex.runExclusive(async (): Promise<LeaveResult> => {
      const current = this.memberGroups.get(foldName(member)) ?? [];
      const key = onlyFrom === undefined ? current[0] : foldName(onlyFrom);
      if (key === undefined || !current.includes(key)) return { ok: false, code: 'not_in_group' };
      return { ok: true, group: await this.remove(member, key) };
    });
  }

  /** Takes `member` out of every group it is in; the groups as shown, in join order. */
  leaveAll(member: string): Promise<readonly string[]> {
    return this.mutex.runExclusive(async (): Promise<readonly string[]> => {
      const left: string[] = [];
      for (const key of this.memberGroups.get(foldName(member)) ?? []) left.push(await this.remove(member, key));
      return left;
    });
  }

  /** Group names as shown, in creation order: the same frozen array until a group is created or deleted. */
  groupNames(): readonly string[] {
    this.names ??= Object.freeze([...this.records.values()].map((r) => r.name));
    return this.names;
  }

  /** The record (name as shown, creator, creation time) of `group` in any case, if it exists. */
  record(group: string): GroupRecord | undefined {
    return this.records.get(foldName(group));
  }

  /** Members of `group` (any case) in join order (an immutable snapshot), or undefined if no such group. */
  membersOf(group: string): readonly string[] | undefined {
    return this.members.get(foldName(group));
  }

  /** The (first) group `member` is in, as shown, if any. */
  groupOf(member: string): string | undefined {
    return this.groupsOf(member)[0];
  }

  /** The groups `member` is in, as shown, in join order. */
  groupsOf(member: string): readonly string[] {
    return (this.memberGroups.get(foldName(member)) ?? []).map((key) => this.records.get(key)?.name ?? key);
  }

  private add(record: GroupRecord): void {
    const key = foldName(record.name);
    this.records.set(key, record);
    this.members.set(key, Object.freeze([]));
    const creator = foldName(record.creator);
    this.created.set(creator, (this.created.get(creator) ?? 0) + 1);
    this.names = null;
  }

  /** Both indexes, updated together; callers hold the mutex. Returns the group's name as shown. */
  private async remove(member: string, key: string): Promise<string> {
    const name = this.records.get(key)?.name ?? key;
    await this.persist({ kind: 'left', member, group: name });
    const folded = foldName(member);
    const list = this.members.get(key);
    if (list) this.members.set(key, Object.freeze(list.filter((m) => foldName(m) !== folded)));
    this.unlink(folded, key);
    return name;
  }

  /** Drops `key` from the groups of the folded member. */
  private unlink(folded: string, key: string): void {
    const rest = (this.memberGroups.get(folded) ?? []).filter((g) => g !== key);
    if (rest.length === 0) this.memberGroups.delete(folded);
    else this.memberGroups.set(folded, rest);
  }
}

import { Mutex } from 'async-mutex';
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
 * order) beside member → group, both updated in the same critical section,
 * so a client is in at most one group by construction. Member arrays are
 * copy-on-write: a snapshot handed out is never mutated. As in ClientTable,
 * each verb decides, waits for `persist`, then applies, under its mutex.
 * Lock order: the client table before this one; never held across socket I/O.
 */
export class GroupTable {
  private readonly mutex = new Mutex();
  private readonly records = new Map<string, GroupRecord>();
  private readonly members = new Map<string, readonly string[]>();
  private readonly memberGroup = new Map<string, string>();
  /** Groups created per creator name, for the quota. */
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
      if (this.records.has(group)) return { ok: false, code: 'group_exists' };
      if (quota && this.records.size >= quota.maxGroups) return { ok: false, code: 'too_many_groups' };
      if (quota && (this.created.get(creator) ?? 0) >= quota.maxPerCreator) return { ok: false, code: 'group_quota' };
      const record: GroupRecord = { name: group, creator, createdAt: this.now() };
      await this.persist({ kind: 'created', group: record });
      this.add(record);
      return { ok: true };
    });
  }

  /** Deletes `group` if `by` created it; its members are out of it. */
  delete(group: string, by: string): Promise<DeleteGroupResult> {
    return this.mutex.runExclusive(async (): Promise<DeleteGroupResult> => {
      const record = this.records.get(group);
      if (record === undefined) return { ok: false, code: 'no_such_group' };
      if (record.creator !== by) return { ok: false, code: 'not_creator', creator: record.creator };
      await this.persist({ kind: 'deleted', group });
      const members = this.members.get(group) ?? [];
      for (const member of members) this.memberGroup.delete(member);
      this.records.delete(group);
      this.members.delete(group);
      this.created.set(record.creator, (this.created.get(record.creator) ?? 1) - 1);
      this.names = null;
      return { ok: true, members };
    });
  }

  /** Puts `member` in `group`, leaving its current group first (at most one group). */
  join(member: string, group: string): Promise<JoinResult> {
    return this.mutex.runExclusive(async (): Promise<JoinResult> => {
      if (!this.members.has(group)) return { ok: false, code: 'no_such_group' };
      const current = this.memberGroup.get(member);
      if (current === group) return { ok: true, left: null };
      if (current !== undefined) await this.remove(member, current);
      await this.persist({ kind: 'joined', member, group });
      this.members.set(group, Object.freeze([...(this.members.get(group) ?? []), member]));
      this.memberGroup.set(member, group);
      return { ok: true, left: current ?? null };
    });
  }

  /** Takes `member` out of its group; with `onlyFrom`, only if that is still its group. */
  leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    return this.mutex.runExclusive(async (): Promise<LeaveResult> => {
      const current = this.memberGroup.get(member);
      if (current === undefined || (onlyFrom !== undefined && current !== onlyFrom)) {
        return { ok: false, code: 'not_in_group' };
      }
      await this.remove(member, current);
      return { ok: true, group: current };
    });
  }

  /** Group names in creation order: the same frozen array until a group is created or deleted. */
  groupNames(): readonly string[] {
    this.names ??= Object.freeze([...this.records.keys()]);
    return this.names;
  }

  /** The group's record (creator, creation time), if it exists. */
  record(group: string): GroupRecord | undefined {
    return this.records.get(group);
  }

  /** Members of `group` in join order (an immutable snapshot), or undefined if no such group. */
  membersOf(group: string): readonly string[] | undefined {
    return this.members.get(group);
  }

  /** The group `member` is in, if any. */
  groupOf(member: string): string | undefined {
    return this.memberGroup.get(member);
  }

  private add(record: GroupRecord): void {
    this.records.set(record.name, record);
    this.members.set(record.name, Object.freeze([]));
    this.created.set(record.creator, (this.created.get(record.creator) ?? 0) + 1);
    this.names = null;
  }

  /** Both indexes, updated together; callers hold the mutex. */
  private async remove(member: string, group: string): Promise<void> {
    await this.persist({ kind: 'left', member, group });
    const list = this.members.get(group);
    if (list) this.members.set(group, Object.freeze(list.filter((m) => m !== member)));
    this.memberGroup.delete(member);
  }
}

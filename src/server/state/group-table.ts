import { Mutex } from 'async-mutex';

/** Result of `GroupTable.join`. `left` names the group the member left first, if any. */
export type JoinResult =
  | { readonly ok: true; readonly left: string | null }
  | { readonly ok: false; readonly code: 'no_such_group' };

/** Result of `GroupTable.leave`. */
export type LeaveResult =
  | { readonly ok: true; readonly group: string }
  | { readonly ok: false; readonly code: 'not_in_group' };

/**
 * SPEC §4 group table: group → members (join order) beside member → group,
 * both updated in the same critical section, so a client is in at most one
 * group by construction. Member arrays are copy-on-write: a snapshot handed
 * out is never mutated, so the send_group hot path reads membership without a
 * mutex round trip. Lock order: client table before group table (see
 * client-table.ts); never hold this lock across I/O.
 */
export class GroupTable {
  private readonly mutex = new Mutex();
  private readonly members = new Map<string, readonly string[]>();
  private readonly memberGroup = new Map<string, string>();

  /** Creates an empty group; groups live until the server stops (SPEC §4). */
  create(group: string): Promise<{ readonly ok: true } | { readonly ok: false; readonly code: 'group_exists' }> {
    return this.mutex.runExclusive(() => {
      if (this.members.has(group)) return { ok: false, code: 'group_exists' } as const;
      this.members.set(group, []);
      return { ok: true } as const;
    });
  }

  /** Puts `member` in `group`, leaving its current group first (SPEC §4: at most one group). */
  join(member: string, group: string): Promise<JoinResult> {
    return this.mutex.runExclusive((): JoinResult => {
      const target = this.members.get(group);
      if (!target) return { ok: false, code: 'no_such_group' };
      const current = this.memberGroup.get(member);
      if (current === group) return { ok: true, left: null };
      if (current !== undefined) this.remove(member, current);
      this.members.set(group, [...target, member]);
      this.memberGroup.set(member, group);
      return { ok: true, left: current ?? null };
    });
  }

  /** Takes `member` out of its group; with `onlyFrom`, only if that is still its group. */
  leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    return this.mutex.runExclusive((): LeaveResult => {
      const current = this.memberGroup.get(member);
      if (current === undefined || (onlyFrom !== undefined && current !== onlyFrom)) {
        return { ok: false, code: 'not_in_group' };
      }
      this.remove(member, current);
      return { ok: true, group: current };
    });
  }

  /** Group names in creation order. */
  groupNames(): readonly string[] {
    return [...this.members.keys()];
  }

  /** Members of `group` in join order (an immutable snapshot), or undefined if no such group. */
  membersOf(group: string): readonly string[] | undefined {
    return this.members.get(group);
  }

  /** The group `member` is in, if any. */
  groupOf(member: string): string | undefined {
    return this.memberGroup.get(member);
  }

  /** Both indexes, updated together; callers hold the mutex. */
  private remove(member: string, group: string): void {
    const list = this.members.get(group);
    if (list) this.members.set(group, list.filter((m) => m !== member));
    this.memberGroup.delete(member);
  }
}

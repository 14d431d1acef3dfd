import { GroupTable } from '../../src/store/group-table';

/** Every member listed in a group has that group as its group, and vice versa. */
function expectConsistent(table: GroupTable, members: readonly string[]): void {
  for (const group of table.groupNames()) {
    for (const m of table.membersOf(group) ?? []) expect(table.groupOf(m)).toBe(group);
  }
  for (const m of members) {
    const group = table.groupOf(m);
    const listed = table.groupNames().filter((g) => table.membersOf(g)?.includes(m));
    expect(listed).toEqual(group === undefined ? [] : [group]);
  }
}

describe('GroupTable', () => {
  it('creates groups once and lists them in creation order', async () => {
    const table = new GroupTable();
    expect(await table.create('b', 'alice')).toEqual({ ok: true });
    expect(await table.create('a', 'alice')).toEqual({ ok: true });
    expect(await table.create('b', 'alice')).toEqual({ ok: false, code: 'group_exists' });
    expect(table.groupNames()).toEqual(['b', 'a']);
  });

  it('ten racing create_group of the same name: exactly one wins', async () => {
    const table = new GroupTable();
    const results = await Promise.all(Array.from({ length: 10 }, () => table.create('room', 'alice')));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.code === 'group_exists')).toHaveLength(9);
  });

  it('joining a missing group fails with no_such_group', async () => {
    const table = new GroupTable();
    expect(await table.join('alice', 'nope')).toEqual({ ok: false, code: 'no_such_group' });
    expect(table.groupOf('alice')).toBeUndefined();
  });

  it('lists members in join order, and joining another group leaves the first', async () => {
    const table = new GroupTable();
    await table.create('g1', 'alice');
    await table.create('g2', 'alice');
    await table.join('bob', 'g1');
    await table.join('alice', 'g1');
    expect(table.membersOf('g1')).toEqual(['bob', 'alice']);
    expect(await table.join('bob', 'g2')).toEqual({ ok: true, left: 'g1' });
    expect(table.membersOf('g1')).toEqual(['alice']);
    expect(table.membersOf('g2')).toEqual(['bob']);
    expect(table.groupOf('bob')).toBe('g2');
  });

  it('leave reports not_in_group, and onlyFrom guards against a group changed meanwhile', async () => {
    const table = new GroupTable();
    await table.create('g1', 'alice');
    await table.create('g2', 'alice');
    expect(await table.leave('alice')).toEqual({ ok: false, code: 'not_in_group' });
    await table.join('alice', 'g2');
    expect(await table.leave('alice', 'g1')).toEqual({ ok: false, code: 'not_in_group' });
    expect(await table.leave('alice')).toEqual({ ok: true, group: 'g2' });
    expect(table.membersOf('g2')).toEqual([]);
    expect(table.groupNames()).toEqual(['g1', 'g2']); // groups outlive their members
  });

  it('member snapshots are copy-on-write: a snapshot handed out never changes', async () => {
    const table = new GroupTable();
    await table.create('g', 'alice');
    await table.join('a', 'g');
    const before = table.membersOf('g');
    await table.join('b', 'g');
    expect(before).toEqual(['a']);
    expect(table.membersOf('g')).toEqual(['a', 'b']);
  });

  it('many concurrent joins and leaves keep every member in at most one group', async () => {
    const table = new GroupTable();
    const groups = ['g0', 'g1', 'g2', 'g3'];
    await Promise.all(groups.map((g) => table.create(g, 'alice')));
    const members = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const ops: Promise<unknown>[] = [];
    for (let round = 0; round < 5; round++) {
      members.forEach((m, i) => {
        ops.push(table.join(m, groups[(i + round) % groups.length]!));
        if ((i + round) % 3 === 0) ops.push(table.leave(m));
      });
    }
    await Promise.all(ops);
    expectConsistent(table, members);
    const total = groups.reduce((n, g) => n + (table.membersOf(g)?.length ?? 0), 0);
    expect(total).toBe(members.filter((m) => table.groupOf(m) !== undefined).length);
  });
});

describe('GroupTable quotas and snapshots', () => {
  const quota = { maxGroups: 3, maxPerCreator: 2 };

  it('refuses a group past the per-creator quota, then past the total', async () => {
    const table = new GroupTable();
    expect(await table.create('a1', 'ann', quota)).toEqual({ ok: true });
    expect(await table.create('a2', 'ann', quota)).toEqual({ ok: true });
    expect(await table.create('a3', 'ann', quota)).toEqual({ ok: false, code: 'group_quota' });
    expect(await table.create('b1', 'bob', quota)).toEqual({ ok: true });
    expect(await table.create('b2', 'bob', quota)).toEqual({ ok: false, code: 'too_many_groups' });
    expect(await table.create('a1', 'bob', quota)).toEqual({ ok: false, code: 'group_exists' });
    expect(table.groupNames()).toEqual(['a1', 'a2', 'b1']);
  });

  it('hands out the same frozen names array until a group is created (listings reuse its encoding)', async () => {
    const table = new GroupTable();
    await table.create('a', 'ann');
    const first = table.groupNames();
    expect(Object.isFrozen(first)).toBe(true);
    await table.join('ann', 'a');
    expect(table.groupNames()).toBe(first);
    await table.create('b', 'ann');
    expect(table.groupNames()).not.toBe(first);
    expect(first).toEqual(['a']);
  });
});

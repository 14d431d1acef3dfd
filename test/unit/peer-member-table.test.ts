import { instanceWins, MemberTable, type AdmitResult, type MemberInfo } from '../../src/peer/member-table';

/** A stand-in for a link: which pair it joins and who opened it. */
interface FakeLink {
  readonly id: string;
}

const info = (name: string, instance: string, port = 1): MemberInfo => ({ name, instance, host: '127.0.0.1', port });

describe('MemberTable', () => {
  it('adds a new member and lists members sorted by name', () => {
    const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
    expect(table.admit(info('zoe', 'i-zoe'), { id: 'z' }, 'zoe', false).kind).toBe('added');
    expect(table.admit(info('alice', 'i-alice'), { id: 'a' }, 'bob', false).kind).toBe('added');
    expect(table.list().map((m) => m.name)).toEqual(['alice', 'zoe']);
    expect(table.size).toBe(2);
  });

  it('removes a member only through its current link', () => {
    const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
    const current = { id: 'current' };
    table.admit(info('alice', 'i-alice'), current, 'alice', false);
    expect(table.remove('alice', { id: 'stale' })).toBeUndefined();
    expect(table.remove('alice', current)?.name).toBe('alice');
    expect(table.get('alice')).toBeUndefined();
  });

  it('recognises a link back to itself', () => {
    const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
    expect(table.admit(info('bob', 'i-bob'), { id: 'x' }, 'bob', false).kind).toBe('self');
    expect(table.size).toBe(0);
  });

  it('refuses a new member once it holds its maximum, but still takes a second link to a held one', () => {
    const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' }, 2);
    expect(table.admit(info('ann', 'i-ann'), { id: 'a' }, 'ann', false).kind).toBe('added');
    expect(table.admit(info('cat', 'i-cat'), { id: 'c' }, 'cat', false).kind).toBe('added');
    expect(table.admit(info('dan', 'i-dan'), { id: 'd' }, 'dan', false)).toEqual({ kind: 'full' });
    expect(table.admit(info('cat', 'i-cat'), { id: 'c2' }, 'bob', false).kind).toBe('tie');
    expect(table.size).toBe(2);
  });

  describe('ties (two links between the same pair)', () => {
    // alice < dave: both ends keep the link alice opened, and only alice closes the other.
    const fromAlice = { id: 'alice->dave' };
    const fromDave = { id: 'dave->alice' };
    const orders: Array<[string, FakeLink[]]> = [
      ['alice-opened first', [fromAlice, fromDave]],
      ['dave-opened first', [fromDave, fromAlice]],
    ];

    it.each(orders)('both ends keep the link opened by the smaller name (%s)', (_label, order) => {
      const atAlice = new MemberTable<FakeLink>({ name: 'alice', instance: 'i-alice' });
      const atDave = new MemberTable<FakeLink>({ name: 'dave', instance: 'i-dave' });
      const initiator = (l: FakeLink): string => (l === fromAlice ? 'alice' : 'dave');
      const results: Array<AdmitResult<FakeLink>> = [];
      for (const link of order) {
        atAlice.admit(info('dave', 'i-dave'), link, initiator(link), false);
        results.push(atDave.admit(info('alice', 'i-alice'), link, initiator(link), false));
      }
      expect(atAlice.get('dave')?.link).toBe(fromAlice);
      expect(atDave.get('alice')?.link).toBe(fromAlice);
      expect(results[1]).toEqual({ kind: 'tie', drop: fromDave, close: false });
    });

    it('tells only the smaller name to close the dropped link', () => {
      const atAlice = new MemberTable<FakeLink>({ name: 'alice', instance: 'i-alice' });
      atAlice.admit(info('dave', 'i-dave'), fromDave, 'dave', false);
      expect(atAlice.admit(info('dave', 'i-dave'), fromAlice, 'alice', false)).toEqual({
        kind: 'tie',
        drop: fromDave,
        close: true,
      });
    });
  });

  describe('name conflicts (same name, different process)', () => {
    it('an established member keeps its name whatever instance id a newcomer claims', () => {
      const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
      const holder = { id: 'holder' };
      table.admit(info('carol', 'i-5'), holder, 'carol', false);
      expect(table.admit(info('carol', 'i-0'), { id: 'thief' }, 'carol', false)).toEqual({ kind: 'refused' });
      expect(table.get('carol')?.link).toBe(holder);
    });

    it('between two processes still joining, the smaller instance id wins', () => {
      expect(instanceWins('0190-a', '0190-b')).toBe(true);
      const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
      const older = { id: 'older' };
      const newer = { id: 'newer' };
      table.admit(info('carol', 'i-2'), newer, 'carol', true);
      expect(table.admit(info('carol', 'i-3'), { id: 'late' }, 'carol', true)).toEqual({ kind: 'refused' });
      expect(table.admit(info('carol', 'i-1'), older, 'carol', true)).toEqual({ kind: 'replaced', drop: newer });
      expect(table.get('carol')?.link).toBe(older);
    });

    it('a member that sent joined can no longer be contested', () => {
      const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
      table.admit(info('carol', 'i-2'), { id: 'c' }, 'carol', true);
      expect(table.markJoined('carol', 'i-other')).toBe(false);
      expect(table.markJoined('carol', 'i-2')).toBe(true);
      expect(table.markJoined('carol', 'i-2')).toBe(false);
      expect(table.admit(info('carol', 'i-1'), { id: 'x' }, 'carol', true)).toEqual({ kind: 'refused' });
    });

    it('gives way to an earlier process using our name only while we are joining', () => {
      const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-5' });
      expect(table.admit(info('bob', 'i-9'), { id: 'x' }, 'bob', true).kind).toBe('refused');
      expect(table.admit(info('bob', 'i-1'), { id: 'y' }, 'bob', true).kind).toBe('self_loses');
      table.selfJoined();
      expect(table.admit(info('bob', 'i-0'), { id: 'z' }, 'bob', true).kind).toBe('refused');
      expect(table.size).toBe(0);
    });
  });

  it('dials gossiped members it lacks, never itself or the member already linked', () => {
    const table = new MemberTable<FakeLink>({ name: 'bob', instance: 'i-bob' });
    table.admit(info('alice', 'i-alice'), { id: 'a' }, 'alice', false);
    expect(table.shouldDial({ name: 'bob', instance: 'i-bob' })).toBe(false);
    expect(table.shouldDial({ name: 'alice', instance: 'i-alice' })).toBe(false);
    expect(table.shouldDial({ name: 'carol', instance: 'i-carol' })).toBe(true);
    // A different process under a known name (or ours) is dialled so the conflict is settled against it.
    expect(table.shouldDial({ name: 'alice', instance: 'i-other' })).toBe(true);
    expect(table.shouldDial({ name: 'bob', instance: 'i-other' })).toBe(true);
  });
});

import type { ChatStore } from '../../src/store/chat-store';

const KEY = Buffer.alloc(32, 5).toString('base64');
const reg = (name: string, port = 5000, host = '127.0.0.1') => ({ name, host, port, key: KEY });

/**
 * The behaviour every ChatStore implementation must have (docs/architecture.md
 * "Store"). Each implementation's test file calls this with a factory that
 * makes a fresh, empty store; `reopen`, when given, closes it and opens the
 * same state again (durable stores).
 */
export function describeStoreContract(label: string, open: () => Promise<ChatStore>): void {
  describe(`ChatStore contract: ${label}`, () => {
    let store: ChatStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('registers a name once while it is online; another owner gets name_in_use', async () => {
      expect(await store.register(reg('alice'), 1)).toMatchObject({ ok: true, entry: { name: 'alice', online: true } });
      expect(await store.register(reg('alice', 6000), 2)).toEqual({ ok: false, code: 'name_in_use' });
      expect((await store.clients()).map((c) => [c.name, c.port, c.online])).toEqual([['alice', 5000, true]]);
    });

    it('disconnect takes the name offline and out of its group in one step, only for its owner', async () => {
      await store.register(reg('alice'), 1);
      await store.createGroup('g', 'alice');
      await store.join('alice', 'g');
      expect(await store.disconnect('alice', 2)).toBeNull();
      expect(await store.disconnect('alice', 1)).toMatchObject({ entry: { name: 'alice', online: false }, leftGroup: 'g' });
      expect(await store.membersOf('g')).toEqual([]);
      expect(await store.disconnect('alice', 1)).toBeNull();
    });

    it('an offline name registers again from another address, keeping its place in the table', async () => {
      await store.register(reg('alice'), 1);
      await store.register(reg('bob'), 2);
      await store.disconnect('alice', 1);
      expect(await store.register(reg('alice', 7000, '10.0.0.2'), 3)).toMatchObject({ ok: true, entry: { port: 7000 } });
      expect((await store.clients()).map((c) => c.name)).toEqual(['alice', 'bob']);
    });

    it('groups: created once, listed in creation order, joined one at a time, left', async () => {
      expect(await store.createGroup('b', 'alice')).toEqual({ ok: true });
      expect(await store.createGroup('a', 'alice')).toEqual({ ok: true });
      expect(await store.createGroup('b', 'bob')).toEqual({ ok: false, code: 'group_exists' });
      expect(await store.groups()).toEqual(['b', 'a']);
      expect(await store.join('x', 'nope')).toEqual({ ok: false, code: 'no_such_group' });
      expect(await store.join('x', 'b')).toEqual({ ok: true, left: null });
      expect(await store.join('y', 'b')).toEqual({ ok: true, left: null });
      expect(await store.join('x', 'a')).toEqual({ ok: true, left: 'b' });
      expect(await store.membersOf('b')).toEqual(['y']);
      expect(await store.leave('x', 'b')).toEqual({ ok: false, code: 'not_in_group' });
      expect(await store.leave('x')).toEqual({ ok: true, group: 'a' });
      expect(await store.leave('x')).toEqual({ ok: false, code: 'not_in_group' });
      expect(await store.membersOf('nope')).toBeUndefined();
    });

    it('names compare without case: Alice is alice while online, and an offline name keeps its first spelling', async () => {
      await store.register(reg('alice'), 1);
      expect(await store.register(reg('Alice', 6000), 2)).toEqual({ ok: false, code: 'name_in_use' });
      expect(await store.disconnect('ALICE', 1)).toMatchObject({ entry: { name: 'alice', online: false } });
      expect(await store.register(reg('ALICE', 7000), 3)).toMatchObject({ ok: true, entry: { name: 'alice', port: 7000 } });
      expect((await store.clients()).map((c) => [c.name, c.port, c.online])).toEqual([['alice', 7000, true]]);
    });

    it('group names compare without case and are shown as first created; members likewise', async () => {
      expect(await store.createGroup('RoomA', 'alice')).toEqual({ ok: true });
      expect(await store.createGroup('rooma', 'bob')).toEqual({ ok: false, code: 'group_exists' });
      expect(await store.groups()).toEqual(['RoomA']);
      expect(await store.join('alice', 'ROOMA')).toEqual({ ok: true, left: null, group: 'RoomA' });
      expect(await store.join('bob', 'RoomA')).toEqual({ ok: true, left: null });
      expect(await store.join('ALICE', 'rooma')).toEqual({ ok: true, left: null, group: 'RoomA' });
      expect(await store.membersOf('roomA')).toEqual(['alice', 'bob']);
      expect(await store.leave('Bob', 'ROOMA')).toEqual({ ok: true, group: 'RoomA' });
      expect(await store.membersOf('RoomA')).toEqual(['alice']);
    });

    it('the group quota counts a creator under any spelling of its name', async () => {
      const quota = { maxGroups: 10, maxPerCreator: 1 };
      expect(await store.createGroup('a', 'alice', quota)).toEqual({ ok: true });
      expect(await store.createGroup('b', 'ALICE', quota)).toEqual({ ok: false, code: 'group_quota' });
    });

    it('ten racing registrations of one name: exactly one wins', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.register(reg('bob', 5000 + i), i)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
    });

    it('racing registrations of one name in different cases: exactly one wins', async () => {
      const spellings = ['bob', 'Bob', 'BOB', 'bOb'];
      const results = await Promise.all(spellings.map((name, i) => store.register(reg(name, 5000 + i), i)));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect(await store.clients()).toHaveLength(1);
    });
  });
}

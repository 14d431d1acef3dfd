import type { ChatStore, HistoryQuery } from '../../src/store/chat-store';
import type { DmEnvelope } from '../../src/protocol/dm-envelope';

const KEY = Buffer.alloc(32, 5).toString('base64');
const OTHER_KEY = Buffer.alloc(32, 6).toString('base64');
const SIG = Buffer.alloc(64, 7).toString('base64');
/** Published X25519 keys and their signatures: the store keeps them as given (the server verified them). */
const EKEY = Buffer.alloc(32, 10).toString('base64');
const OTHER_EKEY = Buffer.alloc(32, 11).toString('base64');
const OTHER_SIG = Buffer.alloc(64, 12).toString('base64');
const reg = (name: string, port = 5000, host = '127.0.0.1', key = KEY) => ({ name, host, port, key });
const EPK = Buffer.alloc(32, 8).toString('base64');
const IV = Buffer.alloc(12, 9).toString('base64');
/** A sealed message as the store sees it: opaque fields it keeps as they are (`ct` stands for the text). */
const msg = (id: string, from: string, to: string, text = `text ${id}`): DmEnvelope => ({
  id,
  from,
  to,
  ts: 1000,
  epk: EPK,
  iv: IV,
  ct: Buffer.from(text.padEnd(16, '.')).toString('base64'),
  sig: SIG,
});

/** How a contract run makes its stores. */
export interface StoreFactory {
  /** A fresh, empty store (its own directory or memory). */
  open(): Promise<ChatStore>;
  /** Closes `store` and opens the same state again: only durable stores have it. */
  reopen?(store: ChatStore): Promise<ChatStore>;
}

/**
 * The behaviour every ChatStore implementation must have (docs/architecture.md
 * "Store"). Each implementation's test file calls this with its factory; a
 * durable one also passes `reopen`, and then what must survive a restart is
 * checked too.
 */
export function describeStoreContract(label: string, factory: StoreFactory): void {
  describe(`ChatStore contract: ${label}`, () => {
    let store: ChatStore;
    beforeEach(async () => {
      store = await factory.open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('registers a name once while it is online; another owner gets name_in_use with the holder', async () => {
      expect(await store.register(reg('alice'), 1)).toMatchObject({ ok: true, entry: { name: 'alice', online: true } });
      expect(await store.register(reg('alice', 6000), 2)).toEqual({ ok: false, code: 'name_in_use', holder: 1 });
      expect((await store.clients()).map((c) => [c.name, c.port, c.online])).toEqual([['alice', 5000, true]]);
    });

    it('binds a name to the key that first registered it: another key gets name_owned, online or not', async () => {
      await store.register(reg('alice'), 1);
      expect(await store.register(reg('alice', 5000, '127.0.0.1', OTHER_KEY), 2)).toEqual({
        ok: false,
        code: 'name_owned',
      });
      await store.disconnect('alice', 1);
      expect(await store.register(reg('alice', 5000, '127.0.0.1', OTHER_KEY), 3)).toEqual({
        ok: false,
        code: 'name_owned',
      });
      expect(await store.register(reg('alice', 7000), 4)).toMatchObject({ ok: true, entry: { port: 7000 } });
    });

    it('disconnect takes the name offline and out of its group in one step, only for its owner', async () => {
      await store.register(reg('alice'), 1);
      await store.createGroup('g', 'alice');
      await store.join('alice', 'g');
      expect(await store.disconnect('alice', 2)).toBeNull();
      expect(await store.disconnect('alice', 1)).toMatchObject({
        entry: { name: 'alice', online: false },
        leftGroups: ['g'],
      });
      expect(await store.membersOf('g')).toEqual([]);
      expect(await store.disconnect('alice', 1)).toBeNull();
    });

    it('an offline name registers again from another address, keeping its place in the table', async () => {
      await store.register(reg('alice'), 1);
      await store.register(reg('bob'), 2);
      await store.disconnect('alice', 1);
      expect(await store.register(reg('alice', 7000, '10.0.0.2'), 3)).toMatchObject({
        ok: true,
        entry: { port: 7000 },
      });
      expect((await store.clients()).map((c) => c.name)).toEqual(['alice', 'bob']);
    });

    it('lookup finds an account online or not, and nothing for an unknown name', async () => {
      await store.register(reg('alice'), 1);
      expect(await store.lookup('alice')).toMatchObject({ name: 'alice', online: true, key: KEY });
      await store.disconnect('alice', 1);
      expect(await store.lookup('alice')).toMatchObject({ name: 'alice', online: false, key: KEY });
      expect(await store.lookup('nobody')).toBeNull();
    });

    it('keeps the encryption key a client published: in its entry, online and offline, replaced by a newer one', async () => {
      const first = { ekey: EKEY, ekeySig: SIG };
      const second = { ekey: OTHER_EKEY, ekeySig: OTHER_SIG };
      expect(await store.register({ ...reg('alice'), ...first }, 1)).toMatchObject({ ok: true, entry: first });
      expect(await store.lookup('ALICE')).toMatchObject(first);
      await store.register(reg('bob'), 2); // an IRC session publishes none
      expect(await store.lookup('bob')).not.toHaveProperty('ekey');
      await store.disconnect('alice', 1);
      expect(await store.lookup('alice')).toMatchObject({ online: false, ...first });
      expect(await store.register({ ...reg('Alice'), ...second }, 3)).toMatchObject({ ok: true, entry: second });
      await store.disconnect('alice', 3);
      expect(await store.lookup('alice')).toMatchObject(second);
      expect((await store.clients()).find((c) => c.name === 'alice')).toMatchObject(second);
      if (factory.reopen === undefined) return;
      store = await factory.reopen(store);
      expect(await store.lookup('alice')).toMatchObject({ online: false, ...second });
    });

    it('deleteAccount forgets the name, its key and its mailbox; the name is free for another key', async () => {
      await store.register(reg('alice'), 1);
      await store.register(reg('bob'), 2);
      await store.disconnect('bob', 2);
      expect(await store.saveMessage(msg('m1', 'alice', 'bob'), 10)).toBe('saved');
      await store.register(reg('bob'), 3);
      await store.createGroup('g', 'bob');
      await store.join('bob', 'g');
      expect(await store.deleteAccount('bob', 2)).toEqual({ ok: false, code: 'not_registered' });
      expect(await store.deleteAccount('bob', 3)).toEqual({ ok: true, leftGroups: ['g'] });
      expect(await store.mailbox('bob')).toEqual([]);
      expect(await store.lookup('bob')).toBeNull();
      expect(await store.register(reg('bob', 5000, '127.0.0.1', OTHER_KEY), 4)).toMatchObject({ ok: true });
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

    it('keep: a member in several groups leaves one at a time, and all at once when it goes offline', async () => {
      await store.register(reg('alice'), 1);
      for (const g of ['a', 'b', 'c']) await store.createGroup(g, 'alice');
      expect(await store.join('alice', 'a', true)).toEqual({ ok: true, left: null });
      expect(await store.join('alice', 'B', true)).toEqual({ ok: true, left: null, group: 'b' });
      expect(await store.join('alice', 'b', true)).toEqual({ ok: true, left: null });
      expect(await store.join('alice', 'c', true)).toEqual({ ok: true, left: null });
      expect(await store.membersOf('b')).toEqual(['alice']);
      expect(await store.leave('alice', 'b')).toEqual({ ok: true, group: 'b' });
      expect(await store.leave('alice', 'b')).toEqual({ ok: false, code: 'not_in_group' });
      expect(await store.membersOf('b')).toEqual([]);
      expect(await store.deleteGroup('c', 'alice')).toEqual({ ok: true, members: ['alice'] });
      await store.createGroup('c', 'alice');
      expect(await store.join('alice', 'c', true)).toEqual({ ok: true, left: null });
      expect(await store.disconnect('alice', 1)).toMatchObject({ leftGroups: ['a', 'c'] });
      expect(await store.membersOf('a')).toEqual([]);
      expect(await store.membersOf('c')).toEqual([]);
      await store.register(reg('alice'), 2);
      await store.join('alice', 'a', true);
      await store.join('alice', 'b', true);
      expect(await store.join('alice', 'c')).toEqual({ ok: true, left: 'b' });
      expect(await store.membersOf('a')).toEqual([]);
      expect(await store.deleteAccount('alice', 2)).toEqual({ ok: true, leftGroups: ['c'] });
    });

    it('only the creator deletes a group; its members are named and its history goes with it', async () => {
      await store.createGroup('g', 'alice');
      await store.join('bob', 'g');
      await store.appendMessage('g', { from: 'bob', text: 'hi', at: 1 });
      expect(await store.deleteGroup('g', 'bob')).toEqual({ ok: false, code: 'not_creator', creator: 'alice' });
      expect(await store.deleteGroup('nope', 'bob')).toEqual({ ok: false, code: 'no_such_group' });
      expect(await store.deleteGroup('g', 'alice')).toEqual({ ok: true, members: ['bob'] });
      expect(await store.groups()).toEqual([]);
      expect(await store.appendMessage('g', { from: 'bob', text: 'late', at: 2 })).toBeNull();
      await store.createGroup('g', 'carol');
      expect(await store.history('g', { limit: 10 })).toEqual([]);
    });

    it('history: one seq per group, oldest first, the newest `limit`, or those after a seq', async () => {
      await store.createGroup('g', 'alice');
      await store.createGroup('h', 'alice');
      for (let i = 1; i <= 5; i++)
        expect(await store.appendMessage('g', { from: 'alice', text: `m${i}`, at: i })).toBe(i);
      expect(await store.appendMessage('h', { from: 'bob', text: 'other', at: 9 })).toBe(1);
      expect((await store.history('g', { limit: 3 })).map((e) => e.text)).toEqual(['m3', 'm4', 'm5']);
      expect(await store.history('g', { after: 3, limit: 10 })).toEqual([
        { seq: 4, from: 'alice', text: 'm4', at: 4 },
        { seq: 5, from: 'alice', text: 'm5', at: 5 },
      ]);
      expect(await store.history('nope', { limit: 3 })).toEqual([]);
    });

    it('history bounds: before and after a seq or a time, the newest or the oldest of those', async () => {
      await store.createGroup('g', 'alice');
      for (let i = 1; i <= 8; i++) await store.appendMessage('g', { from: 'alice', text: `m${i}`, at: 100 * i });
      const texts = async (query: HistoryQuery): Promise<string[]> =>
        (await store.history('g', query)).map((e) => e.text);
      expect(await texts({ before: 5, limit: 2 })).toEqual(['m3', 'm4']);
      expect(await texts({ after: 2, limit: 2, oldest: true })).toEqual(['m3', 'm4']);
      expect(await texts({ after: 2, before: 7, limit: 10 })).toEqual(['m3', 'm4', 'm5', 'm6']);
      expect(await texts({ afterAt: 300, beforeAt: 600, limit: 10 })).toEqual(['m4', 'm5']);
      expect(await texts({ afterAt: 300, limit: 1, oldest: true })).toEqual(['m4']);
      expect(await texts({ beforeAt: 300, limit: 10 })).toEqual(['m1', 'm2']);
      expect(await texts({ after: 6, beforeAt: 100, limit: 10 })).toEqual([]);
    });

    it('mailboxes: saved for a known receiver, oldest first, bounded, deleted by id, a retried save kept once', async () => {
      await store.register(reg('alice'), 1);
      await store.register(reg('bob'), 2);
      expect(await store.saveMessage(msg('m1', 'alice', 'bob'), 2)).toBe('saved');
      expect(await store.saveMessage(msg('m1', 'alice', 'bob'), 2)).toBe('saved');
      expect(await store.saveMessage(msg('m2', 'alice', 'bob'), 2)).toBe('saved');
      expect(await store.saveMessage(msg('m3', 'alice', 'bob'), 2)).toBe('mailbox_full');
      expect(await store.saveMessage(msg('m4', 'alice', 'nobody'), 2)).toBe('unknown_client');
      const box = await store.mailbox('bob');
      expect(box.map((s) => s.message.id)).toEqual(['m1', 'm2']);
      expect(box[0]).toEqual({ message: msg('m1', 'alice', 'bob'), senderKey: KEY });
      await store.deleteSaved('bob', ['m1']);
      expect((await store.mailbox('bob')).map((s) => s.message.id)).toEqual(['m2']);
      expect(await store.mailbox('alice')).toEqual([]);
    });

    it('counts: every account, online or not, and every saved message not yet deleted', async () => {
      expect(await store.counts()).toEqual({ accounts: 0, saved: 0 });
      await store.register(reg('alice'), 1);
      await store.register(reg('bob'), 2);
      await store.register(reg('carol'), 3);
      await store.disconnect('carol', 3);
      expect(await store.saveMessage(msg('m1', 'alice', 'bob'), 5)).toBe('saved');
      expect(await store.saveMessage(msg('m2', 'alice', 'carol'), 5)).toBe('saved');
      expect(await store.saveMessage(msg('m3', 'bob', 'carol'), 5)).toBe('saved');
      expect(await store.counts()).toEqual({ accounts: 3, saved: 3 });
      await store.deleteSaved('carol', ['m2']);
      expect(await store.counts()).toEqual({ accounts: 3, saved: 2 });
    });

    if (factory.reopen !== undefined) {
      const reopen = factory.reopen.bind(factory);
      it('a restart keeps accounts, groups (creator and order), history with its seqs, and mailboxes; not who is online', async () => {
        await store.register(reg('alice'), 1);
        await store.register(reg('bob'), 2);
        await store.createGroup('zeta', 'alice');
        await store.createGroup('alpha', 'bob');
        await store.join('alice', 'zeta');
        await store.appendMessage('zeta', { from: 'alice', text: 'one', at: 10 });
        await store.appendMessage('zeta', { from: 'alice', text: 'two', at: 11 });
        await store.disconnect('bob', 2);
        await store.saveMessage(msg('s1', 'alice', 'bob'), 10);
        store = await reopen(store);
        expect(await store.groups()).toEqual(['zeta', 'alpha']);
        expect(await store.membersOf('zeta')).toEqual([]);
        expect((await store.clients()).filter((c) => c.online)).toEqual([]);
        expect(await store.register(reg('alice', 5000, '127.0.0.1', OTHER_KEY), 3)).toEqual({
          ok: false,
          code: 'name_owned',
        });
        expect((await store.history('zeta', { limit: 10 })).map((e) => [e.seq, e.text, e.at])).toEqual([
          [1, 'one', 10],
          [2, 'two', 11],
        ]);
        expect(await store.appendMessage('zeta', { from: 'alice', text: 'three', at: 12 })).toBe(3);
        expect((await store.mailbox('bob')).map((s) => s.message.id)).toEqual(['s1']);
        expect(await store.deleteGroup('alpha', 'alice')).toEqual({ ok: false, code: 'not_creator', creator: 'bob' });
      });
    }

    it('names compare without case: Alice is alice while online, and an offline name keeps its first spelling', async () => {
      await store.register(reg('alice'), 1);
      expect(await store.register(reg('Alice', 6000), 2)).toEqual({ ok: false, code: 'name_in_use', holder: 1 });
      expect(await store.disconnect('ALICE', 1)).toMatchObject({ entry: { name: 'alice', online: false } });
      expect(await store.register(reg('ALICE', 7000), 3)).toMatchObject({
        ok: true,
        entry: { name: 'alice', port: 7000 },
      });
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

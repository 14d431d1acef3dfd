import { randomUUID } from 'node:crypto';
import path from 'node:path';
import fc from 'fast-check';
import type { ChatStore } from '../../src/store/chat-store';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { removeTempDirs, tempDir } from '../helpers/temp-dir';
import { RedisStore } from '../../src/store/redis/redis-store';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';

/**
 * Model-based test of the database store (docs/architecture.md "Store"):
 * random sequences of register / disconnect / create / join / leave / send /
 * save / deliver / delete account / delete group / restart run against the
 * SQLite store and against a plain model of what each should do; after
 * every step the answers and the visible state must agree.
 */

const NAMES = ['ann', 'bob', 'cy'];
const GROUPS = ['g1', 'g2'];
const KEYS = [Buffer.alloc(32, 1).toString('base64'), Buffer.alloc(32, 2).toString('base64')];
const SIG = Buffer.alloc(64, 3).toString('base64');
/** The opaque parts of a sealed message (the store keeps them as they are). */
const KEY32 = Buffer.alloc(32, 4).toString('base64');
const IV12 = Buffer.alloc(12, 5).toString('base64');
const CT = Buffer.alloc(18, 6).toString('base64');
const MAILBOX_LIMIT = 3;
const HISTORY_LIMIT = 2;

/** The model: what the store should hold. */
interface Model {
  accounts: Map<string, string>; // name → key
  online: Map<string, number>; // name → owner
  groups: Map<
    string,
    { creator: string; members: string[]; history: Array<{ seq: number; text: string }>; lastSeq: number }
  >;
  mailboxes: Map<string, string[]>; // name → message ids, oldest first
  nextOwner: number;
  nextId: number;
}

interface Real {
  store: ChatStore;
  /** Closes the store and opens the same durable state again. */
  readonly reopen: (store: ChatStore) => Promise<ChatStore>;
}

type Cmd = fc.AsyncCommand<Model, Real>;

const groupOf = (m: Model, name: string): string | undefined =>
  [...m.groups].find(([, g]) => g.members.includes(name))?.[0];

async function checkState(m: Model, r: Real): Promise<void> {
  expect([...(await r.store.groups())]).toEqual([...m.groups.keys()]);
  for (const [name, g] of m.groups) {
    expect([...((await r.store.membersOf(name)) ?? [])]).toEqual(g.members);
    expect((await r.store.history(name, { limit: 100 })).map((e) => [e.seq, e.text])).toEqual(
      g.history.map((e) => [e.seq, e.text]),
    );
  }
  for (const name of NAMES) {
    expect((await r.store.mailbox(name)).map((s) => s.message.id)).toEqual(m.mailboxes.get(name) ?? []);
    const entry = await r.store.lookup(name);
    expect(entry === null ? null : [entry.online, entry.key]).toEqual(
      m.accounts.has(name) ? [m.online.has(name), m.accounts.get(name)] : null,
    );
  }
}

const step = (label: string, check: (m: Model) => boolean, run: (m: Model, r: Real) => Promise<void>): Cmd => ({
  check,
  run: async (m, r) => {
    await run(m, r);
    await checkState(m, r);
  },
  toString: () => label,
});

const register = (name: string, keyIndex: number): Cmd =>
  step(
    `register(${name},k${keyIndex})`,
    () => true,
    async (m, r) => {
      const owner = ++m.nextOwner;
      const key = KEYS[keyIndex]!;
      const result = await r.store.register({ name, host: '127.0.0.1', port: owner, key }, owner);
      const bound = m.accounts.get(name);
      if (bound !== undefined && bound !== key) return expect(result).toEqual({ ok: false, code: 'name_owned' });
      if (m.online.has(name))
        return expect(result).toEqual({ ok: false, code: 'name_in_use', holder: m.online.get(name) });
      expect(result.ok).toBe(true);
      m.accounts.set(name, key);
      m.online.set(name, owner);
    },
  );

const disconnect = (name: string): Cmd =>
  step(
    `disconnect(${name})`,
    (m) => m.online.has(name),
    async (m, r) => {
      const group = groupOf(m, name) ?? null;
      expect(await r.store.disconnect(name, m.online.get(name)!)).toMatchObject({
        leftGroups: group === null ? [] : [group],
      });
      m.online.delete(name);
      if (group !== null) m.groups.get(group)!.members = m.groups.get(group)!.members.filter((x) => x !== name);
    },
  );

const create = (group: string, by: string): Cmd =>
  step(
    `create(${group},${by})`,
    () => true,
    async (m, r) => {
      const result = await r.store.createGroup(group, by);
      expect(result.ok).toBe(!m.groups.has(group));
      if (result.ok) m.groups.set(group, { creator: by, members: [], history: [], lastSeq: 0 });
    },
  );

const join = (name: string, group: string): Cmd =>
  step(
    `join(${name},${group})`,
    (m) => m.online.has(name),
    async (m, r) => {
      const result = await r.store.join(name, group);
      const g = m.groups.get(group);
      if (g === undefined) return expect(result).toEqual({ ok: false, code: 'no_such_group' });
      const old = groupOf(m, name) ?? null;
      expect(result).toEqual({ ok: true, left: old === group ? null : old });
      if (old === group) return;
      if (old !== null) m.groups.get(old)!.members = m.groups.get(old)!.members.filter((x) => x !== name);
      g.members.push(name);
    },
  );

const leave = (name: string): Cmd =>
  step(
    `leave(${name})`,
    () => true,
    async (m, r) => {
      const old = groupOf(m, name);
      expect(await r.store.leave(name)).toEqual(
        old === undefined ? { ok: false, code: 'not_in_group' } : { ok: true, group: old },
      );
      if (old !== undefined) m.groups.get(old)!.members = m.groups.get(old)!.members.filter((x) => x !== name);
    },
  );

const send = (group: string): Cmd =>
  step(
    `send(${group})`,
    () => true,
    async (m, r) => {
      const text = `t${++m.nextId}`;
      const seq = await r.store.appendMessage(group, { from: 'ann', text, at: m.nextId });
      const g = m.groups.get(group);
      if (g === undefined) return expect(seq).toBeNull();
      expect(seq).toBe(++g.lastSeq);
      g.history.push({ seq: g.lastSeq, text });
      if (g.history.length > HISTORY_LIMIT) g.history.shift();
    },
  );

const save = (from: string, to: string): Cmd =>
  step(
    `save(${from}→${to})`,
    (m) => m.accounts.has(from),
    async (m, r) => {
      const id = `m${++m.nextId}`;
      const sealed = { id, from, to, ts: 1, epk: KEY32, iv: IV12, ct: CT, sig: SIG };
      const result = await r.store.saveMessage(sealed, MAILBOX_LIMIT);
      const box = m.mailboxes.get(to) ?? [];
      if (!m.accounts.has(to)) return expect(result).toBe('unknown_client');
      if (box.length >= MAILBOX_LIMIT) return expect(result).toBe('mailbox_full');
      expect(result).toBe('saved');
      m.mailboxes.set(to, [...box, id]);
    },
  );

const deliverOne = (name: string): Cmd =>
  step(
    `deliver(${name})`,
    (m) => (m.mailboxes.get(name)?.length ?? 0) > 0,
    async (m, r) => {
      const [first, ...rest] = m.mailboxes.get(name)!;
      await r.store.deleteSaved(name, [first!]);
      m.mailboxes.set(name, rest);
    },
  );

const deleteAccount = (name: string): Cmd =>
  step(
    `deleteAccount(${name})`,
    (m) => m.online.has(name),
    async (m, r) => {
      const group = groupOf(m, name) ?? null;
      expect(await r.store.deleteAccount(name, m.online.get(name)!)).toEqual({
        ok: true,
        leftGroups: group === null ? [] : [group],
      });
      if (group !== null) m.groups.get(group)!.members = m.groups.get(group)!.members.filter((x) => x !== name);
      m.accounts.delete(name);
      m.online.delete(name);
      m.mailboxes.delete(name);
    },
  );

const deleteGroup = (group: string, by: string): Cmd =>
  step(
    `deleteGroup(${group},${by})`,
    () => true,
    async (m, r) => {
      const result = await r.store.deleteGroup(group, by);
      const g = m.groups.get(group);
      if (g === undefined) return expect(result).toEqual({ ok: false, code: 'no_such_group' });
      if (g.creator !== by) return expect(result).toEqual({ ok: false, code: 'not_creator', creator: g.creator });
      expect(result).toEqual({ ok: true, members: g.members });
      m.groups.delete(group);
    },
  );

/** A restart: durable state stays, who is online and group membership do not. */
const restart = (): Cmd =>
  step(
    'restart',
    () => true,
    async (m, r) => {
      r.store = await r.reopen(r.store);
      m.online.clear();
      for (const g of m.groups.values()) g.members = [];
    },
  );

const name = fc.constantFrom(...NAMES);
const group = fc.constantFrom(...GROUPS);
const commands = [
  fc.tuple(name, fc.integer({ min: 0, max: 1 })).map(([n, k]) => register(n, k)),
  name.map(disconnect),
  fc.tuple(group, name).map(([g, n]) => create(g, n)),
  fc.tuple(name, group).map(([n, g]) => join(n, g)),
  name.map(leave),
  group.map(send),
  fc.tuple(name, name).map(([a, b]) => save(a, b)),
  name.map(deliverOne),
  name.map(deleteAccount),
  fc.tuple(group, name).map(([g, n]) => deleteGroup(g, n)),
  fc.constant(restart()),
];

afterAll(() => removeTempDirs());

/** How a backend opens a fresh store (and the same state again). */
interface Backend {
  fresh(): Promise<Real>;
}

function runModel(backend: () => Backend, numRuns: number): () => Promise<void> {
  return async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: 'max' }), async (cmds) => {
        const real = await backend().fresh();
        const model: Model = {
          accounts: new Map(),
          online: new Map(),
          groups: new Map(),
          mailboxes: new Map(),
          nextOwner: 0,
          nextId: 0,
        };
        try {
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        } finally {
          await real.store.close();
        }
      }),
      { numRuns },
    );
  };
}

const sqlite: Backend = {
  fresh: async () => {
    const dir = path.join(tempDir(), 'data');
    const open = (): ChatStore => openSqliteStore({ dir, historyLimit: HISTORY_LIMIT });
    return {
      store: open(),
      reopen: async (store) => {
        await store.close();
        return open();
      },
    };
  },
};

describe('SQLite store against a model', () => {
  it(
    'agrees with the model after every step of random command sequences, restarts included',
    runModel(() => sqlite, 60),
  );
});

describeWithRedis('Redis store against a model', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());
  const backend = (): Backend => ({
    fresh: async () => {
      const prefix = `m${randomUUID()}`;
      const open = async (): Promise<ChatStore> => {
        const store = new RedisStore({ url: redis.url, prefix, historyLimit: HISTORY_LIMIT });
        await store.ready();
        return store;
      };
      return {
        store: await open(),
        reopen: async (store) => {
          await store.close();
          return open();
        },
      };
    },
  });
  it('agrees with the model after every step, node restarts included', runModel(backend, 25));
});

import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { MemoryStore } from '../../src/store/memory-store';
import type { ChatStore } from '../../src/store/chat-store';
import { RedisStore } from '../../src/store/redis/redis-store';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';

/**
 * The lock discipline of src/store/chat-store.ts under every interleaving
 * fast-check picks: each store commit (the persistence hook, like a database
 * write) is a point where the scheduler may run any other pending step.
 * Several clients run at once, each as the server core drives one
 * connection: register (retrying while the name is taken), join and leave
 * groups, then maybe disconnect. Two clients may want the same name. After
 * every run the store must agree with what each client was told.
 */

const KEY = Buffer.alloc(32, 9).toString('base64');
const GROUPS = ['g0', 'g1', 'g2'];

type Step = { kind: 'join'; group: string } | { kind: 'leave' };
interface Script {
  readonly name: string;
  readonly steps: readonly Step[];
  readonly disconnect: boolean;
}

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.constantFrom(...GROUPS).map((group) => ({ kind: 'join', group }) as const),
  fc.constant({ kind: 'leave' } as const),
);
const script: fc.Arbitrary<Script> = fc.record({
  name: fc.constantFrom('ann', 'bob'),
  steps: fc.array(step, { maxLength: 4 }),
  disconnect: fc.boolean(),
});

/** What one client believes after its script: whether it holds its name, and its group. */
interface Belief {
  readonly name: string;
  online: boolean;
  group: string | null;
}

/** Runs one client's script; `backoff` is its wait between tries of a taken name (a scheduling point). */
async function runClient(store: ChatStore, owner: number, s: Script, backoff: () => Promise<void>): Promise<Belief> {
  const belief: Belief = { name: s.name, online: false, group: null };
  for (let tries = 0; tries < 4 && !belief.online; tries++) {
    if (tries > 0) await backoff();
    belief.online = (await store.register({ name: s.name, host: '127.0.0.1', port: owner, key: KEY }, owner)).ok;
  }
  if (!belief.online) return belief;
  for (const st of s.steps) {
    if (st.kind === 'join') {
      if ((await store.join(s.name, st.group)).ok) belief.group = st.group;
    } else if ((await store.leave(s.name)).ok) belief.group = null;
  }
  if (s.disconnect && (await store.disconnect(s.name, owner)) !== null) {
    belief.online = false;
    belief.group = null;
  }
  return belief;
}

/** The store agrees with what every client was told: one holder per online name, each in the group it was last told. */
async function checkBeliefs(store: ChatStore, beliefs: readonly Belief[]): Promise<void> {
  const clients = await store.clients();
  const membership = new Map<string, string>();
  for (const g of GROUPS)
    for (const m of (await store.membersOf(g)) ?? []) {
      expect(membership.has(m)).toBe(false); // in at most one group
      membership.set(m, g);
    }
  for (const name of ['ann', 'bob']) {
    const holders = beliefs.filter((b) => b.name === name && b.online);
    expect(holders.length).toBeLessThanOrEqual(1); // one owner per online name
    const entry = clients.find((c) => c.name === name);
    expect(entry?.online ?? false).toBe(holders.length === 1);
    // The holder's group is the one it was last told; nobody else's departure took it away.
    expect(membership.get(name) ?? null).toBe(holders[0]?.group ?? null);
  }
}

describe('ChatStore lock discipline under scheduled interleavings (MemoryStore with a write-through hook)', () => {
  it('every client finds the store as it was told, and the group indexes agree', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(script, { minLength: 2, maxLength: 4 }), async (s, scripts) => {
        let scheduling = false; // the groups are made before the run, without scheduling points
        const commit = (): Promise<void> => (scheduling ? s.schedule(Promise.resolve()) : Promise.resolve());
        const store = new MemoryStore({ persistence: { account: commit, group: commit } });
        for (const g of GROUPS) await store.createGroup(g, 'admin');
        scheduling = true;
        const beliefs = await s.waitFor(Promise.all(scripts.map((sc, i) => runClient(store, i + 1, sc, commit))));

        await checkBeliefs(store, beliefs);
      }),
      { numRuns: 300 },
    );
  });
});

/**
 * The same clients against the Redis store, each on its own node (its own
 * RedisStore and connection), all at once: the interleaving is whatever
 * order Redis runs their scripts in.
 */
describeWithRedis('ChatStore lock discipline across three nodes (RedisStore, real redis-server)', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(() => redis.stop());

  it('every client finds the store as it was told, and the group indexes agree', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(script, { minLength: 2, maxLength: 4 }), async (scripts) => {
        const prefix = `i${randomUUID()}`;
        const nodes = await Promise.all(
          [0, 1, 2].map(async () => {
            const store = new RedisStore({ url: redis.url, prefix });
            await store.ready();
            return store;
          }),
        );
        try {
          for (const g of GROUPS) await nodes[0]!.createGroup(g, 'admin');
          const beliefs = await Promise.all(
            scripts.map((sc, i) => runClient(nodes[i % 3]!, i + 1, sc, () => Promise.resolve())),
          );
          await checkBeliefs(nodes[0]!, beliefs);
        } finally {
          await Promise.all(nodes.map((n) => n.close()));
        }
      }),
      { numRuns: 30 },
    );
  });
});

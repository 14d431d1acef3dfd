import { randomUUID } from 'node:crypto';
import type { ChatStore } from '../../src/store/chat-store';
import { RedisStore } from '../../src/store/redis/redis-store';
import { describeStoreContract } from './store-contract';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';
import { removeTempDirs } from '../helpers/temp-dir';

/** Each store gets its own key prefix on one real redis-server; reopening keeps the prefix (a node restart). */
describeWithRedis('RedisStore against a real redis-server', () => {
  let redis: RedisServer;
  const prefixes = new WeakMap<ChatStore, string>();
  const open = async (prefix: string): Promise<RedisStore> => {
    const store = new RedisStore({ url: redis.url, prefix, historyLimit: 1000 });
    await store.ready();
    prefixes.set(store, prefix);
    return store;
  };
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
    removeTempDirs();
  });

  describeStoreContract('RedisStore (--redis)', {
    open: () => open(`t${randomUUID()}`),
    reopen: async (store) => {
      await store.close();
      return open(prefixes.get(store)!);
    },
  });

  it('reconcile after an outage takes offline the names whose connection is gone, and only those', async () => {
    const prefix = `t${randomUUID()}`;
    const [here, other] = [await open(prefix), await open(prefix)] as [RedisStore, RedisStore];
    const key = Buffer.alloc(32, 5).toString('base64');
    const reg = (name: string) => ({ name, host: '127.0.0.1', port: 5000, key });
    await here.register(reg('alice'), 1);
    await here.register(reg('bob'), 2);
    await other.register(reg('cy'), 2);
    await here.createGroup('g', 'alice');
    await here.join('bob', 'g');
    expect(await here.reconcile([1])).toBe(1);
    const online = (await here.clients()).filter((c) => c.online).map((c) => c.name);
    expect(online).toEqual(['alice', 'cy']);
    expect(await here.membersOf('g')).toEqual([]);
    await Promise.all([here.close(), other.close()]);
  });

  it('ten registrations of one name racing on three nodes: exactly one wins', async () => {
    const prefix = `t${randomUUID()}`;
    const nodes = [await open(prefix), await open(prefix), await open(prefix)];
    const key = Buffer.alloc(32, 5).toString('base64');
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        nodes[i % 3]!.register({ name: i % 2 ? 'Bob' : 'bob', host: '127.0.0.1', port: 5000 + i, key }, i),
      ),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results) if (!r.ok) expect(r.code).toBe('name_in_use');
    await Promise.all(nodes.map((n) => n.close()));
  });
});

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
  const open = async (prefix: string): Promise<ChatStore> => {
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

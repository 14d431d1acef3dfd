import type { ChatStore } from '../store/chat-store';
import type { ClusterFeed } from '../store/cluster-events';
import { RedisNode } from '../store/redis/redis-node';
import { RedisStore } from '../store/redis/redis-store';
import { formatLine, serverLines } from './lines';

/** A server's part in a cluster: its store, its feed, and how it leaves. */
export interface ClusterNode {
  readonly store: ChatStore;
  readonly feed: ClusterFeed;
  /** The url as printed: without a password. */
  readonly shownUrl: string;
  /** Stops the heartbeat and the feed (the store's own close says goodbye). */
  close(): Promise<void>;
}

/**
 * Connects this server to the cluster's Redis (docs/scaling.md): waits until
 * Redis answers — printing `>>> [Lost connection to Redis, retrying]` while
 * it does not — then subscribes to the feed and starts the heartbeat. From
 * then on every loss and return of Redis prints its line (docs/usage.md
 * "Cluster").
 */
export async function joinCluster(
  url: string,
  prefix: string,
  historyLimit: number,
  line: (text: string) => void,
): Promise<ClusterNode> {
  const store = new RedisStore({ url, prefix, historyLimit });
  const node = new RedisNode(store);
  node.on('lost', () => line(formatLine(serverLines.redisLost())));
  node.on('restored', () => line(formatLine(serverLines.redisRestored())));
  await store.ready();
  await node.start();
  const shown = new URL(url);
  shown.password = '';
  shown.username = '';
  return { store, feed: node, shownUrl: shown.toString(), close: () => node.close() };
}

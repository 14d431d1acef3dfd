import type { Redis } from 'ioredis';
import { parseClusterEvent, type ClusterEvent, type ClusterFeed } from '../cluster-events';
import { systemClock, type Clock, type TimerHandle } from '../../util/clock';
import { TypedEmitter } from '../../util/typed-emitter';
import type { RedisStore } from './redis-store';

/** How long a node's heartbeat key lives; a node silent this long is dead (docs/scaling.md "Node liveness"). */
export const DEFAULT_NODE_TTL_MS = 3000;

/** Events of a node's link to Redis. */
export type RedisNodeEvents = {
  /** The connection to Redis was lost; requests that need it are refused until `restored`. */
  lost: [];
  /** The connection is back. */
  restored: [];
  /** A dead node's clients were taken offline by this node (how many). */
  reaped: [node: string, clients: number];
  fault: [error: Error];
};

/**
 * One node's presence in the cluster beside its RedisStore: the feed of the
 * other nodes' changes (a subscribed connection of its own), the heartbeat
 * (a key with a TTL, refreshed every third of it), and the reaper: every
 * third of the TTL it looks for nodes whose key expired and, if its script
 * is the one that removes such a node from the node set, takes that node's
 * clients offline for the cluster. A dead node's clients are therefore
 * offline within TTL + TTL/3 (docs/scaling.md "Node liveness").
 */
export class RedisNode extends TypedEmitter<RedisNodeEvents> implements ClusterFeed {
  readonly nodeId: string;
  private readonly subscriber: Redis;
  private timer: TimerHandle | null = null;
  private up = true;
  /** When the link last came up: a node does not reap until others had a TTL to heartbeat. */
  private upSince: number;
  private readonly listeners: Array<(event: ClusterEvent) => void> = [];
  private readonly resumed: Array<() => void> = [];
  /** Whose names to keep after an outage, once a TTL has passed since the link came back. */
  private pendingReconcile: (() => readonly number[]) | null = null;
  private subscriberUp = true;

  constructor(
    private readonly store: RedisStore,
    private readonly clock: Clock = systemClock,
    private readonly ttlMs: number = DEFAULT_NODE_TTL_MS,
  ) {
    super();
    this.nodeId = store.nodeId;
    this.upSince = clock.now();
    this.subscriber = store.redis.duplicate();
    this.subscriber.on('error', () => undefined); // the command connection reports the outage
    this.subscriber.on('message', (_channel: string, json: string) => this.deliver(json));
    // Up again only when both connections are: the feed must be back before missed messages are read.
    this.subscriber.on('close', () => {
      this.subscriberUp = false;
      this.linkDown();
    });
    this.subscriber.on('ready', () => {
      this.subscriberUp = true;
      this.linkUp();
    });
    store.redis.on('close', () => this.linkDown());
    store.redis.on('ready', () => this.linkUp());
  }

  /** Subscribes to the feed and starts the heartbeat; resolves once both are in place. */
  async start(): Promise<void> {
    await whenReady(this.subscriber);
    await this.subscriber.subscribe(this.store.key('events'));
    await this.beat();
    this.timer = this.clock.setInterval(() => void this.tick(), Math.max(50, Math.floor(this.ttlMs / 3)));
  }

  onEvent(listener: (event: ClusterEvent) => void): void {
    this.listeners.push(listener);
  }

  onResumed(listener: () => void): void {
    this.resumed.push(listener);
  }

  reconcileSoon(live: () => readonly number[]): void {
    this.pendingReconcile = live;
  }

  /** True while the link to Redis is up. */
  get connected(): boolean {
    return this.up;
  }

  /** Stops the heartbeat and the feed (the store's close says goodbye). */
  async close(): Promise<void> {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
    await this.store.redis.del(this.store.key('alive', this.nodeId)).catch(() => undefined);
    await this.subscriber.quit().catch(() => this.subscriber.disconnect());
  }

  private deliver(json: string): void {
    const event = parseClusterEvent(json);
    if (event === null) return;
    for (const listener of this.listeners) listener(event);
  }

  private linkDown(): void {
    if (!this.up) return;
    this.up = false;
    this.emit('lost');
  }

  private linkUp(): void {
    if (this.up || this.store.redis.status !== 'ready' || !this.subscriberUp) return;
    this.up = true;
    this.upSince = this.clock.now();
    void this.beat();
    this.emit('restored');
    for (const listener of this.resumed) listener();
  }

  private async tick(): Promise<void> {
    if (!this.up) return;
    try {
      await this.beat();
      if (this.clock.now() - this.upSince < this.ttlMs) return;
      const live = this.pendingReconcile;
      this.pendingReconcile = null;
      if (live !== null) await this.store.reconcile(live());
      await this.reapDead();
    } catch {
      // The link dropped mid-tick: 'close' reports it, the next tick after 'ready' retries.
    }
  }

  private async beat(): Promise<void> {
    const redis = this.store.redis;
    await redis
      .multi()
      .set(this.store.key('alive', this.nodeId), '1', 'PX', this.ttlMs)
      .sadd(this.store.key('nodes'), this.nodeId)
      .exec();
  }

  private async reapDead(): Promise<void> {
    const nodes = await this.store.redis.smembers(this.store.key('nodes'));
    for (const node of nodes) {
      if (node === this.nodeId) continue;
      const alive = await this.store.redis.exists(this.store.key('alive', node));
      if (alive === 1) continue;
      const reaped = await this.store.reap(node);
      if (reaped !== null) this.emit('reaped', node, reaped);
    }
  }
}

/** Resolves once `redis` is connected (commands are not queued before that: see redisOptions). */
function whenReady(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve) => redis.once('ready', () => resolve()));
}

import type { Clock, TimerHandle } from '../util/clock';
import { ERROR_CODES, type ErrorCode } from '../protocol/errors';
import type { ErrorFrame, ReplyFrame } from './context';

/**
 * Cache marker for a bare `reply{id}` (most replies, send_group's above all):
 * the cache then holds only the id, not a frame object per request.
 */
export const PLAIN_REPLY = 0;

/** A cached reply, as `get` gives it back. */
export type CachedReply = ReplyFrame | ErrorFrame | typeof PLAIN_REPLY;

/**
 * What a cache stores per id: a refusal with the catalogue's message as its
 * bare code (an interned string, not a frame object per request: most of
 * what a flood of refused requests leaves behind), any other reply as is.
 */
type Stored = ReplyFrame | ErrorFrame | ErrorCode | typeof PLAIN_REPLY;

/**
 * Replies kept in all, over every cache: about 14 MiB with the longest ids
 * (measured ~200–230 bytes each: the 64-character id, its map entry and its
 * place in the expiry order; docs/security.md).
 */
export const MAX_CACHED_REPLIES = 65_536;

/** The least time a reply is kept: far past a client's last retry (ackTimeoutMs × retries). */
export const MIN_REPLY_TTL_MS = 60_000;

/**
 * One cache of replies by request id (a connection's own, or a name's).
 * Bounded per cache (oldest first out); ReplyCaches bounds them all
 * together and forgets replies past their time.
 */
export class ReplyCache {
  private readonly byId = new Map<string, Stored>();
  /** The name this cache belongs to (null: a connection's own). */
  name: string | null = null;

  constructor(
    private readonly owner: ReplyCaches,
    private readonly capacity: number,
  ) {}

  get(id: string): CachedReply | undefined {
    const stored = this.byId.get(id);
    if (typeof stored !== 'string') return stored;
    return { type: 'error', id, code: stored, message: ERROR_CODES[stored] };
  }

  /** Remembers the reply to `id` (replacing one already there). */
  set(id: string, reply: CachedReply): void {
    const fresh = !this.byId.has(id);
    const catalogued = reply !== PLAIN_REPLY && reply.type === 'error' && reply.message === ERROR_CODES[reply.code];
    this.byId.set(id, catalogued ? reply.code : reply);
    if (this.byId.size > this.capacity) {
      const oldest = this.byId.keys().next();
      if (!oldest.done) this.byId.delete(oldest.value);
    }
    if (fresh) this.owner.noteAdded(this, id);
  }

  /** Forgets `id` (its time is up, or the total bound needs room). */
  forget(id: string): void {
    if (this.byId.delete(id) && this.byId.size === 0) this.owner.noteEmpty(this);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every remembered id and reply, oldest first. */
  *entries(): IterableIterator<[string, CachedReply]> {
    for (const id of this.byId.keys()) yield [id, this.get(id)!];
  }
}

/**
 * Reply caches for duplicate suppression (docs/protocol.md "Ids and
 * retries"): a repeated request id gets its cached reply instead of running
 * twice. A registered client's cache belongs to its name and outlives the
 * connection, because a client that lost its connection retries its pending
 * request on the new one. Before registering, a connection has a cache of its
 * own; registering carries it over into the name's, and deregistering leaves
 * the connection a fresh one, so two names used in turn on one connection
 * never share replies.
 *
 * Memory is bounded however many names and ids arrive (docs/security.md):
 * each cache holds at most `perCache` replies, all caches together at most
 * MAX_CACHED_REPLIES (the oldest go first), a reply is forgotten after `ttlMs`
 * (long after any retry of it), and the cache of a name that went offline is
 * dropped once it is empty.
 */
export class ReplyCaches {
  private readonly byName = new Map<string, ReplyCache>();
  /** Names that went offline: their cache goes once its replies have expired. */
  private readonly released = new Set<string>();
  /**
   * Every remembered reply in the order cached, as three parallel arrays
   * read from `head` (an object per reply would cost ~60 bytes more each).
   */
  private orderCaches: ReplyCache[] = [];
  private orderIds: string[] = [];
  private orderTimes: number[] = [];
  private head = 0;
  private timer: TimerHandle | null = null;

  constructor(
    private readonly perCache: number,
    private readonly clock: Clock,
    private readonly ttlMs: number = MIN_REPLY_TTL_MS,
    private readonly maxTotal: number = MAX_CACHED_REPLIES,
  ) {}

  /** A connection's own cache, used while it has no name. */
  fresh(): ReplyCache {
    return new ReplyCache(this, Math.max(1, this.perCache));
  }

  /** The cache of `name`, created on first use, with `carried` (the connection's own) merged in. */
  adopt(name: string, carried: ReplyCache): ReplyCache {
    this.released.delete(name);
    const cache = this.byName.get(name);
    if (cache === undefined) {
      carried.name = name;
      this.byName.set(name, carried);
      return carried;
    }
    for (const [id, reply] of carried.entries()) cache.set(id, reply);
    return cache;
  }

  /** `name` went offline: its cache stays for retries, and goes once empty. */
  release(name: string): void {
    const cache = this.byName.get(name);
    if (cache === undefined) return;
    if (cache.size === 0) this.byName.delete(name);
    else this.released.add(name);
  }

  /** Stops the expiry timer (server shutdown). */
  close(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  /** A cache ran empty: a released name's cache goes. */
  noteEmpty(cache: ReplyCache): void {
    if (cache.name === null || !this.released.delete(cache.name)) return;
    if (this.byName.get(cache.name) === cache) this.byName.delete(cache.name);
  }

  /** Replies remembered in all (tests, and the memory figures in docs/security.md). */
  get total(): number {
    return this.orderIds.length - this.head;
  }

  /** Names with a cache (tests, docs/security.md). */
  get names(): number {
    return this.byName.size;
  }

  /** Called by a cache for each new id: the total bound and expiry run here. */
  noteAdded(cache: ReplyCache, id: string): void {
    this.orderCaches.push(cache);
    this.orderIds.push(id);
    this.orderTimes.push(this.clock.now());
    this.expire();
  }

  /** Forgets replies past their time, and the oldest past the total bound; then waits for the next expiry. */
  private expire(): void {
    const cutoff = this.clock.now() - this.ttlMs;
    const length = this.orderIds.length;
    while (this.head < length) {
      if (this.orderTimes[this.head]! > cutoff && length - this.head <= this.maxTotal) break;
      const cache = this.orderCaches[this.head]!;
      const id = this.orderIds[this.head]!;
      this.head++;
      cache.forget(id);
    }
    if (this.head === length) {
      this.orderCaches = [];
      this.orderIds = [];
      this.orderTimes = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 4 > length) {
      // Forgotten entries left at the front stay under a quarter of the arrays; each copy moves
      // at most three live entries per forgotten one, so the cost per reply stays constant.
      this.orderCaches = this.orderCaches.slice(this.head);
      this.orderIds = this.orderIds.slice(this.head);
      this.orderTimes = this.orderTimes.slice(this.head);
      this.head = 0;
    }
    this.armExpiry();
  }

  /** One timer, at the oldest reply's expiry, so memory is given back even when no request comes. */
  private armExpiry(): void {
    const oldestAt = this.orderTimes[this.head];
    if (oldestAt === undefined || this.timer !== null) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = null;
        this.expire();
      },
      Math.max(1, oldestAt + this.ttlMs - this.clock.now() + 1),
    );
  }
}

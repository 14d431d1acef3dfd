import { SeenIds } from '../net/seen-ids';
import type { ErrorFrame, ReplyFrame } from './context';

/**
 * Cache marker for a bare `reply{id}` (most replies, send_group's above all):
 * the cache then holds only the id, not a frame object per request.
 */
export const PLAIN_REPLY = 0;

/** Cached replies by request id; PLAIN_REPLY stands for a bare `reply{id}`. */
export type ReplyCache = SeenIds<ReplyFrame | ErrorFrame | typeof PLAIN_REPLY>;

/**
 * Reply caches for duplicate suppression (docs/protocol.md "Ids and
 * retries"): a repeated request id gets its cached reply instead of running
 * twice. A registered client's cache belongs to its name and outlives the
 * connection, because a client that lost its connection retries its pending
 * request on the new one. Before registering, a connection has a cache of its
 * own; registering carries it over into the name's, and deregistering leaves
 * the connection a fresh one, so two names used in turn on one connection
 * never share replies.
 */
export class ReplyCaches {
  private readonly byName = new Map<string, ReplyCache>();

  constructor(private readonly capacity: number) {}

  /** A connection's own cache, used while it has no name. */
  fresh(): ReplyCache {
    return new SeenIds(Math.max(1, this.capacity));
  }

  /** The cache of `name`, created on first use, with `carried` (the connection's own) merged in. */
  adopt(name: string, carried: ReplyCache): ReplyCache {
    const cache = this.byName.get(name);
    if (cache === undefined) {
      this.byName.set(name, carried);
      return carried;
    }
    for (const [id, reply] of carried.entries()) cache.set(id, reply);
    return cache;
  }
}

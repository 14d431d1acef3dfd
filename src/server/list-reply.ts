import type { ReplyFrame } from './context';
import { encodeListPart, encodeListReply } from '../protocol/chunk-frames';
import { chunkNames, type JsonArray } from '../protocol/json-chunks';
import type { Session } from './session';

/** The list a reply carries (list_groups, list_members), if any. */
export function listOf(
  frame: ReplyFrame,
): { readonly key: 'groups' | 'members'; readonly items: readonly string[] } | null {
  if (frame.groups !== undefined) return { key: 'groups', items: frame.groups };
  if (frame.members !== undefined) return { key: 'members', items: frame.members };
  return null;
}

/**
 * Encoded chunks per list array. Store snapshots are immutable and handed out
 * again until they change, so 300 listings of 20,000 groups encode them once.
 */
const chunkCache = new WeakMap<
  readonly string[],
  { readonly budget: number; readonly chunks: readonly JsonArray<string>[] }
>();

function chunksOf(items: readonly string[], budget: number): readonly JsonArray<string>[] {
  const cached = chunkCache.get(items);
  if (cached?.budget === budget) return cached.chunks;
  const chunks = chunkNames(items, budget);
  if (Object.isFrozen(items)) chunkCache.set(items, { budget, chunks });
  return chunks;
}

/**
 * Sends a reply. One with a long list (docs/protocol.md `list_part`) goes out
 * as `list_part{id, items}` frames for all but the last chunk of items, paced
 * by the connection's outbound queue, then `reply{id, <key>: lastChunk}`; it
 * then resolves once the reply is queued (or the connection closed). Any other
 * reply is one frame, queued at once.
 */
export function sendReply(session: Session, frame: ReplyFrame, chunkBytes: number): Promise<void> | void {
  const list = listOf(frame);
  if (list === null) return session.conn.send(frame);
  const chunks = chunksOf(list.items, chunkBytes);
  if (chunks.length <= 1) return session.conn.send(frame);
  let i = 0;
  return session.outbox.send({
    next: () => {
      const items = chunks[i];
      if (items === undefined) return null;
      i++;
      return i < chunks.length ? encodeListPart(frame.id, items) : encodeListReply(frame.id, list.key, items);
    },
  });
}

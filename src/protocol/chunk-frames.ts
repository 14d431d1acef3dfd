import { asEncodedFrame, type EncodedFrame } from './codec';
import type { ClientEntry, FrameOf, ServerToClientFrame } from './frames';
import type { JsonArray } from './json-chunks';

/**
 * Encoders of the frames that carry a chunk of a long array (docs/protocol.md
 * `table` and `list_part`). The array is already JSON (`json-chunks.ts`),
 * encoded once for every recipient; these only wrap it, without parsing or
 * re-encoding it. A unit and a property test decode every output with
 * `ServerToClientFrame`, so the hand-built bytes cannot drift from the schema.
 */

export type TableFrame = FrameOf<ServerToClientFrame, 'table'>;
export type ListPartFrame = FrameOf<ServerToClientFrame, 'list_part'>;
export type ReplyFrame = FrameOf<ServerToClientFrame, 'reply'>;
/** The `reply` fields that carry a list. */
export type ListKey = 'groups' | 'members';

/**
 * Bytes a chunked frame needs besides its array: `type`, `rev` or an `id` of
 * up to 64 chars (quoted, escaped), the flags and the punctuation.
 */
export const FRAME_OVERHEAD_BYTES = 160;
/** Smallest array budget per chunk: a tiny maxFrameBytes must still fit one long entry. */
const MIN_CHUNK_BYTES = 256;

/** Array bytes per chunk for a given maxFrameBytes: whole frames stay at most half of it. */
export function chunkBytes(maxFrameBytes: number): number {
  return Math.max(MIN_CHUNK_BYTES, Math.floor(maxFrameBytes / 2) - FRAME_OVERHEAD_BYTES);
}

const FRAME_TAIL = Buffer.from('}\n', 'latin1');

/** `head` + array + `}\n` in one copy. `head` is ASCII but for an id, so it is encoded as UTF-8. */
function wrap<F extends ServerToClientFrame>(head: string, array: Buffer): EncodedFrame<F> {
  const prefix = Buffer.from(head, 'utf8');
  const length = prefix.length + array.length + FRAME_TAIL.length;
  return asEncodedFrame<F>(Buffer.concat([prefix, array, FRAME_TAIL], length));
}

/** One `table` chunk; `more` marks every chunk of a push but the last, `full` only its first chunk. */
export function encodeTableChunk(rev: number, full: boolean, more: boolean, clients: JsonArray<ClientEntry>): EncodedFrame<TableFrame> {
  const flag = more ? '"more":true,' : '';
  return wrap(`{"type":"table","rev":${rev},"full":${full},${flag}"clients":`, clients);
}

/** One `list_part{id, items}`: a chunk of a long list that precedes its `reply`. */
export function encodeListPart(id: string, items: JsonArray<string>): EncodedFrame<ListPartFrame> {
  return wrap(`{"type":"list_part","id":${JSON.stringify(id)},"items":`, items);
}

/** The final `reply{id, <key>: items}` of a long list. */
export function encodeListReply(id: string, key: ListKey, items: JsonArray<string>): EncodedFrame<ReplyFrame> {
  return wrap(`{"type":"reply","id":${JSON.stringify(id)},"${key}":`, items);
}

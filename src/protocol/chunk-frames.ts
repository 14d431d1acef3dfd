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

const CLOSE_BRACE = 0x7d;
const NEWLINE = 0x0a;

/**
 * `head` + array + `}\n`, written into one buffer: the array is copied once,
 * never re-encoded (measured: as fast as one template string for a one-entry
 * delta, twice as fast at 100 entries). A table head is all ASCII and written
 * as latin1; a list head holds an id, which may not be, and is written as UTF-8.
 */
function wrap<F extends ServerToClientFrame>(
  head: string,
  encoding: 'latin1' | 'utf8',
  array: Buffer,
): EncodedFrame<F> {
  const headBytes = encoding === 'latin1' ? head.length : Buffer.byteLength(head, 'utf8');
  const end = headBytes + array.length;
  const out = Buffer.allocUnsafe(end + 2);
  out.write(head, 0, encoding);
  out.set(array, headBytes);
  out[end] = CLOSE_BRACE;
  out[end + 1] = NEWLINE;
  return asEncodedFrame<F>(out);
}

/** One `table` chunk; `more` marks every chunk of a push but the last, `full` only its first chunk. */
export function encodeTableChunk(
  rev: number,
  full: boolean,
  more: boolean,
  clients: JsonArray<ClientEntry>,
): EncodedFrame<TableFrame> {
  const flag = more ? '"more":true,' : '';
  return wrap(`{"type":"table","rev":${rev},"full":${full},${flag}"clients":`, 'latin1', clients);
}

/** One `list_part{id, items}`: a chunk of a long list that precedes its `reply`. */
export function encodeListPart(id: string, items: JsonArray<string>): EncodedFrame<ListPartFrame> {
  return wrap(`{"type":"list_part","id":${JSON.stringify(id)},"items":`, 'utf8', items);
}

/** The final `reply{id, <key>: items}` of a long list. */
export function encodeListReply(id: string, key: ListKey, items: JsonArray<string>): EncodedFrame<ReplyFrame> {
  return wrap(`{"type":"reply","id":${JSON.stringify(id)},"${key}":`, 'utf8', items);
}

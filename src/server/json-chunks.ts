import type { ClientEntry } from '../protocol/frames';

/**
 * Chunking of long JSON arrays (table pushes, list replies) so that no frame
 * the server sends nears maxFrameBytes (docs/protocol.md, table and
 * list_part). Items are encoded one by one and grouped by byte count; a chunk
 * always holds at least one item, so chunking always makes progress.
 */

/** Bytes a frame needs besides its array (type, rev/id up to 64 chars, flags). */
export const FRAME_OVERHEAD_BYTES = 160;

/** One item's JSON text and its UTF-8 byte length. */
export interface EncodedItem {
  readonly json: string;
  readonly bytes: number;
}

/** Entries are replaced, never mutated, so each one is encoded once for every push it is part of. */
const entryCache = new WeakMap<ClientEntry, EncodedItem>();

/** One entry's JSON and byte length, encoded once per entry object. */
export function encodeEntry(entry: ClientEntry): EncodedItem {
  let item = entryCache.get(entry);
  if (item === undefined) {
    const json = JSON.stringify(entry);
    item = { json, bytes: Buffer.byteLength(json, 'utf8') };
    entryCache.set(entry, item);
  }
  return item;
}

function encodeName(name: string): EncodedItem {
  const json = JSON.stringify(name);
  return { json, bytes: Buffer.byteLength(json, 'utf8') };
}

/** One chunk of an array: its JSON text, the index after its last item, and whether the next item did not fit. */
export interface ArrayChunk {
  readonly json: string;
  readonly end: number;
  /** True when the chunk ended because the next item did not fit (appending items cannot change it). */
  readonly closed: boolean;
}

/**
 * The greedy chunk of `items` from `start`: items while the JSON array text
 * stays within `budget` bytes, and always at least one (so chunking progresses).
 */
export function greedyChunk<T>(
  items: readonly T[], start: number, encode: (item: T) => EncodedItem, budget: number,
): ArrayChunk {
  const parts: string[] = [];
  let bytes = 2; // the brackets
  let end = start;
  while (end < items.length) {
    const item = encode(items[end]!);
    if (parts.length > 0 && bytes + item.bytes + 1 > budget) return { json: `[${parts.join(',')}]`, end, closed: true };
    parts.push(item.json);
    bytes += item.bytes + 1;
    end++;
  }
  return { json: `[${parts.join(',')}]`, end, closed: false };
}

/**
 * Walks an array and yields JSON array texts (`[a,b]`) of at most `budget`
 * bytes each (or one item, if a single item is larger). An empty array yields
 * one `[]`. Lazy: a full table is encoded chunk by chunk as it is paced out.
 */
export class JsonChunker<T> {
  private index = 0;
  private started = false;

  constructor(
    private readonly items: readonly T[],
    private readonly encode: (item: T) => EncodedItem,
    private readonly budget: number,
  ) {}

  /** A chunker over client-table entries (encodings cached per entry). */
  static entries(entries: readonly ClientEntry[], budget: number): JsonChunker<ClientEntry> {
    return new JsonChunker(entries, encodeEntry, budget);
  }

  /** A chunker over names (list replies). */
  static names(names: readonly string[], budget: number): JsonChunker<string> {
    return new JsonChunker(names, encodeName, budget);
  }

  /** True once every item was handed out. */
  get done(): boolean {
    return this.started && this.index >= this.items.length;
  }

  /** The next chunk's JSON array text, or null when done. */
  next(): string | null {
    if (this.done) return null;
    this.started = true;
    const chunk = greedyChunk(this.items, this.index, this.encode, this.budget);
    this.index = chunk.end;
    return chunk.json;
  }

  /** Every remaining chunk. */
  rest(): string[] {
    const chunks: string[] = [];
    for (let chunk = this.next(); chunk !== null; chunk = this.next()) chunks.push(chunk);
    return chunks;
  }
}

/** Encodes one `table` chunk; `more` marks every chunk of a push but the last. */
export function tableFrame(rev: number, full: boolean, more: boolean, clientsJson: string): Buffer {
  const flag = more ? '"more":true,' : '';
  return Buffer.from(`{"type":"table","rev":${rev},"full":${full},${flag}"clients":${clientsJson}}\n`, 'utf8');
}

/** As tableFrame, for a chunk already encoded to bytes (FullTableCache): one copy, no re-encoding. */
export function tableFrameOf(rev: number, full: boolean, more: boolean, clientsJson: Buffer): Buffer {
  const flag = more ? '"more":true,' : '';
  const head = Buffer.from(`{"type":"table","rev":${rev},"full":${full},${flag}"clients":`, 'latin1');
  return Buffer.concat([head, clientsJson, FRAME_TAIL], head.length + clientsJson.length + FRAME_TAIL.length);
}

const FRAME_TAIL = Buffer.from('}\n', 'latin1');

/** Array bytes per chunk for a given maxFrameBytes: whole frames stay at most half of it. */
export function chunkBytes(maxFrameBytes: number): number {
  return Math.max(256, Math.floor(maxFrameBytes / 2) - FRAME_OVERHEAD_BYTES);
}

import type { ClientEntry } from './frames';

/**
 * Long JSON arrays (table pushes, list replies) cut into chunks of bounded
 * size, so that no frame the server sends nears maxFrameBytes
 * (docs/protocol.md, `table` and `list_part`). Items are encoded one by one
 * and grouped by byte count; a chunk always holds at least one item, so
 * chunking always makes progress. Pure: the frames around the chunks are
 * built by `chunk-frames.ts`.
 */

/** One item's JSON text and its UTF-8 byte length. */
export interface EncodedItem {
  readonly json: string;
  readonly bytes: number;
}

declare const jsonArray: unique symbol;

/**
 * UTF-8 bytes of a JSON array text (`[a,b]`) whose items are `T`s. Only this
 * module makes them, from `T`s, so a frame built around one is well typed.
 */
export type JsonArray<T> = Buffer & { readonly [jsonArray]: T };

/** An encoder of one array item. */
export type ItemEncoder<T> = (item: T) => EncodedItem;

/** Entries are replaced, never mutated, so each one is encoded once for every push it is part of. */
const entryCache = new WeakMap<ClientEntry, EncodedItem>();

/** One entry's JSON and byte length, encoded once per entry object. */
export function encodeEntry(entry: ClientEntry): EncodedItem {
  let item = entryCache.get(entry);
  if (item === undefined) {
    item = encodeItem(entry);
    entryCache.set(entry, item);
  }
  return item;
}

/** One name's JSON and byte length. */
export function encodeName(name: string): EncodedItem {
  return encodeItem(name);
}

function encodeItem(value: unknown): EncodedItem {
  const json = JSON.stringify(value);
  return { json, bytes: Buffer.byteLength(json, 'utf8') };
}

/** One chunk of an array: its JSON bytes, the index after its last item, and whether the next item did not fit. */
export interface ArrayChunk<T> {
  readonly json: JsonArray<T>;
  readonly end: number;
  /** True when the chunk ended because the next item did not fit (appending items cannot change it). */
  readonly closed: boolean;
}

/** Bytes of the brackets around an array's items. */
const BRACKETS_BYTES = 2;

/**
 * The greedy chunk of `items` from `start`: items while the JSON array text
 * stays within `budget` bytes, and always at least one (so chunking progresses).
 */
export function greedyChunk<T>(
  items: readonly T[],
  start: number,
  encode: ItemEncoder<T>,
  budget: number,
): ArrayChunk<T> {
  const parts: string[] = [];
  let bytes = BRACKETS_BYTES;
  let end = start;
  while (end < items.length) {
    const item = encode(items[end]!);
    if (parts.length > 0 && bytes + item.bytes + 1 > budget) return { json: arrayOf(parts), end, closed: true };
    parts.push(item.json);
    bytes += item.bytes + 1; // the item and its comma
    end++;
  }
  return { json: arrayOf(parts), end, closed: false };
}

function arrayOf<T>(parts: readonly string[]): JsonArray<T> {
  return Buffer.from(`[${parts.join(',')}]`, 'utf8') as JsonArray<T>;
}

/**
 * Every chunk of `items`: JSON arrays of at most `budget` bytes each (or one
 * item, if a single item is larger), in order. An empty array is one `[]`.
 */
export function chunkArray<T>(items: readonly T[], encode: ItemEncoder<T>, budget: number): JsonArray<T>[] {
  const chunks: JsonArray<T>[] = [];
  let start = 0;
  do {
    const chunk = greedyChunk(items, start, encode, budget);
    chunks.push(chunk.json);
    start = chunk.end;
  } while (start < items.length);
  return chunks;
}

/** The chunks of client-table entries (encodings cached per entry). */
export function chunkEntries(entries: readonly ClientEntry[], budget: number): JsonArray<ClientEntry>[] {
  return chunkArray(entries, encodeEntry, budget);
}

/** The chunks of a list of names (list replies). */
export function chunkNames(names: readonly string[], budget: number): JsonArray<string>[] {
  return chunkArray(names, encodeName, budget);
}

import type { ClientEntry } from '../protocol/frames';
import { encodeEntry, greedyChunk, type JsonArray } from '../protocol/json-chunks';

/** One cached chunk: entries [start, end) of the snapshot it was built from, as JSON array bytes. */
interface CachedChunk {
  readonly start: number;
  readonly end: number;
  readonly json: JsonArray<ClientEntry>;
  /** True when the chunk ended because the next entry did not fit: appending cannot change it (ArrayChunk). */
  readonly closed: boolean;
}

/**
 * The full table's `table` chunks, kept across full-table sends (docs/architecture.md,
 * table push). During a registration storm every registrant needs the whole
 * table, and it differs from the previous registrant's by one or two entries:
 * re-encoding N entries per registrant is O(N²) in all. So the chunks of the
 * last snapshot are kept, and a new snapshot reuses every closed chunk whose
 * entries are the very same objects (entries are replaced, never mutated),
 * re-encoding only chunks that hold a changed entry and the open tail. The
 * comparison is by identity, so the result is always exactly the snapshot
 * given, whatever changed in between. Chunks are greedy (as chunkEntries): at
 * most `budget` bytes, at least one entry; an empty table is one `[]`.
 */
export class FullTableCache {
  private entries: readonly ClientEntry[] = [];
  private chunks: readonly CachedChunk[] = [];

  constructor(private readonly budget: number) {}

  /** The JSON array chunks of `snapshot` (O(N) identity checks, plus encoding what changed). */
  chunksOf(snapshot: readonly ClientEntry[]): readonly JsonArray<ClientEntry>[] {
    if (snapshot !== this.entries) this.rebuild(snapshot);
    return this.chunks.map((c) => c.json);
  }

  private rebuild(snapshot: readonly ClientEntry[]): void {
    const next: CachedChunk[] = [];
    let k = 0; // index into the old chunks, moving forward with `start`
    let start = 0;
    do {
      while (k < this.chunks.length && this.chunks[k]!.start < start) k++;
      const old = this.chunks[k];
      const chunk = old !== undefined && this.reusable(old, start, snapshot) ? old : this.encode(snapshot, start);
      next.push(chunk);
      start = chunk.end;
    } while (start < snapshot.length);
    this.entries = snapshot;
    this.chunks = next;
  }

  /** True when `old` starts at `start`, is closed, and holds the same entry objects as `snapshot` there. */
  private reusable(old: CachedChunk, start: number, snapshot: readonly ClientEntry[]): boolean {
    if (old.start !== start || !old.closed || old.end > snapshot.length) return false;
    for (let i = start; i < old.end; i++) if (snapshot[i] !== this.entries[i]) return false;
    return true;
  }

  /** Encodes one greedy chunk of `snapshot` from `start`. */
  private encode(snapshot: readonly ClientEntry[], start: number): CachedChunk {
    const chunk = greedyChunk(snapshot, start, encodeEntry, this.budget);
    return { start, end: chunk.end, json: chunk.json, closed: chunk.closed };
  }
}

import type { ClientEntry } from '../protocol/frames';
import { foldName } from '../protocol/names';

/** A `table` push as the client applies it. */
export interface TablePush {
  readonly full: boolean;
  readonly clients: readonly ClientEntry[];
}

/** One `table` frame: a whole push, or one chunk of it (`more` on all but the last). */
export interface TableChunk extends TablePush {
  readonly more?: boolean;
}

/**
 * The client's copy of the server's client table (docs/usage.md "Server": pushed on every
 * change). A full push replaces it; a delta replaces the listed entries by name.
 * Names are looked up without regard to case, as the server compares them
 * (docs/usage.md "Names").
 */
export class TableCopy {
  /** Folded name → entry (which keeps the name as the server shows it). */
  private readonly entries = new Map<string, ClientEntry>();
  /** The push being received in chunks, applied at its last chunk. */
  private partial: { full: boolean; clients: ClientEntry[] } | null = null;

  /**
   * Takes one `table` frame (docs/protocol.md): chunks of a push are collected
   * and the push is applied at its last chunk, at once. Returns true when a
   * push was applied (the table changed as one update).
   */
  receive(chunk: TableChunk): boolean {
    if (this.partial === null || chunk.full) this.partial = { full: chunk.full, clients: [] };
    for (const entry of chunk.clients) this.partial.clients.push(entry);
    if (chunk.more === true) return false;
    const push = this.partial;
    this.partial = null;
    this.apply(push);
    return true;
  }

  /** Drops a push received only in part (its connection was lost). */
  dropPartial(): void {
    this.partial = null;
  }

  /** Applies a push from the server. */
  apply(push: TablePush): void {
    if (push.full) this.entries.clear();
    for (const entry of push.clients) this.entries.set(foldName(entry.name), entry);
  }

  /** The entry for `name` in any case, if the table lists it. */
  get(name: string): ClientEntry | undefined {
    return this.entries.get(foldName(name));
  }

  /** Forgets everything (e.g. before a fresh full table). */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every entry, in insertion order. */
  snapshot(): readonly ClientEntry[] {
    return [...this.entries.values()];
  }
}

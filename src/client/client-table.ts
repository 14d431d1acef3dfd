import type { ClientEntry } from '../protocol/frames';

/** A `table` push as the client applies it. */
export interface TablePush {
  readonly full: boolean;
  readonly clients: readonly ClientEntry[];
}

/**
 * The client's copy of the server's client table (SPEC §4: pushed on every
 * change). A full push replaces it; a delta replaces the listed entries by name.
 */
export class ClientTable {
  private readonly entries = new Map<string, ClientEntry>();

  /** Applies a push from the server. */
  apply(push: TablePush): void {
    if (push.full) this.entries.clear();
    for (const entry of push.clients) this.entries.set(entry.name, entry);
  }

  /** The entry for `name`, if the table lists it. */
  get(name: string): ClientEntry | undefined {
    return this.entries.get(name);
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

import { RECEIVED, getValue, putValue } from './idb.js';

/** How a checked private message compares with what this page already took (docs/security.md "Replay"). */
export type ReplayVerdict = 'new' | 'seen' | 'too_old';

/** Most `(from, id)` pairs remembered per name; past it the oldest goes and the floor rises. */
const CAPACITY = 2_000;

interface Kept {
  readonly floor: number;
  /** `[from, id, ts]`, oldest accepted first. */
  readonly entries: ReadonlyArray<readonly [string, string, number]>;
}

/**
 * The private messages this page accepted for one name, kept in IndexedDB so
 * that a replayed message — the same envelope relayed again, or a saved one
 * the server sends again after a crash — is never shown twice, also after a
 * reload. Like the CLI's journal (src/client/received-log.ts) it is bounded:
 * forgetting the oldest raises a floor, and anything not remembered at or
 * below the floor is refused, so forgetting never reopens a replay.
 */
export class ReceivedIds {
  private readonly entries = new Map<string, number>();
  private floor = -1;
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly owner: string) {}

  /** The memory of `name` (any case), empty on first use. */
  static async load(name: string): Promise<ReceivedIds> {
    const ids = new ReceivedIds(name.toLowerCase());
    const kept = (await getValue(RECEIVED, ids.owner)) as Kept | undefined;
    if (kept !== undefined) {
      ids.floor = kept.floor;
      for (const [from, id, ts] of kept.entries) ids.entries.set(key(from, id), ts);
    }
    return ids;
  }

  check(from: string, id: string, ts: number): ReplayVerdict {
    if (this.entries.has(key(from, id))) return 'seen';
    return ts <= this.floor ? 'too_old' : 'new';
  }

  /** Remembers an accepted message; resolves once it is written (before it is acked). */
  record(from: string, id: string, ts: number): Promise<void> {
    this.entries.set(key(from, id), ts);
    while (this.entries.size > CAPACITY) {
      const [oldest, oldestTs] = this.entries.entries().next().value as [string, number];
      this.entries.delete(oldest);
      this.floor = Math.max(this.floor, oldestTs);
    }
    const snapshot: Kept = {
      floor: this.floor,
      entries: [...this.entries].map(([k, ts]) => [...(k.split('\n') as [string, string]), ts] as const),
    };
    // Writes go one after another, so the last one written is the newest state.
    this.saving = this.saving.then(() => putValue(RECEIVED, this.owner, snapshot)).catch(() => undefined);
    return this.saving;
  }
}

function key(from: string, id: string): string {
  return `${from.toLowerCase()}\n${id}`;
}

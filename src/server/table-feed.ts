import type { ClientEntry } from '../protocol/frames';
import type { JsonArray } from '../protocol/json-chunks';

/** One changed entry and the change counter when it changed. */
export interface TableChange {
  readonly entry: ClientEntry;
  readonly at: number;
}

/** The changes of one flush, with their chunks encoded once for every recipient. */
export interface DeltaBatch {
  readonly changes: readonly TableChange[];
  readonly chunks: readonly JsonArray<ClientEntry>[];
}

/** What a flush does for one connection. */
export type DeltaRoute =
  /** No table sent yet: nothing to update. */
  | 'none'
  /** Its full table is still going out: the batch is held and follows it. */
  | 'hold'
  /** Live, and its full table predates the whole batch: the shared chunks go out. */
  | 'all'
  /** Live, but its full table already had some of the batch: only the later changes go. */
  | 'fresh';

/**
 * One connection's table pushes (docs/protocol.md `table`): the revision
 * counter, which full table is current, the change counter it covered, and
 * the delta batches held back while it is paced out. Only TablePusher
 * drives it.
 */
export class TableFeed {
  private rev = 0;
  private gen = 0;
  private fullAt = -1;
  private live = false;
  private held: DeltaBatch[] = [];
  /** A full table started but whose chunks are not yet being sent. */
  private started: { rev: number; gen: number } | null = null;

  /** The change counter the current full table covered. */
  get fullTableAt(): number {
    return this.fullAt;
  }

  /** Starts a full table covering changes up to `counter`; returns its rev and generation. */
  startFull(counter: number): { rev: number; gen: number } {
    this.fullAt = counter;
    this.live = false;
    this.held = [];
    this.started = { rev: ++this.rev, gen: ++this.gen };
    return this.started;
  }

  /** The full table started by `startFull` and not yet sent, if any (taken once). */
  takeStarted(): { rev: number; gen: number } | null {
    const started = this.started;
    this.started = null;
    return started;
  }

  /** The next push's revision (one per push, shared by its chunks). */
  nextRev(): number {
    return ++this.rev;
  }

  /** True while `gen` is the newest full table (a catch-up of an older one stops). */
  isCurrent(gen: number): boolean {
    return this.gen === gen;
  }

  /** Decides what a flush of `batch` (first change counted `firstAt`) does for this connection. */
  route(batch: DeltaBatch, firstAt: number): DeltaRoute {
    if (this.rev === 0) return 'none';
    if (!this.live) {
      this.held.push(batch);
      return 'hold';
    }
    return this.fullAt < firstAt ? 'all' : 'fresh';
  }

  /** Takes the held batches' changes newer than the full table, merged per name in change order. */
  takeHeld(): TableChange[] {
    const merged = new Map<string, TableChange>();
    for (const batch of this.held) {
      for (const change of batch.changes) {
        if (change.at <= this.fullAt) continue;
        merged.delete(change.entry.name);
        merged.set(change.entry.name, change);
      }
    }
    this.held = [];
    return [...merged.values()];
  }

  /** Everything held was sent: later deltas go straight out. */
  goLive(): void {
    this.live = true;
  }
}

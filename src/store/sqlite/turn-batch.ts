import type Database from 'better-sqlite3';

interface Pending {
  readonly write: () => void;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/**
 * Writes batched into one transaction per event-loop turn (docs/architecture.md
 * "Store"): a burst of group messages read in one turn is one commit. Each
 * write's promise resolves once the transaction holding it committed, so a
 * reply sent after it never promises what a crash could take back; if the
 * commit fails, every write of the batch rejects. Writes run in the order
 * they were queued.
 */
export class TurnBatch {
  private pending: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;

  constructor(private readonly db: Database.Database) {}

  /** Queues `write` (synchronous statements) into this turn's transaction. */
  run(write: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ write, resolve, reject });
      this.scheduled ??= setImmediate(() => this.commit());
    });
  }

  /** Commits what is queued now (also at close). */
  commit(): void {
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    try {
      this.db.transaction(() => {
        for (const p of batch) p.write();
      })();
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve();
  }
}

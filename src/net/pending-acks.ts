import type { Clock, TimerHandle } from '../util/clock';
import { systemClock } from '../util/clock';

/** How a pending ack ended. */
export type AckOutcome<T> =
  { readonly kind: 'acked'; readonly value: T } | { readonly kind: 'timeout' } | { readonly kind: 'closed' };

interface Entry<T> {
  resolve: (outcome: AckOutcome<T>) => void;
  timer: TimerHandle;
}

/**
 * Ids waiting for an ack. Each one settles exactly once — acked, timed out or
 * closed — and is always forgotten when it settles (docs/protocol.md "Transport and framing").
 */
export class PendingAcks<T = void> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** Waits up to `timeoutMs` for `settle(id, …)`. Re-waiting on a pending id replaces nothing: it throws. */
  wait(id: string, timeoutMs: number): Promise<AckOutcome<T>> {
    if (this.entries.has(id)) throw new Error(`already waiting for ${id}`);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.finish(id, { kind: 'timeout' }), timeoutMs);
      this.entries.set(id, { resolve, timer });
    });
  }

  /** Settles `id` as acked; returns false when nothing was waiting (late or duplicate ack). */
  settle(id: string, value: T): boolean {
    return this.finish(id, { kind: 'acked', value });
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Settles every pending id as closed (connection gone). */
  closeAll(): void {
    for (const id of [...this.entries.keys()]) this.finish(id, { kind: 'closed' });
  }

  private finish(id: string, outcome: AckOutcome<T>): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    this.clock.clearTimeout(entry.timer);
    entry.resolve(outcome);
    return true;
  }
}

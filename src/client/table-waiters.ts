import type { Clock, TimerHandle } from '../util/clock';

/**
 * Callers waiting for the next client-table update, each with its own timeout
 * (the peer listener waits here when a dm's sender is not yet in the table).
 */
export class TableWaiters {
  private readonly waiters = new Set<{ resolve: (updated: boolean) => void; timer: TimerHandle }>();

  constructor(private readonly clock: Clock) {}

  /** Resolves true at the next `notify`, false after `timeoutMs`. */
  next(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = {
        resolve,
        timer: this.clock.setTimeout(() => {
          this.waiters.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** A table update arrived: wakes every waiter. */
  notify(): void {
    this.settleAll(true);
  }

  /** Wakes every waiter with false and clears their timers. */
  close(): void {
    this.settleAll(false);
  }

  private settleAll(updated: boolean): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const waiter of all) {
      this.clock.clearTimeout(waiter.timer);
      waiter.resolve(updated);
    }
  }
}

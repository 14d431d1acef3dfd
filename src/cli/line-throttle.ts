import type { Clock, TimerHandle } from '../util/clock';

/**
 * Prints a repeated status line at most once per interval (docs/usage.md,
 * `[Client table updated.]`): the first trigger prints at once (leading
 * edge); triggers within the interval after a print are merged into one
 * trailing print at its end. Nothing is lost: every trigger is covered by a
 * print at or after it.
 */
export class LineThrottle {
  private lastPrint = Number.NEGATIVE_INFINITY;
  private trailing: TimerHandle | null = null;
  private leadNextTrigger = false;

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly print: () => void,
  ) {}

  /** Something changed: print now if the interval since the last print has passed, else once at its end. */
  trigger(): void {
    if (this.leadNextTrigger) {
      this.leadNextTrigger = false;
      return this.now();
    }
    if (this.trailing !== null) return; // already due
    const wait = this.lastPrint + this.intervalMs - this.clock.now();
    if (wait <= 0) return this.fire();
    this.trailing = this.clock.setTimeout(() => {
      this.trailing = null;
      this.fire();
    }, wait);
  }

  /**
   * The next trigger prints at once, whatever the interval: it starts a
   * sequence of lines that must stay as written (e.g. after a reconnect).
   */
  leadNext(): void {
    this.leadNextTrigger = true;
  }

  /** Prints now whatever the interval, absorbing a due trailing print. */
  now(): void {
    this.cancel();
    this.fire();
  }

  /** Drops a due trailing print (the session is ending). */
  cancel(): void {
    if (this.trailing !== null) this.clock.clearTimeout(this.trailing);
    this.trailing = null;
  }

  private fire(): void {
    this.lastPrint = this.clock.now();
    this.print();
  }
}

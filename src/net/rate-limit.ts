import type { Clock } from '../util/clock';

/** Token bucket: `ratePerSec` tokens refill per second up to `burst`. */
export class RateLimiter {
  /**
   * Tokens in thousandths, so a refill of `elapsedMs * ratePerSec` stays an exact
   * integer: summing fractional floats (0.1 per ms at 100/s) fell short of 1 and
   * granted ~9% less than the configured rate.
   */
  private milliTokens: number;
  private last: number;

  constructor(
    private readonly ratePerSec: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.milliTokens = burst * 1000;
    this.last = clock.now();
  }

  /** Takes one token; false when the bucket is empty (the event is over the limit). */
  take(): boolean {
    const now = this.clock.now();
    if (now > this.last) {
      this.milliTokens = Math.min(this.burst * 1000, this.milliTokens + (now - this.last) * this.ratePerSec);
      this.last = now;
    }
    if (this.milliTokens < 1000) return false;
    this.milliTokens -= 1000;
    return true;
  }

  /** Gives back a token taken for an event that turned out not to count (never above the burst). */
  refund(): void {
    this.milliTokens = Math.min(this.burst * 1000, this.milliTokens + 1000);
  }
}

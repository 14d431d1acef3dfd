import type { Clock, TimerHandle } from '../util/clock';

/** Something checked on every tick of a shared ticker (deadlines, heartbeats). */
export interface Tickable {
  /** Called once per period with the clock's current time. */
  tick(now: number): void;
}

/**
 * One interval timer that sweeps every registered member, instead of one
 * `setInterval` per connection: with thousands of idle connections a timer,
 * its closure and its place in the timer list per connection cost memory and
 * wake-ups for nothing. The timer exists only while the ticker has members, so
 * an idle process (or a test's fake clock) is left with no timer at all.
 */
export class SharedTicker {
  private readonly members = new Set<Tickable>();
  private handle: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    /** Milliseconds between sweeps. */
    readonly periodMs: number,
  ) {}

  /** Number of members swept on each tick. */
  get size(): number {
    return this.members.size;
  }

  /** True while the interval timer is armed (i.e. there are members). */
  get running(): boolean {
    return this.handle !== null;
  }

  /** Adds `member` to every following sweep; arms the timer for the first member. */
  add(member: Tickable): void {
    this.members.add(member);
    this.handle ??= this.clock.setInterval(() => this.sweep(), this.periodMs);
  }

  /** Removes `member`; the timer is cleared when the last member leaves. */
  remove(member: Tickable): void {
    if (!this.members.delete(member) || this.members.size > 0 || this.handle === null) return;
    this.clock.clearInterval(this.handle);
    this.handle = null;
  }

  /**
   * Ticks every member with one reading of the clock. A member that leaves
   * during the sweep (a tick may close a connection) is simply skipped or
   * finished; `Set` iteration tolerates deletion.
   */
  private sweep(): void {
    const now = this.clock.now();
    for (const member of this.members) member.tick(now);
  }
}

/** Tickers per clock, one per period: a fake clock in a test gets its own, and is collected with it. */
const registry = new WeakMap<Clock, Map<number, SharedTicker>>();

/** The shared ticker of `clock` that sweeps every `periodMs`, created on first use. */
export function sharedTicker(clock: Clock, periodMs: number): SharedTicker {
  let byPeriod = registry.get(clock);
  if (byPeriod === undefined) {
    byPeriod = new Map();
    registry.set(clock, byPeriod);
  }
  let ticker = byPeriod.get(periodMs);
  if (ticker === undefined) {
    ticker = new SharedTicker(clock, periodMs);
    byPeriod.set(periodMs, ticker);
  }
  return ticker;
}

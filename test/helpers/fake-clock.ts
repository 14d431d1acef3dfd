import type { Clock, TimerHandle } from '../../src/util/clock';

interface FakeTimer {
  readonly __timer: number;
  at: number;
  fn: () => void;
  every: number | null;
}

/**
 * A manual clock for unit and component tests: time moves only when `advance`
 * is called. It lives with the tests, so it never ships in `dist`.
 */
export class FakeClock implements Clock {
  private time = 0;
  private nextId = 1;
  private timers = new Map<number, FakeTimer>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as FakeTimer).__timer);
  }

  clearInterval(handle: TimerHandle): void {
    this.clearTimeout(handle);
  }

  /** Number of timers still scheduled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.timers.values()].filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at); // an overdue timer (after `stall`) fires late, not in the past
      if (due.every === null) this.timers.delete(due.__timer);
      else due.at += due.every;
      due.fn();
    }
    this.time = target;
  }

  /**
   * Moves time forward by `ms` without running anything, as when the event
   * loop is blocked: each overdue interval then fires once (as Node's does)
   * at the next `advance`, and one-shot timers fire late.
   */
  stall(ms: number): void {
    this.time += ms;
    for (const timer of this.timers.values()) if (timer.every !== null && timer.at < this.time) timer.at = this.time;
  }

  private add(fn: () => void, ms: number, every: number | null): FakeTimer {
    const timer: FakeTimer = { __timer: this.nextId++, at: this.time + Math.max(0, ms), fn, every };
    this.timers.set(timer.__timer, timer);
    return timer;
  }
}

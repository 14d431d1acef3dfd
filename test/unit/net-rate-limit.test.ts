import { RateLimiter } from '../../src/net/rate-limit';
import { FakeClock } from '../helpers/fake-clock';

function takeMany(limiter: RateLimiter, n: number): number {
  let granted = 0;
  for (let i = 0; i < n; i++) if (limiter.take()) granted++;
  return granted;
}

describe('RateLimiter', () => {
  it('allows a full burst at once, then nothing until tokens refill', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, 5, clock);
    expect(takeMany(limiter, 100)).toBe(5);
    expect(limiter.take()).toBe(false);
  });

  it('refills at ratePerSec, including fractional tokens over several steps', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(10, 5, clock);
    takeMany(limiter, 5);
    clock.advance(50); // half a token
    expect(limiter.take()).toBe(false);
    clock.advance(50); // the second half
    expect(limiter.take()).toBe(true);
    expect(limiter.take()).toBe(false);
    clock.advance(300);
    expect(takeMany(limiter, 100)).toBe(3);
  });

  it('never accumulates more than the burst', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(1000, 4, clock);
    clock.advance(60_000);
    expect(takeMany(limiter, 100)).toBe(4);
  });

  it('grants ratePerSec frames per second sustained', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(100, 1, clock);
    let granted = 0;
    for (let ms = 0; ms < 10_000; ms++) {
      clock.advance(1);
      if (limiter.take()) granted++;
      if (limiter.take()) granted++;
    }
    expect(granted).toBeGreaterThanOrEqual(999);
    expect(granted).toBeLessThanOrEqual(1001);
  });

  it('refund gives back a token taken for an event that did not count, never above the burst', () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter(1, 2, clock);
    expect(takeMany(limiter, 5)).toBe(2);
    limiter.refund();
    expect(takeMany(limiter, 5)).toBe(1);
    limiter.refund();
    limiter.refund();
    limiter.refund();
    expect(takeMany(limiter, 5)).toBe(2);
  });
});

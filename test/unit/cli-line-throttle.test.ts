import { LineThrottle } from '../../src/cli/line-throttle';
import { FakeClock } from '../helpers/fake-clock';

/** docs/usage.md: `[Client table updated.]` at most once a second, leading edge at once, one trailing line. */
describe('LineThrottle', () => {
  function setup(): { clock: FakeClock; throttle: LineThrottle; printedAt: number[] } {
    const clock = new FakeClock();
    clock.advance(10_000);
    const printedAt: number[] = [];
    const throttle = new LineThrottle(clock, 1_000, () => printedAt.push(clock.now()));
    return { clock, throttle, printedAt };
  }

  it('prints the first trigger at once', () => {
    const { throttle, printedAt } = setup();
    throttle.trigger();
    expect(printedAt).toEqual([10_000]);
  });

  it('merges every trigger within the second after a print into one trailing print at its end', () => {
    const { clock, throttle, printedAt } = setup();
    throttle.trigger();
    for (let i = 0; i < 20; i++) {
      clock.advance(40);
      throttle.trigger();
    }
    expect(printedAt).toEqual([10_000]);
    clock.advance(1_000);
    expect(printedAt).toEqual([10_000, 11_000]);
    expect(clock.pending).toBe(0);
  });

  it('a trigger after a quiet second prints at once again; 20 triggers a second print at most one line a second', () => {
    const { clock, throttle, printedAt } = setup();
    throttle.trigger();
    clock.advance(1_500);
    throttle.trigger();
    expect(printedAt).toEqual([10_000, 11_500]);
    for (let i = 0; i < 59; i++) {
      clock.advance(50);
      throttle.trigger();
    }
    clock.advance(1_000);
    // Triggers every 50 ms from 11.55 s to 14.45 s: one line per second, the last one trailing.
    expect(printedAt).toEqual([10_000, 11_500, 12_500, 13_500, 14_500]);
  });

  it('now() prints at once and absorbs a due trailing print; cancel() drops it', () => {
    const { clock, throttle, printedAt } = setup();
    throttle.trigger();
    clock.advance(100);
    throttle.trigger();
    throttle.now();
    expect(printedAt).toEqual([10_000, 10_100]);
    clock.advance(5_000);
    expect(printedAt).toEqual([10_000, 10_100]);
    throttle.trigger();
    clock.advance(10);
    throttle.trigger();
    throttle.cancel();
    clock.advance(5_000);
    expect(printedAt).toEqual([10_000, 10_100, 15_100]);
  });

  it('leadNext() makes the next trigger print at once, absorbing a due trailing print', () => {
    const { clock, throttle, printedAt } = setup();
    throttle.trigger();
    clock.advance(100);
    throttle.trigger(); // trailing due at 11 s
    throttle.leadNext();
    clock.advance(100);
    expect(printedAt).toEqual([10_000]);
    throttle.trigger();
    expect(printedAt).toEqual([10_000, 10_200]);
    clock.advance(5_000);
    expect(printedAt).toEqual([10_000, 10_200]);
  });
});

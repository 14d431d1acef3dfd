import { FakeClock } from '../helpers/fake-clock';

describe('FakeClock', () => {
  it('moves time only on advance and fires due timeouts in time order', () => {
    const clock = new FakeClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['b', clock.now()]), 20);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['c', clock.now()]), 30);
    expect(clock.now()).toBe(0);
    clock.advance(25);
    expect(fired).toEqual([
      ['a', 10],
      ['b', 20],
    ]);
    expect(clock.now()).toBe(25);
    expect(clock.pending).toBe(1);
  });

  it('fires timers with the same deadline in the order they were set', () => {
    const clock = new FakeClock();
    const fired: number[] = [];
    for (let i = 0; i < 5; i++) clock.setTimeout(() => fired.push(i), 10);
    clock.advance(10);
    expect(fired).toEqual([0, 1, 2, 3, 4]);
  });

  it('repeats intervals once per period until cleared', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const handle = clock.setInterval(() => at.push(clock.now()), 100);
    clock.advance(350);
    expect(at).toEqual([100, 200, 300]);
    clock.clearInterval(handle);
    clock.advance(1000);
    expect(at).toEqual([100, 200, 300]);
    expect(clock.pending).toBe(0);
  });

  it('runs timers scheduled by a firing timer when they fall due within the same advance', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    clock.setTimeout(() => {
      at.push(clock.now());
      clock.setTimeout(() => at.push(clock.now()), 5);
      clock.setTimeout(() => at.push(clock.now()), 50);
    }, 10);
    clock.advance(20);
    expect(at).toEqual([10, 15]);
    clock.advance(40);
    expect(at).toEqual([10, 15, 60]);
  });

  it('lets a timer clear another timer that is due in the same advance', () => {
    const clock = new FakeClock();
    const fired: string[] = [];
    const later = clock.setTimeout(() => fired.push('later'), 20);
    clock.setTimeout(() => {
      fired.push('first');
      clock.clearTimeout(later);
    }, 10);
    clock.advance(100);
    expect(fired).toEqual(['first']);
  });

  it('an interval can clear itself from its own callback', () => {
    const clock = new FakeClock();
    let count = 0;
    const handle = clock.setInterval(() => {
      if (++count === 3) clock.clearInterval(handle);
    }, 10);
    clock.advance(1000);
    expect(count).toBe(3);
    expect(clock.pending).toBe(0);
  });

  it('treats a zero-delay timeout as due now', () => {
    const clock = new FakeClock();
    let fired = false;
    clock.setTimeout(() => (fired = true), 0);
    clock.advance(0);
    expect(fired).toBe(true);
  });
});

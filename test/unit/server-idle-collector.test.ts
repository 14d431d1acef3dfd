import { IdleCollector, type HeapProbe } from '../../src/server/idle-collector';
import { FakeClock } from '../helpers/fake-clock';

const MB = 1 << 20;
const OPTIONS = { everyMs: 1000, growthBytes: 32 * MB, quietBelow: 0.1 };

/** A heap that grows when told and shrinks a little at each collection; the loop is as busy as set. */
class FakeHeap implements HeapProbe {
  heap = 20 * MB;
  busy = 0;
  collections = 0;
  collectableBytes(): number {
    return this.heap;
  }
  busyRatio(): number {
    return this.busy;
  }
  collect(): void {
    this.collections++;
    this.heap = Math.max(20 * MB, this.heap - 10 * MB);
  }
}

describe('IdleCollector: memory goes back once the server is quiet', () => {
  it('does nothing while the heap has not grown by the threshold', () => {
    const clock = new FakeClock();
    const heap = new FakeHeap();
    const collector = new IdleCollector(heap, clock, OPTIONS);
    collector.start();
    heap.heap += 31 * MB;
    clock.advance(10_000);
    expect(heap.collections).toBe(0);
    collector.stop();
  });

  it('never collects while the loop is busy, and starts once it is quiet', () => {
    const clock = new FakeClock();
    const heap = new FakeHeap();
    const collector = new IdleCollector(heap, clock, OPTIONS);
    collector.start();
    heap.heap += 100 * MB;
    heap.busy = 0.5;
    clock.advance(10_000);
    expect(heap.collections).toBe(0);
    heap.busy = 0.01;
    clock.advance(1000);
    expect(heap.collections).toBe(1);
    collector.stop();
  });

  it('collects over several quiet looks to let the heap settle, then goes quiet itself', () => {
    const clock = new FakeClock();
    const heap = new FakeHeap();
    const collector = new IdleCollector(heap, clock, OPTIONS);
    collector.start();
    heap.heap += 100 * MB;
    clock.advance(60_000);
    expect(heap.collections).toBe(6); // the first and five settling ones
    expect(collector.collections).toBe(6);
    heap.heap += 20 * MB; // less than the threshold over where it settled
    clock.advance(60_000);
    expect(heap.collections).toBe(6);
    heap.heap += 40 * MB; // a new burst
    clock.advance(1000);
    expect(heap.collections).toBe(7);
    collector.stop();
  });

  it('a busy look during settling waits for the next quiet one', () => {
    const clock = new FakeClock();
    const heap = new FakeHeap();
    const collector = new IdleCollector(heap, clock, OPTIONS);
    collector.start();
    heap.heap += 100 * MB;
    clock.advance(1000);
    expect(heap.collections).toBe(1);
    heap.busy = 0.9;
    clock.advance(5000);
    expect(heap.collections).toBe(1);
    heap.busy = 0;
    clock.advance(5000);
    expect(heap.collections).toBe(6);
    collector.stop();
    expect(clock.pending).toBe(0);
  });
});

import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Clock, TimerHandle } from '../util/clock';

/** What IdleCollector reads and does; `processHeap()` gives the real one. */
export interface HeapProbe {
  /**
   * Bytes a full collection can give back: V8's total heap size (live,
   * garbage and free pages) plus the external memory its objects hold
   * (Buffers, TLS and key objects). Counting the heap alone missed a burst
   * whose growth was mostly external: 1,900 registrations grew the heap by
   * 21 MB and external memory by 14 MB, under the threshold, and RSS stayed
   * 68 MB up.
   */
  collectableBytes(): number;
  /** Share of the time since the last call the event loop was busy, 0–1. */
  busyRatio(): number;
  /** A full garbage collection, which gives free pages back to the system. */
  collect(): void;
}

/** IdleCollector settings. */
export interface IdleCollectorOptions {
  /** How often to look (ms). */
  readonly everyMs: number;
  /** Growth of the collectable bytes since they last settled that is worth giving back (bytes). */
  readonly growthBytes: number;
  /** The loop counts as quiet below this busy ratio over the last period. */
  readonly quietBelow: number;
}

/** Every 2 s; 16 MiB of growth; quiet under 10 % busy. */
export const IDLE_COLLECTOR_DEFAULTS: IdleCollectorOptions = { everyMs: 2_000, growthBytes: 16 << 20, quietBelow: 0.1 };

/**
 * Collections after the first one of a quiet spell, one per quiet look: V8
 * compacts the old generation over several collections, and shrinks the
 * young one only in a collection that comes once its allocation rate has
 * been low for a few seconds (measured: the heap went 89 → 65 → 58 MB, then
 * to 27 MB at the sixth collection, 10 s after the burst).
 */
const SETTLING_COLLECTIONS = 5;

/**
 * Gives memory back once the server is quiet again (docs/security.md
 * "Memory after an attack"). V8 collects garbage only while the program
 * allocates, so a Node process that goes quiet after a burst — an attacker
 * gone, a crowd that left — keeps every page its heap grew to, garbage
 * included, for as long as it stays quiet: measured here, 100 MB for as long
 * as we watched. This looks every `everyMs`; when the heap and the external
 * memory it holds have grown by `growthBytes` since they last settled and the event loop was quiet over the
 * last period, it runs a full collection, and one more at each of the next
 * quiet looks (`SETTLING_COLLECTIONS`): 10–20 ms each for a heap of 100 MB,
 * when nobody is waiting. It never runs while the loop is busy, and goes
 * quiet itself once the heap has settled.
 */
export class IdleCollector {
  private timer: TimerHandle | null = null;
  /** The heap size once it last settled (or at start). */
  private floor: number;
  /** Collections still to run in this quiet spell. */
  private settling = 0;
  /** Collections run (tests, figures). */
  collections = 0;

  constructor(
    private readonly probe: HeapProbe,
    private readonly clock: Clock,
    private readonly options: IdleCollectorOptions = IDLE_COLLECTOR_DEFAULTS,
  ) {
    this.floor = probe.collectableBytes();
  }

  /** Starts looking (the timer never keeps the process alive with the system clock). */
  start(): void {
    if (this.timer !== null) return;
    this.probe.busyRatio(); // the first period starts now
    this.timer = this.clock.setInterval(() => this.check(), this.options.everyMs);
  }

  stop(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  private check(): void {
    const heap = this.probe.collectableBytes();
    const busy = this.probe.busyRatio();
    if (heap < this.floor) this.floor = heap; // V8 shrank it by itself
    if (busy >= this.options.quietBelow) return; // never while anybody is being served
    if (this.settling > 0) {
      this.collect();
      if (--this.settling === 0) this.floor = this.probe.collectableBytes();
    } else if (heap - this.floor >= this.options.growthBytes) {
      this.collect();
      this.settling = SETTLING_COLLECTIONS;
    }
  }

  private collect(): void {
    this.probe.collect();
    this.collections++;
  }
}

/**
 * The probe of this process, or null where a collection cannot be asked for.
 * Node has no API for a collection without `--expose-gc`; the flag can be
 * set at run time and `gc` fetched from a fresh context, as
 * jest-leak-detector does. If V8 refuses, the collector is simply not run.
 */
export function processHeap(): HeapProbe | null {
  const gc = exposedGc();
  if (gc === null) return null;
  let last: EventLoopUtilization = performance.eventLoopUtilization();
  return {
    collectableBytes: () => {
      const stats = v8.getHeapStatistics();
      return stats.total_heap_size + stats.external_memory;
    },
    busyRatio: () => {
      const now = performance.eventLoopUtilization();
      const ratio = performance.eventLoopUtilization(now, last).utilization;
      last = now;
      return ratio;
    },
    collect: gc,
  };
}

function exposedGc(): (() => void) | null {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    return typeof gc === 'function' ? () => (gc as () => void)() : null;
  } catch {
    return null;
  }
}

/**
 * Pure counting helpers for the benchmark: a latency histogram with bounded
 * relative error, per-sender sequence checks (lost / duplicate / out of order)
 * and a check that every member sees one and the same group order. No I/O, so
 * test/unit/bench-stats.test.ts can drive them directly.
 */

/** Relative width of one histogram bucket: reported percentiles are within +0.5 %. */
const BUCKET_GROWTH = 1.005;
const LOG_GROWTH = Math.log(BUCKET_GROWTH);
/** Buckets up to BUCKET_GROWTH^4000 µs ≈ 8 minutes; anything longer lands in the last one. */
const BUCKET_COUNT = 4001;

/** Percentiles the reports print, in milliseconds (null when nothing was recorded). */
export interface LatencySummary {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * Log-bucketed latency histogram (HdrHistogram-like, fixed memory). Millions of
 * samples per second cost one Math.log each; a percentile is the upper edge of
 * the bucket that holds that rank, clipped to the exact maximum.
 */
export class LatencyHistogram {
  private readonly buckets = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private maxMs = 0;

  get count(): number {
    return this.total;
  }

  /** Records `count` samples of `ms` milliseconds (negative values count as 0). */
  record(ms: number, count = 1): void {
    const us = ms > 0 ? ms * 1000 : 0;
    const index = us < 1 ? 0 : Math.min(BUCKET_COUNT - 1, 1 + Math.floor(Math.log(us) / LOG_GROWTH));
    this.buckets[index]! += count;
    this.total += count;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Adds every sample of `other` to this histogram. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKET_COUNT; i++) this.buckets[i]! += other.buckets[i]!;
    this.total += other.total;
    if (other.maxMs > this.maxMs) this.maxMs = other.maxMs;
  }

  /** Nearest-rank percentile `p` (0 < p ≤ 100) in ms, or null when empty. */
  percentile(p: number): number | null {
    if (this.total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.maxMs, upperEdgeMs(i));
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      p50: this.percentile(50),
      p90: this.percentile(90),
      p99: this.percentile(99),
      max: this.total === 0 ? null : this.maxMs,
    };
  }
}

function upperEdgeMs(index: number): number {
  return index === 0 ? 0.001 : Math.pow(BUCKET_GROWTH, index) / 1000;
}

/** Exact nearest-rank percentile of ascending `sorted` values (reference for the histogram). */
export function exactPercentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

/** Counters shared by all sequence checks of one scenario run. */
export interface DeliveryCounts {
  /** Distinct (sender, n) messages received, summed over receivers. */
  unique: number;
  duplicates: number;
  /** Messages that arrived after a later message of the same sender. */
  outOfOrder: number;
}

export function newDeliveryCounts(): DeliveryCounts {
  return { unique: 0, duplicates: 0, outOfOrder: 0 };
}

/**
 * What one receiver has seen from one sender, whose messages are numbered
 * 0, 1, 2 … in the order sent. Memory stays O(1) while delivery is in order: only
 * numbers skipped over (a gap) are remembered, until they arrive late.
 */
export class SenderSequence {
  private next = 0;
  private missing: Set<number> | null = null;

  /** Highest number seen plus one. */
  get expectedNext(): number {
    return this.next;
  }

  /** Numbers skipped and not (yet) received. */
  get gaps(): number {
    return this.missing?.size ?? 0;
  }

  /** The numbers skipped and not (yet) received. */
  missingNumbers(): Iterable<number> {
    return this.missing ?? [];
  }

  /** Whether message `n` was received. */
  has(n: number): boolean {
    return n >= 0 && n < this.next && !(this.missing?.has(n) ?? false);
  }

  /** Records message `n` and updates `counts`; returns whether it was new. */
  record(n: number, counts: DeliveryCounts): boolean {
    if (n === this.next) {
      this.next++;
      counts.unique++;
      return true;
    }
    if (n > this.next) {
      this.missing ??= new Set();
      for (let k = this.next; k < n; k++) this.missing.add(k);
      this.next = n + 1;
      counts.unique++;
      return true;
    }
    if (this.missing?.delete(n)) {
      counts.outOfOrder++;
      counts.unique++;
      return true;
    }
    counts.duplicates++;
    return false;
  }
}

/**
 * One receiver's view: a SenderSequence per sender index plus the group order
 * it saw. `group_msg.seq` must rise strictly at every receiver.
 */
export class ReceiverLedger {
  private readonly senders: (SenderSequence | undefined)[] = [];
  private lastGroupSeq = -1;
  /** group seqs that did not rise (a reordering or a repeat of the group order). */
  groupOrderViolations = 0;
  /** What this receiver got, so receivers removed from the group can be told apart. */
  readonly counts: DeliveryCounts = newDeliveryCounts();

  /** Records message `n` of sender `sender` delivered with group sequence `groupSeq`. */
  record(sender: number, n: number, groupSeq: number): boolean {
    if (groupSeq <= this.lastGroupSeq) this.groupOrderViolations++;
    else this.lastGroupSeq = groupSeq;
    let seq = this.senders[sender];
    if (seq === undefined) {
      seq = new SenderSequence();
      this.senders[sender] = seq;
    }
    return seq.record(n, this.counts);
  }

  /** What this receiver got from sender `sender` (undefined: nothing at all). */
  from(sender: number): SenderSequence | undefined {
    return this.senders[sender];
  }

  /** Number of sender messages skipped over and never received (so far). */
  gaps(): number {
    let total = 0;
    for (const seq of this.senders) total += seq?.gaps ?? 0;
    return total;
  }

  /** Highest group seq this receiver has seen (-1 when none). */
  get highestGroupSeq(): number {
    return this.lastGroupSeq;
  }
}

/**
 * Checks that every receiver maps a group seq to the same (sender, n): "every
 * member sees the messages of a group in one and the same order" (docs/usage.md "Server").
 */
export class GroupOrderCheck {
  private keys = new Float64Array(1024).fill(-1);
  mismatches = 0;

  /** Records that group seq `seq` carried message `n` of `sender`. */
  record(seq: number, sender: number, n: number): void {
    if (seq >= this.keys.length) this.grow(seq);
    const key = sender * 2 ** 26 + n;
    const known = this.keys[seq]!;
    if (known === -1) this.keys[seq] = key;
    else if (known !== key) this.mismatches++;
  }

  private grow(seq: number): void {
    let size = this.keys.length;
    while (size <= seq) size *= 2;
    const next = new Float64Array(size).fill(-1);
    next.set(this.keys);
    this.keys = next;
  }
}

/** Formats a number of bytes as KiB/MiB for tables. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

/** Rounds to `digits` decimals (report figures). */
export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A latency summary rounded to µs. */
export function roundLatency(summary: LatencySummary): LatencySummary {
  const r = (v: number | null): number | null => (v === null ? null : round(v, 3));
  return { p50: r(summary.p50), p90: r(summary.p90), p99: r(summary.p99), max: r(summary.max) };
}

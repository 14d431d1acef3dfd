import { performance } from 'node:perf_hooks';

/**
 * The text of every bench message carries its own send time and identity, so
 * receivers measure latency and check sequences from what they actually got:
 * `<sent µs>.<sender>.<n>.` in base 36, padded with `x` to the requested size.
 * All clients live in one load-generator process, so performance.now() is one
 * monotonic clock for senders and receivers.
 */

/** Shortest message that still carries the header for realistic runs (16 B fits up to ~1 h, 1,296 senders). */
export const MIN_TEXT_BYTES = 16;

/** Milliseconds on the load generator's monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

/** Builds the text of message `n` of `sender`, `size` characters long (longer if the header needs it). */
export function encodeBenchText(sender: number, n: number, size: number, atMs: number = nowMs()): string {
  const header = `${Math.round(atMs * 1000).toString(36)}.${sender.toString(36)}.${n.toString(36)}.`;
  return header.length >= size ? header : header + 'x'.repeat(size - header.length);
}

/** What a receiver learns from a bench text; null when the text is not one. */
export interface BenchTextMeta {
  readonly sentAtMs: number;
  readonly sender: number;
  readonly n: number;
}

export function decodeBenchText(text: string): BenchTextMeta | null {
  return decodeBenchTextAt(text, 0);
}

/** decodeBenchText of the text starting at `from` in `line` (no substring copy on the receivers' hot path). */
export function decodeBenchTextAt(line: string, from: number): BenchTextMeta | null {
  const a = line.indexOf('.', from);
  const b = a < 0 ? -1 : line.indexOf('.', a + 1);
  const c = b < 0 ? -1 : line.indexOf('.', b + 1);
  if (c < 0) return null;
  const us = parseInt(line.slice(from, a), 36);
  const sender = parseInt(line.slice(a + 1, b), 36);
  const n = parseInt(line.slice(b + 1, c), 36);
  if (!Number.isFinite(us) || !Number.isFinite(sender) || !Number.isFinite(n)) return null;
  return { sentAtMs: us / 1000, sender, n };
}

const names: string[] = [];

/** The name client `index` registers as (`b<index>`), memoized: receivers check every delivery's `from` against it. */
export function clientName(index: number): string {
  return (names[index] ??= `b${index}`);
}

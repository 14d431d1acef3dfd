/**
 * The lines one output stream has printed, as a bounded log with absolute
 * indexes: index i is the i-th line the stream ever printed, even after the
 * oldest lines were dropped. Marks taken before an action therefore stay
 * valid however much the process prints meanwhile.
 */

/** A line matcher: an exact line (string), a pattern tested against each line, or a predicate. */
export type LineMatcher = string | RegExp | ((line: string) => boolean);

/** Whether `line` satisfies `matcher`. */
export function matches(line: string, matcher: LineMatcher): boolean {
  if (typeof matcher === 'string') return line === matcher;
  if (typeof matcher === 'function') return matcher(line);
  matcher.lastIndex = 0; // a /g or /y pattern must not carry state from one line to the next
  return matcher.test(line);
}

/** `matcher` for failure messages. */
export function describeMatcher(matcher: LineMatcher): string {
  if (typeof matcher === 'function') return `matching ${matcher.name || 'a predicate'}`;
  return typeof matcher === 'string' ? JSON.stringify(matcher) : String(matcher);
}

export class LineLog {
  private readonly kept: string[] = [];
  private dropped = 0;
  private unfinished = '';

  /**
   * @param maxLines lines always kept; older ones are dropped (their indexes stay counted)
   * @param stripCr drop a `\r` ending a line (a pseudo-terminal ends lines with `\r\n`); otherwise lines are kept byte for byte
   */
  constructor(
    private readonly maxLines: number,
    private readonly stripCr = false,
  ) {}

  /** Number of lines printed so far: the index the next line will get. */
  get length(): number {
    return this.dropped + this.kept.length;
  }

  /** Index of the oldest line still kept. */
  get first(): number {
    return this.dropped;
  }

  /** The unfinished last line (e.g. a prompt), '' if none. */
  get partial(): string {
    return this.unfinished;
  }

  /** Appends decoded text. */
  append(text: string): void {
    const parts = (this.unfinished + text).split('\n');
    this.unfinished = parts.pop() ?? '';
    for (const part of parts) this.push(part);
  }

  /** The stream ended: an unfinished last line becomes a line. */
  finish(): void {
    if (this.unfinished !== '') this.push(this.unfinished);
    this.unfinished = '';
  }

  /** The line at absolute `index`, or undefined if not printed yet or already dropped. */
  at(index: number): string | undefined {
    return index < this.dropped ? undefined : this.kept[index - this.dropped];
  }

  /** Kept lines from absolute index `from` (default: the oldest kept). */
  slice(from = 0): string[] {
    return this.kept.slice(Math.max(0, from - this.dropped));
  }

  /** Absolute index of the first line at or after `from` matching `matcher`, or -1. */
  find(matcher: LineMatcher, from: number): number {
    for (let i = Math.max(from, this.dropped); i < this.length; i++) {
      if (matches(this.kept[i - this.dropped]!, matcher)) return i;
    }
    return -1;
  }

  private push(line: string): void {
    this.kept.push(this.stripCr && line.endsWith('\r') ? line.slice(0, -1) : line);
    // Dropped in batches of a quarter, so a chatty process costs amortised O(1) per line.
    if (this.kept.length > this.maxLines + Math.ceil(this.maxLines / 4)) {
      const excess = this.kept.length - this.maxLines;
      this.kept.splice(0, excess);
      this.dropped += excess;
    }
  }
}

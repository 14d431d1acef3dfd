import { describeMatcher, LineLog, matches, type LineMatcher } from './line-log';
import type { LogFileFollower } from './log-file-follower';
import { DEFAULT_TIMEOUT_MS, Waiters, type Probe } from './waiters';

export type StreamName = 'stdout' | 'stderr';

/** How a process ended: exit code, or the signal that killed it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** Safety net in ms (default 10 s). */
  readonly timeoutMs?: number | undefined;
  /** Which stream to search (default stdout). */
  readonly stream?: StreamName;
  /** Index to search from (see `mark()`). Default: the stream's cursor; an explicit `from` does not move it. */
  readonly from?: number;
}

/**
 * The output side of a child process: its stdout and stderr as line logs,
 * and waits that are re-checked on every line read and on exit (never on a
 * timer). `CliProcess` feeds it; tests read and wait through it.
 */
export class ProcessOutput {
  protected readonly logs: Record<StreamName, LineLog>;
  /** Set when output comes from a log file: it is read before every look and followed while a wait runs. */
  protected follower: LogFileFollower | null = null;
  protected exitInfo: ExitInfo | null = null;
  private readonly cursor: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly waiters = new Waiters(() => this.describe());

  /**
   * @param label names the process in failure messages
   * @param maxLines lines kept per stream
   * @param stripCr drop the `\r` ending each line (output through a pseudo-terminal)
   */
  constructor(
    readonly label: string,
    maxLines: number,
    stripCr: boolean,
  ) {
    this.logs = { stdout: new LineLog(maxLines, stripCr), stderr: new LineLog(maxLines, stripCr) };
  }

  /** The exit status if the process has exited, else null. */
  get exited(): ExitInfo | null {
    return this.exitInfo;
  }

  get alive(): boolean {
    return this.exitInfo === null;
  }

  /** The kept lines of `stream` from index `from` (default: all kept). */
  lines(stream: StreamName = 'stdout', from = 0): string[] {
    this.follower?.readNew();
    return this.logs[stream].slice(from);
  }

  /** The line at `index` of `stream`, if printed and still kept. */
  lineAt(index: number, stream: StreamName = 'stdout'): string | undefined {
    return this.logs[stream].at(index);
  }

  /** The index the next line of `stream` will get: pass it as `from` to only see later lines. */
  mark(stream: StreamName = 'stdout'): number {
    this.follower?.readNew();
    return this.logs[stream].length;
  }

  /** Kept lines of `stream` (default stdout) from `from` (default 0) matching `matcher`. */
  linesMatching(matcher: LineMatcher, options: { stream?: StreamName; from?: number } = {}): string[] {
    return this.lines(options.stream, options.from).filter((line) => matches(line, matcher));
  }

  /** Everything kept of `stream`, including an unfinished last line (e.g. a prompt). */
  output(stream: StreamName = 'stdout'): string {
    const lines = this.lines(stream);
    return (lines.length > 0 ? lines.join('\n') + '\n' : '') + this.logs[stream].partial;
  }

  /**
   * Resolves with the first line matching `matcher` at or after the search
   * start (the cursor, or `options.from`), including lines already printed.
   * Without `from`, the cursor then moves past it. Rejects with the output if
   * the process exits first or the safety net fires.
   */
  async waitForLine(matcher: LineMatcher, options: WaitOptions = {}): Promise<string> {
    const stream = options.stream ?? 'stdout';
    const index = await this.waitForIndex(matcher, { ...options, from: options.from ?? this.cursor[stream] });
    if (options.from === undefined) this.cursor[stream] = Math.max(this.cursor[stream], index + 1);
    return this.logs[stream].at(index) ?? '';
  }

  /** Waits for every matcher, in this order, each after the previous one (cursor semantics as `waitForLine`). */
  async waitForLines(matchers: readonly LineMatcher[], options: WaitOptions = {}): Promise<string[]> {
    const found: string[] = [];
    let from = options.from;
    for (const matcher of matchers) {
      if (from === undefined) {
        found.push(await this.waitForLine(matcher, options));
      } else {
        const index = await this.waitForIndex(matcher, { ...options, from });
        found.push(this.logs[options.stream ?? 'stdout'].at(index) ?? '');
        from = index + 1;
      }
    }
    return found;
  }

  /** Resolves with the index of the first line matching `matcher` at or after `from`. Does not move the cursor. */
  waitForIndex(matcher: LineMatcher, options: WaitOptions & { from: number }): Promise<number> {
    const stream = options.stream ?? 'stdout';
    return this.waitFor(
      `a line ${describeMatcher(matcher)} on ${stream} (from index ${options.from})`,
      options.timeoutMs,
      () => {
        const index = this.logs[stream].find(matcher, options.from);
        return index < 0 ? null : { value: index };
      },
    );
  }

  /** Waits until `count` lines matching `matcher` were printed from `from` (default 0); resolves with them. */
  waitForCount(matcher: LineMatcher, count: number, options: WaitOptions = {}): Promise<string[]> {
    const stream = options.stream ?? 'stdout';
    const from = options.from ?? 0;
    return this.waitFor(
      `${count} lines ${describeMatcher(matcher)} on ${stream} (from index ${from})`,
      options.timeoutMs,
      () => {
        const found = this.logs[stream].slice(from).filter((line) => matches(line, matcher));
        return found.length >= count ? { value: found } : null;
      },
    );
  }

  /** Waits until `predicate` holds, re-checked whenever output arrives (for raw output that line waits cannot see). */
  waitUntil(description: string, predicate: () => boolean, timeoutMs?: number): Promise<void> {
    return this.waitFor(description, timeoutMs, () => (predicate() ? { value: undefined } : null));
  }

  /** Resolves with the exit status; rejects with the output after the safety net. */
  waitForExit(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<ExitInfo> {
    return this.waitFor(
      'the process to exit',
      timeoutMs,
      () => (this.exitInfo ? { value: this.exitInfo } : null),
      false,
    );
  }

  /** Recent output of both streams, for failure messages. */
  describe(maxLines = 60): string {
    const tail = (stream: StreamName): string => {
      const log = this.logs[stream];
      const from = Math.max(log.first, log.length - maxLines);
      const shown = log.slice(from).map((line, i) => `    ${from + i}: ${line}`);
      const partial = log.partial !== '' ? `\n    (partial) ${JSON.stringify(log.partial)}` : '';
      return (from > 0 ? `    … ${from} earlier lines\n` : '') + shown.join('\n') + partial;
    };
    const status = this.exitInfo ? `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}` : 'running';
    return `[${this.label}] (${this.identity()}, ${status}, stdout cursor ${this.cursor.stdout})\n  stdout:\n${tail('stdout')}\n  stderr:\n${tail('stderr')}`;
  }

  /** Who the process is, for `describe` (its pid). */
  protected identity(): string {
    return 'no pid';
  }

  /** Feeds text read from `stream` and re-checks every wait. */
  protected onText(stream: StreamName, text: string): void {
    this.logs[stream].append(text);
    this.waiters.notify();
  }

  /** Records the exit once all output was read: unfinished lines become lines, and waits settle. */
  protected ended(info: ExitInfo): ExitInfo {
    this.follower?.close();
    for (const log of Object.values(this.logs)) log.finish();
    this.exitInfo ??= info;
    this.waiters.notify();
    return this.exitInfo;
  }

  /** A wait re-checked on every line; fails once the process exited (if `failOnExit`). A log file is followed while waits run. */
  private waitFor<T>(what: string, timeoutMs: number | undefined, probe: Probe<T>, failOnExit = true): Promise<T> {
    this.follower?.follow(true);
    this.follower?.readNew();
    const hopeless = (): string | null => (failOnExit && this.exitInfo ? 'process exited' : null);
    const wait = this.waiters.wait({ what, probe, timeoutMs, hopeless });
    const unfollow = (): void => {
      if (this.waiters.size === 0) this.follower?.follow(false);
    };
    void wait.then(unfollow, unfollow);
    return wait;
  }
}

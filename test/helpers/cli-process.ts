/**
 * Drives the real, compiled `chatapp` CLI (`node dist/src/main.js …`) for
 * end-to-end tests: stdin is a pipe (so no prompt is drawn and output lines
 * are clean), stdout and stderr are collected line by line.
 *
 * Race-free waiting: every process keeps its full output history and one read
 * cursor per stream. `waitForLine` searches the history from the cursor (or
 * from an explicit index taken with `mark()` before triggering an action), so
 * a line that was printed before the wait started still counts, and a line
 * that belongs to an earlier step is never mistaken for the next one.
 *
 * Timeouts here are safety nets (default 10 s), never assertions about speed:
 * when one fires, the test fails with the process's recent output.
 *
 * Cleanup: every process started is registered; when this module is loaded by
 * a jest test file, `afterEach` kills (SIGCONT, then SIGKILL) every process
 * started during that test, and `afterAll` kills the rest (those started with
 * `keepAcrossTests`, e.g. in `beforeAll`).
 *
 * @example
 *   const { proc: server, port } = await startServer();
 *   const alice = await startClient('alice', port);
 *   const bob = await startClient('bob', port);
 *   const from = bob.proc.mark();
 *   alice.proc.send('send bob hi');
 *   await alice.proc.waitForLine('>>> [Message received by bob.]');
 *   await bob.proc.waitForLine('>>> alice: hi', { from });
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { privateDataHome } from './data-home';

/** Repository root (this file is test/helpers/cli-process.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/**
 * The compiled entry point, built by `npm run build` (run by `pretest`).
 * `CHATAPP_MAIN_JS` points the suite at another build (e.g. a deliberately
 * broken copy, to check that the tests catch the breakage).
 */
export const MAIN_JS = process.env['CHATAPP_MAIN_JS'] ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js');

/** Default safety-net timeout of every wait, in ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** A line matcher: an exact line (string), a pattern tested against each line, or a predicate. */
export type LineMatcher = string | RegExp | ((line: string) => boolean);

export type StreamName = 'stdout' | 'stderr';

/** How a process ended: exit code, or the signal that killed it. */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitOptions {
  /** Safety net; the wait rejects (with the process output) after this many ms. Default 10 s. */
  readonly timeoutMs?: number;
  /** Which stream to search. Default `stdout`. */
  readonly stream?: StreamName;
  /**
   * Index in the stream's history to search from (see `mark()`). Default: the
   * stream's cursor. An explicit `from` does not move the cursor.
   */
  readonly from?: number;
}

export interface CountOptions {
  readonly timeoutMs?: number;
  readonly stream?: StreamName;
  /** Index in the stream's history to count from. Default 0 (whole history). */
  readonly from?: number;
}

export interface StartOptions {
  /** Label used in failure messages (default: the arguments). */
  readonly label?: string;
  /** Keep the process alive after the current test (killed in `afterAll`). */
  readonly keepAcrossTests?: boolean;
  /** Extra environment variables. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Runs the CLI through another program, e.g. `script` for a pseudo-terminal:
   * gets the full command line (`node`, main.js, args) and returns what to spawn.
   */
  readonly wrap?: (argv: readonly string[]) => { file: string; args: string[] };
}

function matches(line: string, matcher: LineMatcher): boolean {
  if (typeof matcher === 'string') return line === matcher;
  if (typeof matcher === 'function') return matcher(line);
  return matcher.test(line);
}

function describeMatcher(matcher: LineMatcher): string {
  if (typeof matcher === 'function') return `matching ${matcher.name || 'a predicate'}`;
  return typeof matcher === 'string' ? JSON.stringify(matcher) : String(matcher);
}

interface Waiter {
  /** Called after every new line / on exit; returns true once settled. */
  check(): boolean;
}

/** One running `chatapp` process. Create it with `startCli` (or the helpers below). */
export class CliProcess {
  readonly label: string;
  readonly args: readonly string[];
  /** Settles once the process has exited and its stdout/stderr are fully read. */
  readonly exit: Promise<ExitInfo>;
  readonly keepAcrossTests: boolean;

  private readonly child: ChildProcessWithoutNullStreams;
  private readonly history: Record<StreamName, string[]> = { stdout: [], stderr: [] };
  private readonly partial: Record<StreamName, string> = { stdout: '', stderr: '' };
  private readonly cursor: Record<StreamName, number> = { stdout: 0, stderr: 0 };
  private readonly waiters = new Set<Waiter>();
  private exitInfo: ExitInfo | null = null;
  private stopped = false;

  constructor(args: readonly string[], options: StartOptions = {}) {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
    this.args = args;
    this.label = options.label ?? `chatapp ${args.join(' ')}`;
    this.keepAcrossTests = options.keepAcrossTests ?? false;
    const argv = [process.execPath, MAIN_JS, ...args];
    const command = options.wrap ? options.wrap(argv) : { file: process.execPath, args: argv.slice(1) };
    const dataHome = privateDataHome(options.env);
    this.child = spawn(command.file, command.args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...dataHome.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    // A process that exits while we write must not crash the test runner.
    this.child.stdin.on('error', () => undefined);
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream].setEncoding('utf8');
      this.child[stream].on('data', (chunk: string) => this.onData(stream, chunk));
    }
    this.exit = new Promise<ExitInfo>((resolve) => {
      // 'close' fires after the stdio streams ended, so every line is in the history.
      this.child.on('close', (code, signal) => {
        dataHome.cleanup();
        for (const stream of ['stdout', 'stderr'] as const) {
          if (this.partial[stream] !== '') this.push(stream, this.partial[stream]);
          this.partial[stream] = '';
        }
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
        this.notify();
      });
      this.child.on('error', (err) => {
        dataHome.cleanup();
        this.push('stderr', `[cli-process] spawn error: ${err.message}`);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
        this.notify();
      });
    });
    registry.add(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit status if the process has exited, else null. */
  get exited(): ExitInfo | null {
    return this.exitInfo;
  }

  /** A snapshot of every complete line printed so far on `stream` (default stdout). */
  lines(stream: StreamName = 'stdout'): string[] {
    return [...this.history[stream]];
  }

  /** The current length of the stream's history: pass it as `from` to only see later lines. */
  mark(stream: StreamName = 'stdout'): number {
    return this.history[stream].length;
  }

  /** Lines matching `matcher` in the stream's history from index `from` (default 0). */
  linesMatching(matcher: LineMatcher, options: { stream?: StreamName; from?: number } = {}): string[] {
    return this.history[options.stream ?? 'stdout'].slice(options.from ?? 0).filter((l) => matches(l, matcher));
  }

  /**
   * Resolves with the first line matching `matcher` at or after the search
   * start (the cursor, or `options.from`), including lines already printed.
   * Without `from`, the cursor then moves past the matched line, so the next
   * `waitForLine` only sees later lines. Rejects with the process output if
   * the process exits first or the safety-net timeout passes.
   */
  waitForLine(matcher: LineMatcher, options: WaitOptions = {}): Promise<string> {
    const stream = options.stream ?? 'stdout';
    const useCursor = options.from === undefined;
    const start = options.from ?? this.cursor[stream];
    return this.waitFor(`a line ${describeMatcher(matcher)} on ${stream} (from index ${start})`, options.timeoutMs, () => {
      const lines = this.history[stream];
      for (let i = start; i < lines.length; i++) {
        const line = lines[i]!;
        if (matches(line, matcher)) {
          if (useCursor) this.cursor[stream] = Math.max(this.cursor[stream], i + 1);
          return { value: line };
        }
      }
      return null;
    });
  }

  /** Waits for every matcher, in this order, each after the previous one (cursor semantics as `waitForLine`). */
  async waitForLines(matchers: readonly LineMatcher[], options: WaitOptions = {}): Promise<string[]> {
    const found: string[] = [];
    let from = options.from;
    for (const matcher of matchers) {
      if (from === undefined) {
        found.push(await this.waitForLine(matcher, options));
      } else {
        const start: number = from;
        const index = await this.waitForIndex(matcher, { ...options, from: start });
        found.push(this.history[options.stream ?? 'stdout'][index]!);
        from = index + 1;
      }
    }
    return found;
  }

  /** Resolves with the history index of the first line matching `matcher` at or after `from`. Does not move the cursor. */
  waitForIndex(matcher: LineMatcher, options: WaitOptions & { from: number }): Promise<number> {
    const stream = options.stream ?? 'stdout';
    return this.waitFor(`a line ${describeMatcher(matcher)} on ${stream} (from index ${options.from})`, options.timeoutMs, () => {
      const lines = this.history[stream];
      for (let i = options.from; i < lines.length; i++) if (matches(lines[i]!, matcher)) return { value: i };
      return null;
    });
  }

  /**
   * Waits until `count` lines matching `matcher` have been printed (counted
   * from `options.from`, default the whole history); resolves with them.
   */
  waitForCount(matcher: LineMatcher, count: number, options: CountOptions = {}): Promise<string[]> {
    const stream = options.stream ?? 'stdout';
    const from = options.from ?? 0;
    return this.waitFor(`${count} lines ${describeMatcher(matcher)} on ${stream} (from index ${from})`, options.timeoutMs, () => {
      const found = this.history[stream].slice(from).filter((l) => matches(l, matcher));
      return found.length >= count ? { value: found } : null;
    });
  }

  /** Everything printed on `stream` so far, including an unfinished last line (e.g. a prompt). */
  output(stream: StreamName = 'stdout'): string {
    const lines = this.history[stream];
    return (lines.length > 0 ? lines.join('\n') + '\n' : '') + this.partial[stream];
  }

  /**
   * Waits until `predicate` holds; it is re-checked whenever output arrives.
   * For conditions on raw output (`output()`), which `waitForLine` cannot see.
   */
  waitUntil(description: string, predicate: () => boolean, timeoutMs?: number): Promise<void> {
    return this.waitFor(description, timeoutMs, () => (predicate() ? { value: undefined } : null));
  }

  /** Resolves with the exit status; rejects with the output after the safety-net timeout. */
  waitForExit(timeoutMs: number = DEFAULT_TIMEOUT_MS): Promise<ExitInfo> {
    return this.waitFor('the process to exit', timeoutMs, () => (this.exitInfo ? { value: this.exitInfo } : null), false);
  }

  /** Writes `line` and a newline to stdin. */
  send(line: string): void {
    if (this.child.stdin.writable) this.child.stdin.write(`${line}\n`);
  }

  /** Writes raw text to stdin (no newline added). */
  write(text: string): void {
    if (this.child.stdin.writable) this.child.stdin.write(text);
  }

  /** Closes stdin (end of input). */
  endInput(): void {
    this.child.stdin.end();
  }

  /** Sends a signal (default SIGTERM). Returns false if the process already exited. */
  kill(signal: NodeJS.Signals = 'SIGTERM'): boolean {
    if (this.exitInfo || this.child.pid === undefined) return false;
    if (signal === 'SIGSTOP') this.stopped = true;
    if (signal === 'SIGCONT') this.stopped = false;
    try {
      process.kill(this.child.pid, signal);
      return true;
    } catch {
      return false;
    }
  }

  /** Kills the process for cleanup (SIGCONT first if it was stopped, then SIGKILL) and waits for it. */
  async destroy(): Promise<void> {
    if (!this.exitInfo) {
      if (this.stopped) this.kill('SIGCONT');
      this.kill('SIGKILL');
      await Promise.race([this.exit, new Promise((r) => setTimeout(r, 5_000).unref())]);
    }
    registry.delete(this);
  }

  /** Recent output of both streams, for failure messages. */
  describe(maxLines = 60): string {
    const tail = (s: StreamName): string => {
      const lines = this.history[s];
      const shown = lines.slice(-maxLines);
      const skipped = lines.length - shown.length;
      const partial = this.partial[s] !== '' ? `\n    (partial) ${JSON.stringify(this.partial[s])}` : '';
      return (skipped > 0 ? `    … ${skipped} earlier lines\n` : '') + shown.map((l, i) => `    ${skipped + i}: ${l}`).join('\n') + partial;
    };
    const status = this.exitInfo ? `exited code=${this.exitInfo.code} signal=${this.exitInfo.signal}` : 'running';
    return `[${this.label}] (pid ${this.child.pid}, ${status}, stdout cursor ${this.cursor.stdout})\n  stdout:\n${tail('stdout')}\n  stderr:\n${tail('stderr')}`;
  }

  private onData(stream: StreamName, chunk: string): void {
    const parts = (this.partial[stream] + chunk).split('\n');
    this.partial[stream] = parts.pop() ?? '';
    for (const part of parts) this.push(stream, part);
    this.notify();
  }

  private push(stream: StreamName, line: string): void {
    this.history[stream].push(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter.check();
  }

  /** Generic wait: `probe` is re-run on every new line; rejects on exit (if `failOnExit`) or timeout. */
  private waitFor<T>(what: string, timeoutMs: number | undefined, probe: () => { value: T } | null, failOnExit = true): Promise<T> {
    const limit = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Capture the caller's stack now so the failure points at the test line.
    const origin = new Error(`waiting for ${what}`);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        check: () => {
          const found = probe();
          if (found) {
            settle();
            resolve(found.value);
            return true;
          }
          if (failOnExit && this.exitInfo) {
            settle();
            reject(this.failure(origin, `process exited before ${what}`));
            return true;
          }
          return false;
        },
      };
      const settle = (): void => {
        if (timer) clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (waiter.check()) return;
      this.waiters.add(waiter);
      timer = setTimeout(() => {
        settle();
        reject(this.failure(origin, `timed out after ${limit} ms waiting for ${what}`));
      }, limit);
    });
  }

  private failure(origin: Error, message: string): Error {
    const err = new Error(`${message}\n${this.describe()}`);
    err.stack = `${err.message}\n${(origin.stack ?? '').split('\n').slice(1).join('\n')}`;
    return err;
  }
}

/** Every process started and not yet cleaned up. */
const registry = new Set<CliProcess>();

/** Every process started and not yet cleaned up (those of the current test, and kept ones). */
export function startedProcesses(): CliProcess[] {
  return [...registry];
}

/** Spawns `node dist/src/main.js ...args` with stdin as a pipe. */
export function startCli(args: readonly string[], options: StartOptions = {}): CliProcess {
  return new CliProcess(args, options);
}

/** Kills every registered process (or only those not kept across tests) and waits for them. */
export async function killAll(includeKept = true): Promise<void> {
  await Promise.all([...registry].filter((p) => includeKept || !p.keepAcrossTests).map((p) => p.destroy()));
}

// Automatic cleanup when loaded inside a jest test file.
if (typeof afterEach === 'function' && typeof afterAll === 'function') {
  afterEach(() => killAll(false));
  afterAll(() => killAll(true));
}

/** Options for `startServer` / `startClient`. */
export interface HelperOptions extends StartOptions {
  readonly timeoutMs?: number;
}

export interface StartedServer {
  readonly proc: CliProcess;
  /** The port the server printed in its startup line. */
  readonly port: number;
}

/**
 * Starts `chatapp -s 0 ...args` and waits for
 * `>>> [Server is online, listening on port <port>]`.
 * Pass `port` to bind a specific port (e.g. to restart on the same one).
 */
export async function startServer(args: readonly string[] = [], options: HelperOptions & { port?: number } = {}): Promise<StartedServer> {
  const proc = startCli(['-s', String(options.port ?? 0), ...args], { ...options, label: options.label ?? 'server' });
  const line = await proc.waitForLine(/^>>> \[Server is online, listening on port \d+\]$/, { timeoutMs: options.timeoutMs });
  const port = Number(/port (\d+)\]$/.exec(line)![1]);
  return { proc, port };
}

export interface StartedClient {
  readonly proc: CliProcess;
  readonly name: string;
  /** The port the client listens on for private messages (from its startup line). */
  readonly listenPort: number;
}

/**
 * Starts `chatapp -c <name> 127.0.0.1 <serverPort> 0 ...extraArgs` and waits
 * for `>>> [Listening for private messages on port <p>]`,
 * `>>> [Welcome, You are registered.]` and then `>>> [Client table updated.]`.
 * The stdout cursor is left after that first table update.
 */
export async function startClient(
  name: string,
  serverPort: number,
  extraArgs: readonly string[] = [],
  options: HelperOptions = {},
): Promise<StartedClient> {
  const proc = startCli(['-c', name, '127.0.0.1', String(serverPort), '0', ...extraArgs], { ...options, label: options.label ?? `client ${name}` });
  const wait = { timeoutMs: options.timeoutMs };
  const listening = await proc.waitForLine(/^>>> \[Listening for private messages on port \d+\]$/, wait);
  const listenPort = Number(/port (\d+)\]$/.exec(listening)![1]);
  await proc.waitForLine('>>> [Welcome, You are registered.]', wait);
  await proc.waitForLine('>>> [Client table updated.]', wait);
  return { proc, name, listenPort };
}

/** Starts several clients concurrently (each as `startClient`). */
export function startClients(names: readonly string[], serverPort: number, extraArgs: readonly string[] = [], options: HelperOptions = {}): Promise<StartedClient[]> {
  return Promise.all(names.map((n) => startClient(n, serverPort, extraArgs, options)));
}

/**
 * A loopback port with nothing listening on it: bound on 127.0.0.1, then closed.
 * (Another program could in principle take it meanwhile; the window is tiny.)
 */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SilentServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1:0 that accepts connections and never answers (a server that does not respond). */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  const handle: SilentServer = {
    port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  silentServers.add(handle);
  return handle;
}

const silentServers = new Set<SilentServer>();
if (typeof afterEach === 'function') {
  afterEach(async () => {
    await Promise.all([...silentServers].map((s) => s.close()));
    silentServers.clear();
  });
}

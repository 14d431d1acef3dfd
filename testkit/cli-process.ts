/**
 * The one driver of the real, compiled `chatapp` CLI (`node dist/src/main.js
 * …`), shared by the end-to-end and hostile tests and the benchmark.
 *
 * Output is read as events: every line printed is appended to a bounded log
 * per stream (stdout, stderr) and every pending wait is re-checked at once;
 * nothing polls on a timer. Waits search the log from a cursor or from a mark
 * taken before an action, so a line printed before the wait began still
 * counts and a line of an earlier step is never mistaken for the next one.
 * Timeouts are safety nets (default 10 s), never assertions about speed: when
 * one fires, the failure shows the process's recent output.
 *
 * Every process is registered and reaped: inside jest, `afterEach` kills those
 * started during the test and `afterAll` the rest (`keepAcrossTests`, e.g.
 * servers started in `beforeAll`); in any program, exiting kills them all.
 * These hooks are declared when this module is first imported, so they run
 * before the hooks a test file declares at its top level (jest runs hooks of
 * one level in declaration order): a top-level `afterEach` that still checks
 * a process must have started it with `keepAcrossTests`.
 *
 * Each process gets a temporary `XDG_DATA_HOME` (testkit/data-home.ts): one
 * shared by the processes of the current test and removed after it (so a
 * client restarted under its name finds its files, and no two tests share
 * state), or the test file's for `keepAcrossTests`, or `options.dataHome`.
 *
 * @example
 *   const { proc: server, port } = await startServer();
 *   const alice = await startClient('alice', port);
 *   const from = server.mark();
 *   alice.proc.send('create_group room');
 *   await server.waitForLine('>>> [Client alice created group room successfully]', { from });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { endDataHomeScope, sharedDataHome } from './data-home';
import { LogFileFollower } from './log-file-follower';
import { ProcessOutput, type ExitInfo } from './process-output';
import { countOpenSockets, readCpuSeconds, readMemory, type ProcessMemory } from './proc-stats';

export { DEFAULT_TIMEOUT_MS } from './waiters';
export type { LineMatcher } from './line-log';
export type { ExitInfo, StreamName, WaitOptions } from './process-output';

/** The repository root: the nearest folder above this file with a package.json (works from testkit/ and dist/testkit/). */
export const REPO_ROOT = findRepoRoot(__dirname);
/** The compiled entry point (built by `npm run build`); `CHATAPP_MAIN_JS` points the suite at another build. */
export const MAIN_JS = process.env['CHATAPP_MAIN_JS'] ?? path.join(REPO_ROOT, 'dist', 'src', 'main.js');

/** Lines kept per stream by default; older ones are dropped (a server prints a line per message). */
const DEFAULT_MAX_LINES = 100_000;
/** How long `destroy` waits for a SIGKILLed process to be reaped before giving up on it. */
const REAP_TIMEOUT_MS = 5_000;

export interface StartOptions {
  /** Label used in failure messages (default: the arguments). */
  readonly label?: string;
  /** Keep the process alive after the current test (killed in `afterAll`). */
  readonly keepAcrossTests?: boolean;
  /** Extra environment variables (an `XDG_DATA_HOME` here wins over `dataHome`). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The process's `XDG_DATA_HOME`, where a client keeps its files. Default: the
   * home shared by the current test's processes (by the test file's, with
   * `keepAcrossTests`), so a client restarted under its name finds its files;
   * `newDataHome()` (testkit/data-home.ts) gives another user's machine.
   */
  readonly dataHome?: string;
  /** Options for node itself, before main.js (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /**
   * Runs the CLI through another program (e.g. `script` for a pseudo-terminal):
   * gets the full command line, returns what to spawn. Lines then lose the `\r`
   * a terminal adds before each newline.
   */
  readonly wrap?: (argv: readonly string[]) => { file: string; args: string[] };
  /**
   * Sends stdout and stderr to this file instead of pipes: the process never
   * blocks on an unread pipe and its output costs the observer nothing. Both
   * streams then appear as `stdout`, read from the file only while a wait runs.
   */
  readonly logFile?: string;
  /** Lines kept per stream (default 100,000). */
  readonly maxLines?: number;
}

/** One running `chatapp` process (its output and waits: `ProcessOutput`). Create it with `startCli` or the helpers of `chat-roles.ts`. */
export class CliProcess extends ProcessOutput {
  readonly args: readonly string[];
  readonly keepAcrossTests: boolean;
  /** The `XDG_DATA_HOME` the process runs with. */
  readonly dataHome: string;
  /** Settles once the process has exited and its output is fully read. */
  readonly exit: Promise<ExitInfo>;

  private readonly child: ChildProcess;
  private stopped = false;

  constructor(args: readonly string[], options: StartOptions = {}) {
    // Through a wrapper (a pseudo-terminal) lines end in \r\n; through pipes any \r is the program's own and kept.
    super(
      options.label ?? `chatapp ${args.join(' ')}`,
      options.maxLines ?? DEFAULT_MAX_LINES,
      options.wrap !== undefined,
    );
    if (!fs.existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} is missing: run \`npm run build\` first`);
    this.args = args;
    this.keepAcrossTests = options.keepAcrossTests ?? false;
    this.dataHome =
      options.env?.['XDG_DATA_HOME'] ?? options.dataHome ?? sharedDataHome(this.keepAcrossTests ? 'file' : 'test');
    this.child = spawnChild(args, { ...options, env: { ...options.env, XDG_DATA_HOME: this.dataHome } });
    // A process that exits while we write must not crash the runner.
    this.child.stdin?.on('error', () => undefined);
    if (options.logFile !== undefined)
      this.follower = new LogFileFollower(options.logFile, (text) => this.onText('stdout', text));
    for (const stream of ['stdout', 'stderr'] as const) {
      this.child[stream]?.setEncoding('utf8');
      this.child[stream]?.on('data', (text: string) => this.onText(stream, text));
    }
    this.exit = new Promise<ExitInfo>((resolve) => {
      // 'close' fires after the stdio pipes ended, so every line is in the log.
      this.child.on('close', (code, signal) => resolve(this.ended({ code, signal })));
      this.child.on('error', (err) => {
        this.onText('stderr', `[cli-process] spawn error: ${err.message}\n`);
        resolve(this.ended({ code: null, signal: null }));
      });
    });
    registry.add(this);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Writes `line` and a newline to stdin. */
  send(line: string): void {
    this.write(`${line}\n`);
  }

  /** Writes raw text to stdin (no newline added). */
  write(text: string): void {
    if (this.child.stdin?.writable) this.child.stdin.write(text);
  }

  /** Closes stdin (end of input). */
  endInput(): void {
    this.child.stdin?.end();
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

  /** Asks the process to end (`signal`, or end of stdin) and SIGKILLs it if it has not exited within `graceMs`. */
  async stop(how: NodeJS.Signals | 'endInput' = 'SIGTERM', graceMs = 3_000): Promise<ExitInfo> {
    if (how === 'endInput') this.endInput();
    else this.kill(how);
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    try {
      return await this.exit;
    } finally {
      clearTimeout(timer);
      registry.delete(this);
    }
  }

  /** Kills the process for cleanup (SIGCONT first if it was stopped, then SIGKILL) and reaps it. */
  async destroy(): Promise<void> {
    if (!this.exitInfo) {
      if (this.stopped) this.kill('SIGCONT');
      this.kill('SIGKILL');
      await Promise.race([this.exit, new Promise((resolve) => setTimeout(resolve, REAP_TIMEOUT_MS).unref())]);
    }
    registry.delete(this);
  }

  /** Current and peak resident memory, in KiB. */
  memory(): ProcessMemory {
    return readMemory(this.requirePid());
  }

  /** Current resident memory in MB. */
  rssMb(): number {
    return this.memory().rssKB / 1024;
  }

  /** CPU seconds (user + system) used so far. */
  cpuSeconds(): number {
    return readCpuSeconds(this.requirePid());
  }

  /** Sockets the process has open now (listeners and connections). */
  openSockets(): number {
    return countOpenSockets(this.requirePid());
  }

  protected override identity(): string {
    return `pid ${this.child.pid}`;
  }

  private requirePid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.label} has no pid (it did not start)`);
    return this.child.pid;
  }
}

/** Spawns node (through `options.wrap` if given) with stdin piped, and stdout/stderr piped or sent to the log file. */
function spawnChild(args: readonly string[], options: StartOptions): ChildProcess {
  const argv = [process.execPath, ...(options.nodeArgs ?? []), MAIN_JS, ...args];
  const command = options.wrap ? options.wrap(argv) : { file: process.execPath, args: argv.slice(1) };
  const log = options.logFile === undefined ? null : openLogFile(options.logFile);
  try {
    return spawn(command.file, command.args, {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', log ?? 'pipe', log ?? 'pipe'],
    });
  } finally {
    if (log !== null) fs.closeSync(log);
  }
}

function openLogFile(file: string): number {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  return fs.openSync(file, 'w');
}

function findRepoRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${start}`);
  }
}

/** Every process started and not yet reaped. */
const registry = new Set<CliProcess>();

/** Spawns `node dist/src/main.js ...args` with stdin as a pipe. */
export function startCli(args: readonly string[], options: StartOptions = {}): CliProcess {
  return new CliProcess(args, options);
}

/** Every process started and not yet cleaned up (those of the current test, and kept ones). */
export function startedProcesses(): CliProcess[] {
  return [...registry];
}

/** Kills every registered process (or only those not kept across tests) and reaps them. */
export async function killAll(includeKept = true): Promise<void> {
  await Promise.all([...registry].filter((p) => includeKept || !p.keepAcrossTests).map((p) => p.destroy()));
}

// A program that exits (the benchmark, a failed test worker) takes its children with it.
process.on('exit', () => {
  for (const proc of registry) proc.kill('SIGKILL');
});

// Inside a jest test file: reap after each test, and everything after the file; then remove their data homes.
const hooks = globalThis as {
  afterEach?: (fn: () => Promise<void>) => void;
  afterAll?: (fn: () => Promise<void>) => void;
};
if (typeof hooks.afterEach === 'function' && typeof hooks.afterAll === 'function') {
  hooks.afterEach(async () => {
    await killAll(false);
    endDataHomeScope('test');
  });
  hooks.afterAll(async () => {
    await killAll(true);
    endDataHomeScope('test');
    endDataHomeScope('file');
  });
}

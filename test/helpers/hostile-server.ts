import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { privateDataHome } from './data-home';

/** The compiled CLI (built by `npm run build`, which `npm test` runs first). */
/** Override with CHATAPP_MAIN_JS to run the suite against another build. */
export const MAIN_JS = process.env['CHATAPP_MAIN_JS'] ?? path.resolve(__dirname, '..', '..', 'dist', 'src', 'main.js');

const STARTUP = /^>>> \[Server is online, listening on port (\d+)\]$/;
/** Output lines kept per process (the server prints one per event; older ones are dropped). */
const KEEP_LINES = 5000;

/**
 * A real `chatapp -s 0` process for hostile tests: started on an OS-chosen
 * port read from its startup line, its output drained (so a full pipe never
 * stalls it) and kept for assertions, its memory read from /proc.
 */
export class ServerProcess {
  readonly stdout: string[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, readonly port: number) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      child.once('exit', () => resolve());
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Spawns the server with `args` after `-s 0` and waits (bounded) for its startup line. */
  static start(args: string[] = [], timeoutMs = 10_000): Promise<ServerProcess> {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} missing: run npm run build first`);
    const child = spawn(process.execPath, [MAIN_JS, '-s', '0', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    return new Promise((resolve, reject) => {
      let server: ServerProcess | null = null;
      const early: string[] = [];
      let partial = '';
      let stderr = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`server did not start: ${why}; stdout ${JSON.stringify(early)}, stderr ${JSON.stringify(stderr)}`));
      };
      const timer = setTimeout(() => fail(`no startup line within ${timeoutMs} ms`), timeoutMs);
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (server) server.stderr = (server.stderr + d.toString()).slice(-20_000);
      });
      child.stdout!.on('data', (d: Buffer) => {
        const lines = (partial + d.toString()).split('\n');
        partial = lines.pop() ?? '';
        const sink = server ? server.stdout : early;
        sink.push(...lines);
        if (sink.length > KEEP_LINES) sink.splice(0, sink.length - KEEP_LINES);
        if (server) return;
        const port = early.map((l) => STARTUP.exec(l)).find((m) => m)?.[1];
        if (port === undefined) return;
        clearTimeout(timer);
        server = new ServerProcess(child, Number(port));
        server.stdout.push(...early);
        server.stderr = stderr;
        resolve(server);
      });
      child.once('exit', (code, signal) => {
        if (server) server.exit = { code, signal };
        else fail(`exited with ${code ?? signal}`);
      });
    });
  }

  /** Resident memory of the server process in MB (VmRSS from /proc/<pid>/status). */
  rssMb(): number {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)?.[1];
    if (kb === undefined) throw new Error('no VmRSS in /proc status');
    return Number(kb) / 1024;
  }

  /** Polls (every 10 ms, bounded) until a stdout line matches `pattern`; resolves with it. */
  async waitForMatch(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.stdout.find((l) => pattern.test(l));
      if (line !== undefined) return line;
      if (Date.now() > deadline || !this.alive) throw new Error(`server printed no line matching ${pattern}; last ${JSON.stringify(this.stdout.slice(-5))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Lines of stdout matching `pattern`. */
  linesMatching(pattern: RegExp): string[] {
    return this.stdout.filter((l) => pattern.test(l));
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    await killAfterGrace(this.child, this.exited, graceMs);
  }
}

/**
 * A real `chatapp -c …` client process driven through piped stdin, for the
 * hostile tests of its direct-message listener. Output lines are kept; waits
 * search the history from an index (take it with `mark()` before acting), so a
 * line printed before the wait began still counts.
 */
export class ClientProcess {
  readonly stdout: string[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly exited: Promise<void>;
  private readonly waiters = new Set<() => void>();

  private constructor(private readonly child: ChildProcess, readonly name: string) {
    let partial = '';
    child.stdout!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop() ?? '';
      this.stdout.push(...lines);
      this.notify();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        this.notify();
        resolve();
      }),
    );
  }

  /**
   * Starts `chatapp -c <name> 127.0.0.1 <serverPort> 0 …args` and waits until it is registered.
   * It gets a temporary XDG_DATA_HOME of its own unless `env` names one (to restart on the same state).
   */
  static start(name: string, serverPort: number, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ClientProcess> {
    return ClientProcess.launch(name, ['-c', name, '127.0.0.1', String(serverPort), '0', ...args], /^>>> \[Welcome, You are registered\.\]$/, env);
  }

  /** Starts a mesh peer `chatapp -p <name> 0 [<host:port>] …args` and waits for its start or join line. */
  static peer(name: string, join: number | null, args: string[] = []): Promise<ClientProcess> {
    const address = join === null ? [] : [`127.0.0.1:${join}`];
    // the loopback address is printed last (SPEC §6), so waiting for it means the port is known
    const ready = join === null ? /^>>> \[New chat started, reachable at 127\.0\.0\.1:\d+\]$/ : /^>>> \[Joined the chat with \d+ other peers?\]$/;
    return ClientProcess.launch(name, ['-p', name, '0', ...address, ...args], ready);
  }

  /** The port of a mesh peer, from its `reachable at 127.0.0.1:<port>` line. */
  get meshPort(): number {
    const m = this.stdout.map((l) => /reachable at 127\.0\.0\.1:(\d+)\]$/i.exec(l)).find((x) => x);
    if (!m) throw new Error(`${this.name} printed no 127.0.0.1 address: ${JSON.stringify(this.stdout)}`);
    return Number(m[1]);
  }

  private static async launch(name: string, args: string[], ready: RegExp, env: NodeJS.ProcessEnv = {}): Promise<ClientProcess> {
    if (!existsSync(MAIN_JS)) throw new Error(`${MAIN_JS} missing: run npm run build first`);
    const dataHome = privateDataHome(env);
    const child = spawn(process.execPath, [MAIN_JS, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...dataHome.env } });
    child.once('exit', () => dataHome.cleanup());
    const proc = new ClientProcess(child, name);
    try {
      await proc.waitForMatch(ready);
    } catch (err) {
      child.kill('SIGKILL'); // never leave a half-started process behind
      throw err;
    }
    return proc;
  }

  /** Waits (bounded) for an output line matching `pattern` at or after index `from`. */
  async waitForMatch(pattern: RegExp, from = 0, timeoutMs = 10_000): Promise<string> {
    let found: string | undefined;
    await this.waitUntil(() => (found = this.stdout.slice(from).find((l) => pattern.test(l))) !== undefined, String(pattern), timeoutMs);
    return found!;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Resident memory of the process in MB (VmRSS from /proc/<pid>/status). */
  rssMb(): number {
    const kb = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${this.child.pid!}/status`, 'utf8'))?.[1];
    if (kb === undefined) throw new Error('no VmRSS in /proc status');
    return Number(kb) / 1024;
  }

  /** The port of its direct-message listener, from its startup line. */
  get listenPort(): number {
    const line = this.stdout.map((l) => /^>>> \[Listening for private messages on port (\d+)\]$/.exec(l)).find((m) => m);
    if (!line) throw new Error(`${this.name} printed no listening line: ${JSON.stringify(this.stdout)}`);
    return Number(line[1]);
  }

  /** Index of the next output line, to wait for lines printed after an action. */
  mark(): number {
    return this.stdout.length;
  }

  /** Types one line on its stdin. */
  type(line: string): void {
    this.child.stdin!.write(`${line}\n`);
  }

  /** Lines from `from` on that equal `line`. */
  count(line: string, from = 0): number {
    return this.stdout.slice(from).filter((l) => l === line).length;
  }

  /** Waits (bounded) for an output line equal to `line` at or after index `from`. */
  waitForLine(line: string, from = 0, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(() => this.stdout.indexOf(line, from) !== -1, `"${line}"`, timeoutMs);
  }

  private waitUntil(done: () => boolean, what: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (done()) return finish(), resolve(), true;
        if (!this.alive) return finish(), reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${what}; stderr ${this.stderr}; stdout ${JSON.stringify(this.stdout.slice(-10))}`)), true;
        return false;
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${this.name}: no ${what} within ${timeoutMs} ms; last lines ${JSON.stringify(this.stdout.slice(-10))}; stderr ${this.stderr}`));
      }, timeoutMs);
      const waiter = (): void => void check();
      const finish = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Ends stdin (a normal exit), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    this.child.stdin!.end();
    await killAfterGrace(this.child, this.exited, graceMs);
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Waits for `exited`; SIGKILLs the child if it has not exited within `graceMs`. */
async function killAfterGrace(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

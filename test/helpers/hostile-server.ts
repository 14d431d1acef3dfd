import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

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

  /** Lines of stdout matching `pattern`. */
  linesMatching(pattern: RegExp): string[] {
    return this.stdout.filter((l) => pattern.test(l));
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, graceMs);
    });
    await Promise.race([this.exited, killed]);
    clearTimeout(timer);
    await this.exited;
  }
}

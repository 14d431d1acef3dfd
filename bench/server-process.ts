import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The real server as a child process: `node dist/src/main.js -s 0 [options]`.
 * Its stdout goes to a log file (the server prints a line per group message;
 * a file never blocks it the way an unread pipe would), and the port is read
 * from its `>>> [Server is online, listening on port <port>]` line. Its
 * stderr goes to a file of its own, where the stats line it prints on
 * SIGUSR2 is read back (docs/architecture.md "Server").
 */

const ONLINE_LINE = />>> \[Server is online, listening on port (\d+)\]/;
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STATS_TIMEOUT_MS = 5_000;
const STATS_PREFIX = '{"msg":"stats"';

/** The server's counters, as printed on SIGUSR2 (ChatServer.stats()). */
export interface ServerStats {
  connections: number;
  registered: number;
  unackedDeliveries: number;
  membersRemovedUnresponsive: number;
  slowConsumersDropped: number;
}

export interface ServerProcessOptions {
  /** Extra server options, e.g. ['--ack-timeout', '500']. */
  args: readonly string[];
  /** Where the server's stdout goes (its stderr goes to the same name with `.err` added). */
  logFile: string;
  /** Directory for a V8 CPU profile (`node --cpu-prof`), or null. */
  cpuProfileDir: string | null;
  /** Extra node options (e.g. --trace-gc). */
  nodeArgs: readonly string[];
}

/** Memory figures from /proc/<pid>/status, in KiB. */
export interface ProcessMemory {
  rssKB: number;
  peakRssKB: number;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly logFile: string,
    readonly errFile: string,
  ) {}

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Starts the server and resolves once it printed its port. */
  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const main = path.resolve(__dirname, '..', 'src', 'main.js');
    const nodeArgs = [...options.nodeArgs, ...(options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [])];
    fs.mkdirSync(path.dirname(options.logFile), { recursive: true });
    const log = fs.openSync(options.logFile, 'w');
    const errFile = `${options.logFile}.err`;
    const err = fs.openSync(errFile, 'w');
    const child = spawn(process.execPath, [...nodeArgs, main, '-s', '0', ...options.args], {
      stdio: ['ignore', log, err],
    });
    fs.closeSync(log);
    fs.closeSync(err);
    live.add(child);
    child.on('exit', () => live.delete(child));
    try {
      const port = await waitForPort(child, options.logFile, errFile);
      return new ServerProcess(child, port, options.logFile, errFile);
    } catch (err) {
      child.kill('SIGKILL');
      throw err;
    }
  }

  /** Current and peak resident memory of the server. */
  memory(): ProcessMemory {
    return readMemory(this.pid);
  }

  /** CPU seconds (user + system) the server has used so far. */
  cpuSeconds(): number {
    return readCpuSeconds(this.pid);
  }

  /**
   * Asks the server for its counters (SIGUSR2) and waits for the stats line
   * on its stderr; null if it is gone or does not answer within 5 s.
   */
  async stats(): Promise<ServerStats | null> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return null;
    const before = this.statsLines().length;
    this.child.kill('SIGUSR2');
    const deadline = Date.now() + STATS_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const lines = this.statsLines();
      if (lines.length > before) return JSON.parse(lines[lines.length - 1]!) as ServerStats;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return null;
  }

  private statsLines(): string[] {
    return fs.readFileSync(this.errFile, 'utf8').split('\n').filter((line) => line.startsWith(STATS_PREFIX));
  }

  /** SIGTERM (the server closes cleanly, which also writes a CPU profile), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Counts log lines matching `pattern` (e.g. removals the server printed). */
  countLogLines(pattern: RegExp): number {
    let count = 0;
    for (const line of fs.readFileSync(this.logFile, 'utf8').split('\n')) if (pattern.test(line)) count++;
    return count;
  }
}

async function waitForPort(child: ChildProcess, logFile: string, errFile: string): Promise<number> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const text = fs.readFileSync(logFile, 'utf8');
    const match = ONLINE_LINE.exec(text);
    if (match) return Number(match[1]);
    if (child.exitCode !== null || child.signalCode !== null) {
      const err = fs.readFileSync(errFile, 'utf8');
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before going online: ${(text + err).slice(0, 500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`server did not print its port within ${START_TIMEOUT_MS} ms`);
}

/** VmRSS and VmHWM of `pid` from /proc (Linux). */
export function readMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKB: field('VmRSS'), peakRssKB: field('VmHWM') };
}

/** Soft limit on open files of this process, from /proc/self/limits. */
export function openFileLimit(): number {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return match?.[1] === undefined || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

/** User + system CPU seconds of `pid` from /proc/<pid>/stat (clock ticks of 1/100 s). */
export function readCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

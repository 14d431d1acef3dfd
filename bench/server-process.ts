import fs from 'node:fs';
import type { CliProcess } from '../testkit/cli-process';
import { startServer } from '../testkit/chat-roles';
import type { ProcessMemory } from '../testkit/proc-stats';

export { openFileLimit, readCpuSeconds, readMemory, type ProcessMemory } from '../testkit/proc-stats';

/**
 * The real server as a child process for the benchmark: `node [nodeArgs]
 * dist/src/main.js -s 0 [args]`, started and reaped by the same driver as the
 * tests (testkit/cli-process.ts). Its stdout and stderr go to a log file (the
 * server prints a line per group message; a file never blocks it the way an
 * unread pipe would, and the benchmark spends nothing reading it), and the
 * port comes from its `>>> [Server is online, listening on port <port>]` line.
 * The stats line it prints on SIGUSR2 (stderr, docs/architecture.md "Stats")
 * is read back from the same log.
 */

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
  /** Where the server's stdout/stderr log goes. */
  logFile: string;
  /** Directory for a V8 CPU profile (`node --cpu-prof`), or null. */
  cpuProfileDir: string | null;
  /** Extra node options (e.g. --trace-gc). */
  nodeArgs: readonly string[];
  /** The server speaks TLS (its default): clients must connect with it. */
  tls: boolean;
}

export class ServerProcess {
  private constructor(
    private readonly proc: CliProcess,
    readonly port: number,
    readonly logFile: string,
    /** Clients connect over TLS. */
    readonly tls: boolean,
  ) {}

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  /** The port client `index` connects to: this one server's. */
  portFor(_index: number): number {
    return this.port;
  }

  /** Starts the server and resolves once it printed its port. */
  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    const profile = options.cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir] : [];
    const { proc, port } = await startServer(options.args, {
      label: 'bench server',
      nodeArgs: [...options.nodeArgs, ...profile],
      logFile: options.logFile,
      timeoutMs: START_TIMEOUT_MS,
    });
    return new ServerProcess(proc, port, options.logFile, options.tls);
  }

  /** Current and peak resident memory of the server. */
  memory(): ProcessMemory {
    return this.proc.memory();
  }

  /** CPU seconds (user + system) the server has used so far. */
  cpuSeconds(): number {
    return this.proc.cpuSeconds();
  }

  /**
   * Asks the server for its counters (SIGUSR2) and waits for the stats line
   * in its log; null if it is gone or does not answer within 5 s.
   */
  async stats(): Promise<ServerStats | null> {
    if (!this.proc.alive) return null;
    const from = this.proc.mark(); // the log holds stdout and stderr together
    if (!this.proc.kill('SIGUSR2')) return null;
    try {
      const line = await this.proc.waitForLine((l) => l.startsWith(STATS_PREFIX), {
        from,
        timeoutMs: STATS_TIMEOUT_MS,
      });
      return JSON.parse(line) as ServerStats;
    } catch {
      return null;
    }
  }

  /** SIGTERM (the server closes cleanly, which also writes a CPU profile), SIGKILL if it lingers. */
  async stop(): Promise<void> {
    await this.proc.stop('SIGTERM', STOP_TIMEOUT_MS);
  }

  /** Counts log lines matching `pattern` (e.g. removals the server printed), over the whole log file. */
  countLogLines(pattern: RegExp): number {
    let count = 0;
    for (const line of fs.readFileSync(this.logFile, 'utf8').split('\n')) if (pattern.test(line)) count++;
    return count;
  }
}

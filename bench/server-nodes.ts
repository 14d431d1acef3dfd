import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { ProcessMemory } from '../testkit/proc-stats';
import { ServerProcess, type ServerProcessOptions, type ServerStats } from './server-process';

/**
 * Several server processes as one cluster over one Redis (docs/scaling.md,
 * `--nodes N --redis URL`), measured as one server: CPU seconds and RSS are
 * summed, the stats counters are summed, and client i connects to node
 * i mod N. Each run uses a fresh `--redis-prefix`, so runs never see each
 * other's accounts and nothing else in that Redis is touched.
 */
export class ServerNodes {
  private constructor(private readonly nodes: readonly ServerProcess[]) {}

  /** Starts `count` nodes sharing `redisUrl`, under a fresh key prefix. */
  static async start(count: number, redisUrl: string, options: ServerProcessOptions): Promise<ServerNodes> {
    const prefix = `bench-${randomUUID()}`;
    const args = [...options.args, '--redis', redisUrl, '--redis-prefix', prefix];
    const nodes: ServerProcess[] = [];
    for (let i = 0; i < count; i++) {
      const logFile = options.logFile.replace(/\.log$/, `-node${i + 1}.log`);
      nodes.push(await ServerProcess.start({ ...options, args, logFile: path.resolve(logFile) }));
    }
    return new ServerNodes(nodes);
  }

  get tls(): boolean {
    return this.nodes[0]!.tls;
  }

  get pid(): number {
    return this.nodes[0]!.pid;
  }

  get port(): number {
    return this.nodes[0]!.port;
  }

  /** The node client `index` connects to. */
  portFor(index: number): number {
    return this.nodes[index % this.nodes.length]!.port;
  }

  memory(): ProcessMemory {
    const all = this.nodes.map((n) => n.memory());
    return {
      rssKB: all.reduce((sum, m) => sum + m.rssKB, 0),
      peakRssKB: all.reduce((sum, m) => sum + m.peakRssKB, 0),
    };
  }

  cpuSeconds(): number {
    return this.nodes.reduce((sum, n) => sum + n.cpuSeconds(), 0);
  }

  async stats(): Promise<ServerStats | null> {
    const all = await Promise.all(this.nodes.map((n) => n.stats()));
    if (all.some((s) => s === null)) return null;
    const sum = (key: keyof ServerStats): number => all.reduce((total, s) => total + s![key], 0);
    return {
      connections: sum('connections'),
      registered: sum('registered'),
      unackedDeliveries: sum('unackedDeliveries'),
      membersRemovedUnresponsive: sum('membersRemovedUnresponsive'),
      slowConsumersDropped: sum('slowConsumersDropped'),
    };
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }

  countLogLines(pattern: RegExp): number {
    return this.nodes.reduce((sum, n) => sum + n.countLogLines(pattern), 0);
  }
}

/** What the benchmark needs of its server: one process, or a cluster of them. */
export type BenchServer = Pick<
  ServerNodes,
  'tls' | 'pid' | 'port' | 'portFor' | 'memory' | 'cpuSeconds' | 'stats' | 'stop' | 'countLogLines'
>;

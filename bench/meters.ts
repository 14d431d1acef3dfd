import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { BenchServer } from './server-nodes';

/**
 * What the bench reads about a server process from /proc while a scenario
 * runs: its RSS (sampled, or a steady median) and its CPU, the load
 * generator's CPU and event-loop delay, and what every other process used.
 */

/** A server process whose memory and CPU the bench reads from /proc (chatapp's, or an IRC server's). */
export type MeasuredProcess = Pick<BenchServer, 'memory' | 'cpuSeconds'>;

/** Samples the server's RSS every `intervalMs` until stopped; tracks the maximum. */
export class RssSampler {
  maxRssKB = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly server: MeasuredProcess,
    intervalMs = 100,
  ) {
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.sample();
  }

  private sample(): void {
    try {
      this.maxRssKB = Math.max(this.maxRssKB, this.server.memory().rssKB);
    } catch {
      // the server may be gone; the scenario reports that separately
    }
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.maxRssKB;
  }
}

/** Median RSS over `samples` readings `gapMs` apart (a steadier figure than one reading). */
export async function steadyRssKB(server: MeasuredProcess, samples = 5, gapMs = 100): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < samples; i++) {
    values.push(server.memory().rssKB);
    if (i < samples - 1) await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

/**
 * CPU used by the server and by this load generator over a phase, as % of one
 * core, and this process's event-loop delay (a busy or pausing load generator
 * shows up here rather than being blamed on the server).
 */
export class CpuMeter {
  private readonly serverStart: number;
  private readonly selfStart = process.cpuUsage();
  private readonly startedAt = Date.now();
  private readonly loopDelay = monitorEventLoopDelay({ resolution: 1 });
  private readonly machineStart = machineBusySeconds();

  constructor(private readonly server: MeasuredProcess) {
    this.serverStart = server.cpuSeconds();
    this.loopDelay.enable();
  }

  /**
   * `otherCpuPct` is what every other process on the machine used meanwhile
   * (e.g. test suites of other engineers): results taken while it is high are noisy.
   */
  read(): {
    serverCpuPct: number;
    serverCpuSeconds: number;
    loadgenCpuPct: number;
    otherCpuPct: number;
    loadgenLoopDelayP99Ms: number;
    loadgenLoopDelayMaxMs: number;
  } {
    this.loopDelay.disable();
    const seconds = Math.max(1e-3, (Date.now() - this.startedAt) / 1000);
    const self = process.cpuUsage(this.selfStart);
    let server = 0;
    try {
      server = this.server.cpuSeconds() - this.serverStart;
    } catch {
      // server gone
    }
    const selfSeconds = (self.user + self.system) / 1e6;
    const other = machineBusySeconds() - this.machineStart - server - selfSeconds;
    return {
      serverCpuPct: Math.round((server / seconds) * 100),
      serverCpuSeconds: Math.round(server * 100) / 100,
      loadgenCpuPct: Math.round((selfSeconds / seconds) * 100),
      otherCpuPct: Math.max(0, Math.round((other / seconds) * 100)),
      loadgenLoopDelayP99Ms: Math.round(this.loopDelay.percentile(99) / 1e4) / 100,
      loadgenLoopDelayMaxMs: Math.round(this.loopDelay.max / 1e4) / 100,
    };
  }
}

/** CPU seconds all processors spent busy since boot (/proc/stat, 1/100 s ticks). */
function machineBusySeconds(): number {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return busy / 100;
}

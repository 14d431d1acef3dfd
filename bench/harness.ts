import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BenchClient, type ClientConfig } from './bench-client';
import { BenchRun } from './bench-run';
import { GroupLineCache } from './delivery-decoder';
import { newIdentity, type BenchIdentity } from './identity';
import { clientName, nowMs } from './message-text';
import { ServerProcess } from './server-process';
import type { LatencySummary } from './stats';

/** Options every scenario gets from the command line. */
export interface ScenarioOptions {
  clients: number;
  messages: number;
  /** Messages per second per member (paced), or null. */
  rate: number | null;
  /** Text size of each message in bytes. */
  size: number;
  /** Unreplied send_group requests a sender may have in flight. */
  window: number;
  /** Decode every frame with FrameDecoder instead of the shared validated-line cache. */
  strict: boolean;
  /** private scenario: drive the real ChatClient library, or the bench's lean dm client. */
  dmClient: 'library' | 'lean';
  /** Extra server command-line options. */
  serverArgs: string[];
  /** Write a V8 CPU profile of the server here, or null. */
  profileDir: string | null;
  /** Extra node options for the server process (e.g. --trace-gc). */
  serverNodeArgs: string[];
  /** Directory for server logs. */
  logDir: string;
  /** Hard limit for one scenario, ms. */
  timeoutMs: number;
  /** Print progress to stderr. */
  verbose: boolean;
}

/** The one JSON line `--json` prints (null where not applicable), plus scenario-specific extras. */
export interface ScenarioResult {
  scenario: string;
  clients: number;
  messagesPerClient: number | null;
  rate: number | null;
  expectedDeliveries: number | null;
  delivered: number | null;
  lost: number | null;
  duplicates: number | null;
  outOfOrder: number | null;
  wallSeconds: number | null;
  deliveriesPerSec: number | null;
  latencyMs: LatencySummary;
  serverPeakRssKB: number | null;
  serverRssPerIdleClientKB: number | null;
  /** Scenario-specific figures (removals, error codes, table bytes …). */
  extra: Record<string, unknown>;
}

export const GROUP = 'bench';
const MAX_FRAME_BYTES = 64 * 1024 * 1024; // tables of 10,000 clients exceed the default 64 KiB frame

export function emptyResult(scenario: string, options: ScenarioOptions): ScenarioResult {
  return {
    scenario,
    clients: options.clients,
    messagesPerClient: null,
    rate: null,
    expectedDeliveries: null,
    delivered: null,
    lost: null,
    duplicates: null,
    outOfOrder: null,
    wallSeconds: null,
    deliveriesPerSec: null,
    latencyMs: { p50: null, p90: null, p99: null, max: null },
    serverPeakRssKB: null,
    serverRssPerIdleClientKB: null,
    extra: {},
  };
}

const sharedCache = new GroupLineCache();

export function newRun(options: ScenarioOptions): BenchRun {
  sharedCache.reset();
  return new BenchRun(sharedCache, options.strict);
}

export function startServer(scenario: string, options: ScenarioOptions, extraArgs: string[] = []): Promise<ServerProcess> {
  return ServerProcess.start({
    args: [...extraArgs, ...options.serverArgs],
    logFile: path.join(options.logDir, `server-${scenario}.log`),
    cpuProfileDir: options.profileDir,
    nodeArgs: options.serverNodeArgs,
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `done` every `pollMs` until it holds or `timeoutMs` passed; returns whether it held. */
export async function waitUntil(done: () => boolean, timeoutMs: number, pollMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() >= deadline) return false;
    await sleep(pollMs);
  }
  return true;
}

/** Waits until `value()` has not changed for `quietMs` (bounded by `timeoutMs`). */
export async function waitQuiet(value: () => number, quietMs: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(Math.min(50, quietMs));
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

export function identities(count: number): BenchIdentity[] {
  return Array.from({ length: count }, () => newIdentity());
}

export { clientName };

/** What a bounded registration storm achieved. */
export interface Registration {
  /** Index → client (undefined where connecting failed). */
  clients: (BenchClient | undefined)[];
  registered: number;
  failures: Map<string, number>;
  /** Load-generator ms when the last successful reply arrived. */
  lastRegisteredAt: number;
  /** Registrations so far, including replies that arrive after the deadline. */
  registeredNow: () => number;
}

/** How registerAll connects its clients. */
export interface RegisterOptions {
  concurrency: number;
  trackTable: (index: number) => boolean;
  listenPorts?: readonly number[];
  firstIndex?: number;
}

/**
 * Connects and registers clients, at most `concurrency` at a time, starting no
 * new one after `deadlineAt` (Date.now() ms). Failures are counted, not thrown.
 * `listenPorts[i]` is what client i registers as its direct-message port (1 when unused).
 * Client i is named `b<firstIndex + i>` (firstIndex 0 unless given), so a later batch gets names of its own.
 */
export async function registerAll(
  server: ServerProcess,
  run: BenchRun,
  ids: readonly BenchIdentity[],
  options: RegisterOptions & { deadlineAt?: number },
): Promise<Registration> {
  const result: Registration = {
    clients: new Array<BenchClient | undefined>(ids.length), registered: 0, failures: new Map(), lastRegisteredAt: 0,
    registeredNow: () => result.registered,
  };
  const deadlineAt = options.deadlineAt ?? Infinity;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length && Date.now() < deadlineAt) {
      const index = next++;
      const config: ClientConfig = { trackTable: options.trackTable(index), maxFrameBytes: MAX_FRAME_BYTES };
      try {
        const number = (options.firstIndex ?? 0) + index;
        const client = await BenchClient.connect(server.port, number, clientName(number), run, config);
        result.clients[index] = client;
        await client.register(ids[index]!.keyBase64, options.listenPorts?.[index] ?? 1);
        result.registered++;
        result.lastRegisteredAt = nowMs();
      } catch (err) {
        const reason = err instanceof Error ? err.message.replace(/^b\d+: /, '').replace(/ for b\d+$/, '') : String(err);
        result.failures.set(reason, (result.failures.get(reason) ?? 0) + 1);
      }
    }
  };
  const workers = Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, worker));
  if (deadlineAt === Infinity) await workers;
  else {
    // Stop at the deadline even if replies are still outstanding: they are counted as missing.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()))));
    await Promise.race([workers, deadline]);
    clearTimeout(timer);
  }
  return { ...result, failures: new Map(result.failures) };
}

/** registerAll for scenarios that need every client: throws on the first failure. */
export async function registerClients(
  server: ServerProcess,
  run: BenchRun,
  ids: readonly BenchIdentity[],
  options: RegisterOptions,
): Promise<BenchClient[]> {
  const result = await registerAll(server, run, ids, options);
  if (result.registered < ids.length) {
    closeAll(result.clients);
    throw new Error(`only ${result.registered} of ${ids.length} clients registered: ${JSON.stringify(Object.fromEntries(result.failures))}`);
  }
  return result.clients as BenchClient[];
}

/** Client 0 creates the group, then everyone joins it. */
export async function formGroup(clients: readonly BenchClient[]): Promise<void> {
  await clients[0]!.createGroup(GROUP);
  await Promise.all(clients.map((client) => client.joinGroup(GROUP)));
}

/** A server process whose memory and CPU the bench reads from /proc (chatapp's, or an IRC server's). */
export type MeasuredProcess = Pick<ServerProcess, 'memory' | 'cpuSeconds'>;

/** Samples the server's RSS every `intervalMs` until stopped; tracks the maximum. */
export class RssSampler {
  maxRssKB = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly server: MeasuredProcess, intervalMs = 100) {
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
    if (i < samples - 1) await sleep(gapMs);
  }
  values.sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)]!;
}

export function log(options: ScenarioOptions, message: string): void {
  if (options.verbose) process.stderr.write(`[bench] ${message}\n`);
}

export function closeAll(clients: readonly (BenchClient | undefined)[]): void {
  for (const client of clients) client?.destroy();
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
    serverCpuPct: number; serverCpuSeconds: number; loadgenCpuPct: number; otherCpuPct: number;
    loadgenLoopDelayP99Ms: number; loadgenLoopDelayMaxMs: number;
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

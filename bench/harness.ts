import path from 'node:path';
import { BenchClient, BenchRun, type ClientConfig } from './bench-client';
import { GroupLineCache } from './delivery-decoder';
import { newIdentity, type BenchIdentity } from './identity';
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
  /** Extra server command-line options. */
  serverArgs: string[];
  /** Write a V8 CPU profile of the server here, or null. */
  profileDir: string | null;
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

export function clientName(index: number): string {
  return `b${index}`;
}

/**
 * Connects and registers `count` clients, at most `concurrency` at a time.
 * `listenPorts[i]` is what client i registers as its direct-message port (1 when unused).
 */
export async function registerClients(
  server: ServerProcess,
  run: BenchRun,
  ids: readonly BenchIdentity[],
  options: { concurrency: number; trackTable: (index: number) => boolean; listenPorts?: readonly number[] },
): Promise<BenchClient[]> {
  const clients: BenchClient[] = new Array<BenchClient>(ids.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < ids.length) {
      const index = next++;
      const config: ClientConfig = { trackTable: options.trackTable(index), maxFrameBytes: MAX_FRAME_BYTES };
      const client = await BenchClient.connect(server.port, index, clientName(index), run, config);
      clients[index] = client;
      await client.register(ids[index]!.keyBase64, options.listenPorts?.[index] ?? 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, ids.length) }, worker));
  return clients;
}

/** Client 0 creates the group, then everyone joins it. */
export async function formGroup(clients: readonly BenchClient[]): Promise<void> {
  await clients[0]!.createGroup(GROUP);
  await Promise.all(clients.map((client) => client.joinGroup(GROUP)));
}

/** Samples the server's RSS every `intervalMs` until stopped; tracks the maximum. */
export class RssSampler {
  maxRssKB = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly server: ServerProcess, intervalMs = 100) {
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
export async function steadyRssKB(server: ServerProcess, samples = 5, gapMs = 100): Promise<number> {
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

/** CPU used by the server and by this load generator over a phase, as % of one core. */
export class CpuMeter {
  private readonly serverStart: number;
  private readonly selfStart = process.cpuUsage();
  private readonly startedAt = Date.now();

  constructor(private readonly server: ServerProcess) {
    this.serverStart = server.cpuSeconds();
  }

  read(): { serverCpuPct: number; loadgenCpuPct: number } {
    const seconds = Math.max(1e-3, (Date.now() - this.startedAt) / 1000);
    const self = process.cpuUsage(this.selfStart);
    let server = 0;
    try {
      server = this.server.cpuSeconds() - this.serverStart;
    } catch {
      // server gone
    }
    return {
      serverCpuPct: Math.round((server / seconds) * 100),
      loadgenCpuPct: Math.round(((self.user + self.system) / 1e6 / seconds) * 100),
    };
  }
}

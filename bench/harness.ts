import path from 'node:path';
import { BenchClient, type ClientConfig } from './bench-client';
import { BenchRun } from './bench-run';
import { GroupLineCache } from './delivery-decoder';
import { newIdentity, type BenchIdentity } from './identity';
import { clientName, nowMs } from './message-text';
import { ServerProcess } from './server-process';
import { ServerNodes, type BenchServer } from './server-nodes';
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
  /** Run the server as this many cluster nodes over `redis` (docs/scaling.md); 1 without it. */
  nodes: number;
  /** The Redis of a cluster run (`--redis`), or null for one ordinary server. */
  redis: string | null;
  /** Run the server with TLS (its default, a self-signed certificate) and connect the clients over it; else `--no-tls`. */
  tls: boolean;
}

/** The one JSON line `--json` prints (null where not applicable), plus scenario-specific extras. */
export interface ScenarioResult {
  scenario: string;
  /** The clients spoke TLS to the server (`--tls`). */
  tls: boolean;
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
    tls: options.tls === true,
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

export function startServer(
  scenario: string,
  options: ScenarioOptions,
  extraArgs: string[] = [],
): Promise<BenchServer> {
  const processOptions = {
    // Plain TCP unless --tls: the figures stay comparable with earlier runs, and a TLS row says it is one.
    args: [...(options.tls ? [] : ['--no-tls']), ...extraArgs, ...options.serverArgs],
    tls: options.tls,
    logFile: path.join(options.logDir, `server-${scenario}.log`),
    cpuProfileDir: options.profileDir,
    nodeArgs: options.serverNodeArgs,
  };
  if (options.redis === null) return ServerProcess.start(processOptions);
  return ServerNodes.start(options.nodes, options.redis, processOptions);
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

/**
 * Ed25519 identities for bench clients: every registration is signed over
 * the connection's challenge (docs/protocol.md "Accounts"). Generating one
 * takes about 0.1 ms here (on a loaded machine, key generation was once seen
 * to hang: docs/benchmarks.md).
 */
export function identities(count: number): BenchIdentity[] {
  return Array.from({ length: count }, () => newIdentity());
}

export { clientName };
export { CpuMeter, RssSampler, steadyRssKB, type MeasuredProcess } from './meters';

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
  server: BenchServer,
  run: BenchRun,
  keys: readonly BenchIdentity[],
  options: RegisterOptions & { deadlineAt?: number },
): Promise<Registration> {
  const result: Registration = {
    clients: new Array<BenchClient | undefined>(keys.length),
    registered: 0,
    failures: new Map(),
    lastRegisteredAt: 0,
    registeredNow: () => result.registered,
  };
  const deadlineAt = options.deadlineAt ?? Infinity;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length && Date.now() < deadlineAt) {
      const index = next++;
      const config: ClientConfig = {
        trackTable: options.trackTable(index),
        maxFrameBytes: MAX_FRAME_BYTES,
        tls: server.tls,
      };
      try {
        const number = (options.firstIndex ?? 0) + index;
        const client = await BenchClient.connect(server.portFor(index), number, clientName(number), run, config);
        result.clients[index] = client;
        await client.register(keys[index]!, options.listenPorts?.[index] ?? 1);
        result.registered++;
        result.lastRegisteredAt = nowMs();
      } catch (err) {
        const reason =
          err instanceof Error ? err.message.replace(/^b\d+: /, '').replace(/ for b\d+$/, '') : String(err);
        result.failures.set(reason, (result.failures.get(reason) ?? 0) + 1);
      }
    }
  };
  const workers = Promise.all(Array.from({ length: Math.min(options.concurrency, keys.length) }, worker));
  if (deadlineAt === Infinity) await workers;
  else {
    // Stop at the deadline even if replies are still outstanding: they are counted as missing.
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>(
      (resolve) => (timer = setTimeout(resolve, Math.max(0, deadlineAt - Date.now()))),
    );
    await Promise.race([workers, deadline]);
    clearTimeout(timer);
  }
  return { ...result, failures: new Map(result.failures) };
}

/** registerAll for scenarios that need every client: throws on the first failure. */
export async function registerClients(
  server: BenchServer,
  run: BenchRun,
  keys: readonly BenchIdentity[],
  options: RegisterOptions,
): Promise<BenchClient[]> {
  const result = await registerAll(server, run, keys, options);
  if (result.registered < keys.length) {
    closeAll(result.clients);
    throw new Error(
      `only ${result.registered} of ${keys.length} clients registered: ${JSON.stringify(Object.fromEntries(result.failures))}`,
    );
  }
  return result.clients as BenchClient[];
}

/** Client 0 creates the group, then everyone joins it. */
export async function formGroup(clients: readonly BenchClient[]): Promise<void> {
  await clients[0]!.createGroup(GROUP);
  await Promise.all(clients.map((client) => client.joinGroup(GROUP)));
}

export function log(options: ScenarioOptions, message: string): void {
  if (options.verbose) process.stderr.write(`[bench] ${message}\n`);
}

export function closeAll(clients: readonly (BenchClient | undefined)[]): void {
  for (const client of clients) client?.destroy();
}

import type { BenchIdentity } from '../identity';
import type { BenchClient } from '../bench-client';
import type { BenchRun } from '../bench-run';
import {
  closeAll,
  CpuMeter,
  emptyResult,
  GROUP,
  log,
  newRun,
  registerAll,
  identities,
  RssSampler,
  sleep,
  startServer,
  steadyRssKB,
  waitQuiet,
  type ScenarioOptions,
  type ScenarioResult,
} from '../harness';
import type { BenchServer } from '../server-nodes';
import { nowMs } from '../message-text';
import { round } from '../stats';

/**
 * Client-count scenarios:
 *  - idle: clients register, join one group (as in the IRC runs, where every
 *          client joins a channel) and sit idle answering heartbeats. RSS per
 *          idle client is the slope between two client counts, N/5 and N
 *          (e.g. 1,000 and 5,000): (RSS at N − RSS at N/5) / (N − N/5), so the
 *          server's fixed cost and the first storm's heap growth do not count.
 *  - join: N clients (10,000) register at once: time until all are registered,
 *          and the table bytes every client receives until the pushes stop
 */

/** Clients whose tables are parsed and checked for completeness (the rest only count table bytes). */
const TABLE_CHECKERS = 16;
const JOIN_CONCURRENCY = 1_000;
/** Registrations in flight in `idle`: few enough that none waits out the 30 s request timeout on a loaded machine. */
const IDLE_CONCURRENCY = 100;
/** Table pushes have stopped when no client received table bytes for this long. */
const TABLE_QUIET_MS = 1_000;
/** Heartbeat rounds that pass before RSS is read, so per-connection timers and buffers reach their steady state. */
const IDLE_SETTLE_MS = 3_000;
/** The lower of the two client counts of `idle` is this fraction of the upper one. */
const IDLE_LOW_FRACTION = 5;

export async function runIdle(options: ScenarioOptions): Promise<ScenarioResult> {
  const run = newRun(options);
  const server = await startServer('idle', options);
  const clients: BenchClient[] = [];
  try {
    const high = options.clients;
    const low = Math.max(1, Math.round(high / IDLE_LOW_FRACTION));
    const keys = identities(high);
    await sleep(1_000);
    const emptyKB = await steadyRssKB(server);
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    const atLow = await addIdleClients(server, run, keys.slice(0, low), clients);
    log(options, `idle: ${atLow.registered} clients registered, RSS ${atLow.rssKB} KiB`);
    const atHigh = await addIdleClients(server, run, keys.slice(low), clients);
    log(options, `idle: ${atHigh.registered} clients registered, RSS ${atHigh.rssKB} KiB`);
    const result = emptyResult('idle', options);
    result.serverPeakRssKB = Math.max(sampler.stop(), server.memory().peakRssKB);
    // The slope over the clients actually registered (a registration that failed on a loaded machine is not counted).
    const added = atHigh.registered - atLow.registered;
    result.serverRssPerIdleClientKB = added > 0 ? round((atHigh.rssKB - atLow.rssKB) / added, 2) : null;
    result.extra = {
      lowClients: atLow.registered,
      highClients: atHigh.registered,
      inGroup: atHigh.joined,
      rssEmptyKB: emptyKB,
      rssLowKB: atLow.rssKB,
      rssHighKB: atHigh.rssKB,
      // The old figure, (RSS at N − RSS of the empty server) / N, for comparison with earlier runs.
      rssPerClientFromEmptyKB: round((atHigh.rssKB - emptyKB) / Math.max(1, atHigh.registered), 2),
      stillConnected: clients.filter((c) => !c.closed).length,
      failures: sumCounts(atLow.failures, atHigh.failures),
      errors: Object.fromEntries(run.errors),
      ...cpu.read(),
    };
    return result;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}

/** Where an idle step left the server. */
interface IdleStep {
  /** Clients registered so far (all steps). */
  registered: number;
  /** Of those, clients in the group. */
  joined: number;
  /** Steady server RSS after the step. */
  rssKB: number;
  /** This step's registration failures, by reason. */
  failures: Map<string, number>;
}

/**
 * Registers `keys` as new clients (the registered ones are appended to
 * `clients`), puts them in the group (the first client ever creates it), waits
 * for the table pushes to stop and a few heartbeat rounds, and reads the
 * server's steady RSS. A failed registration is counted, and its connection closed.
 */
async function addIdleClients(
  server: BenchServer,
  run: BenchRun,
  keys: readonly BenchIdentity[],
  clients: BenchClient[],
): Promise<IdleStep> {
  const first = clients.length === 0;
  const registration = await registerAll(server, run, keys, {
    concurrency: IDLE_CONCURRENCY,
    trackTable: () => false,
    firstIndex: clients.length,
  });
  const added: BenchClient[] = [];
  for (const client of registration.clients) {
    if (client?.registered) added.push(client);
    else client?.destroy();
  }
  if (first && added.length > 0) await added[0]!.createGroup(GROUP);
  await Promise.allSettled(added.map((client) => client.joinGroup(GROUP)));
  clients.push(...added);
  await waitQuiet(() => tableBytes(clients), 500, 30_000);
  await sleep(IDLE_SETTLE_MS);
  return {
    registered: clients.length,
    joined: clients.filter((c) => c.group !== null).length,
    rssKB: await steadyRssKB(server, 10, 100),
    failures: registration.failures,
  };
}

export async function runJoin(options: ScenarioOptions): Promise<ScenarioResult> {
  const run = newRun(options);
  const server = await startServer('join', options);
  let clients: (BenchClient | undefined)[] = [];
  try {
    const keys = identities(options.clients);
    const checker = (index: number): boolean =>
      index < TABLE_CHECKERS / 2 || index >= options.clients - TABLE_CHECKERS / 2;
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    log(options, `join: registering ${options.clients} clients, ${JOIN_CONCURRENCY} at a time`);
    const startedAt = nowMs();
    const registration = await registerAll(server, run, keys, {
      concurrency: JOIN_CONCURRENCY,
      trackTable: checker,
      deadlineAt: Date.now() + options.timeoutMs,
    });
    clients = registration.clients;
    const registeredSeconds = ((registration.lastRegisteredAt || nowMs()) - startedAt) / 1000;
    log(
      options,
      `join: ${registration.registered} registered after ${registeredSeconds.toFixed(2)} s; waiting for table pushes to stop`,
    );
    await waitQuiet(() => tableBytes(clients), TABLE_QUIET_MS, Math.min(10_000, options.timeoutMs / 2));
    const settledSeconds = (nowMs() - startedAt - TABLE_QUIET_MS) / 1000;
    const total = tableBytes(clients);
    const checked = clients.filter((c, i): c is BenchClient => c !== undefined && checker(i));
    const result = emptyResult('join', options);
    result.wallSeconds = round(registeredSeconds, 3);
    result.serverPeakRssKB = Math.max(sampler.stop(), server.memory().peakRssKB);
    result.extra = {
      registered: registration.registered,
      registeredSeconds: round(registeredSeconds, 3),
      registrationsPerSec: Math.round(registration.registered / Math.max(1e-3, registeredSeconds)),
      tablesSettledSeconds: round(settledSeconds, 3),
      tableBytesTotal: total,
      tableBytesPerClient: Math.round(total / Math.max(1, registration.registered)),
      tableFramesPerClient: round(
        clients.reduce((sum, c) => sum + (c?.tableFrames ?? 0), 0) / Math.max(1, registration.registered),
        1,
      ),
      tablesChecked: checked.length,
      registeredAfterDeadline: registration.registeredNow() - registration.registered,
      // A checker's table is complete when it lists every client registered by now as online.
      tablesComplete: checked.filter((c) => onlineCount(c) === registration.registeredNow()).length,
      stillConnected: clients.filter((c) => c !== undefined && !c.closed).length,
      notRegisteredByDeadline: options.clients - registration.registered,
      failures: Object.fromEntries(registration.failures),
      errors: Object.fromEntries(run.errors),
      ...cpu.read(),
    };
    return result;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}

function tableBytes(clients: readonly (BenchClient | undefined)[]): number {
  let total = 0;
  for (const client of clients) if (client !== undefined) total += client.tableBytes;
  return total;
}

function onlineCount(client: BenchClient): number {
  let online = 0;
  for (const entry of client.table.values()) if (entry.online) online++;
  return online;
}

/** Adds up counts by key (registration failures of several steps). */
function sumCounts(...maps: ReadonlyMap<string, number>[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const map of maps) for (const [key, n] of map) sum[key] = (sum[key] ?? 0) + n;
  return sum;
}

import type { BenchClient } from '../bench-client';
import {
  closeAll, CpuMeter, emptyResult, identities, log, newRun, registerAll, registerClients, RssSampler, sleep, startServer,
  steadyRssKB, waitQuiet, type ScenarioOptions, type ScenarioResult,
} from '../harness';
import { nowMs } from '../message-text';
import { round } from './group';

/**
 * Client-count scenarios:
 *  - idle: N clients register and sit idle (answering heartbeats);
 *          RSS per idle client = (server RSS after − before) / N
 *  - join: N clients (10,000) register at once: time until all are registered,
 *          and the table bytes every client receives until the pushes stop
 */

/** Clients whose tables are parsed and checked for completeness (the rest only count table bytes). */
const TABLE_CHECKERS = 16;
const JOIN_CONCURRENCY = 1_000;
/** Table pushes have stopped when no client received table bytes for this long. */
const TABLE_QUIET_MS = 1_000;

export async function runIdle(options: ScenarioOptions): Promise<ScenarioResult> {
  const run = newRun(options);
  const server = await startServer('idle', options);
  let clients: BenchClient[] = [];
  try {
    const ids = identities(options.clients);
    await sleep(1_000);
    const beforeKB = await steadyRssKB(server);
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    clients = await registerClients(server, run, ids, { concurrency: 500, trackTable: () => false });
    await waitQuiet(() => tableBytes(clients), 500, 30_000);
    // Several heartbeat rounds pass so per-connection timers and buffers reach their steady state.
    await sleep(3_000);
    const afterKB = await steadyRssKB(server, 10, 100);
    const result = emptyResult('idle', options);
    result.serverPeakRssKB = Math.max(sampler.stop(), server.memory().peakRssKB);
    result.serverRssPerIdleClientKB = round((afterKB - beforeKB) / options.clients, 2);
    result.extra = {
      rssBeforeKB: beforeKB,
      rssAfterKB: afterKB,
      stillConnected: clients.filter((c) => !c.closed).length,
      errors: Object.fromEntries(run.errors),
      ...cpu.read(),
    };
    return result;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}

export async function runJoin(options: ScenarioOptions): Promise<ScenarioResult> {
  const run = newRun(options);
  const server = await startServer('join', options);
  let clients: (BenchClient | undefined)[] = [];
  try {
    const ids = identities(options.clients);
    const checker = (index: number): boolean => index < TABLE_CHECKERS / 2 || index >= options.clients - TABLE_CHECKERS / 2;
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    log(options, `join: registering ${options.clients} clients, ${JOIN_CONCURRENCY} at a time`);
    const startedAt = nowMs();
    const registration = await registerAll(server, run, ids, {
      concurrency: JOIN_CONCURRENCY,
      trackTable: checker,
      deadlineAt: Date.now() + options.timeoutMs,
    });
    clients = registration.clients;
    const registeredSeconds = ((registration.lastRegisteredAt || nowMs()) - startedAt) / 1000;
    log(options, `join: ${registration.registered} registered after ${registeredSeconds.toFixed(2)} s; waiting for table pushes to stop`);
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
      tablesSettledSeconds: round(settledSeconds, 3),
      tableBytesTotal: total,
      tableBytesPerClient: Math.round(total / Math.max(1, registration.registered)),
      tableFramesPerClient: round(clients.reduce((sum, c) => sum + (c?.tableFrames ?? 0), 0) / Math.max(1, registration.registered), 1),
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

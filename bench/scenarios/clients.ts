import type { BenchClient } from '../bench-client';
import {
  closeAll, emptyResult, identities, log, newRun, registerClients, RssSampler, sleep, startServer,
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

export async function runIdle(options: ScenarioOptions): Promise<ScenarioResult> {
  const run = newRun(options);
  const server = await startServer('idle', options);
  let clients: BenchClient[] = [];
  try {
    const ids = identities(options.clients);
    await sleep(1_000);
    const beforeKB = await steadyRssKB(server);
    const sampler = new RssSampler(server);
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
  let clients: BenchClient[] = [];
  try {
    const ids = identities(options.clients);
    const checker = (index: number): boolean => index < TABLE_CHECKERS / 2 || index >= options.clients - TABLE_CHECKERS / 2;
    const sampler = new RssSampler(server);
    log(options, `join: registering ${options.clients} clients, ${JOIN_CONCURRENCY} at a time`);
    const startedAt = nowMs();
    clients = await registerClients(server, run, ids, { concurrency: JOIN_CONCURRENCY, trackTable: checker });
    const registeredAt = nowMs();
    log(options, `join: all registered after ${((registeredAt - startedAt) / 1000).toFixed(2)} s; waiting for table pushes to stop`);
    await waitQuiet(() => tableBytes(clients), 1_000, options.timeoutMs);
    const quietAt = nowMs();
    const total = tableBytes(clients);
    const checked = clients.filter((c, i) => checker(i));
    const completeTables = checked.filter((c) => onlineCount(c) === options.clients).length;
    const result = emptyResult('join', options);
    result.wallSeconds = round((registeredAt - startedAt) / 1000, 3);
    result.serverPeakRssKB = Math.max(sampler.stop(), server.memory().peakRssKB);
    result.extra = {
      registeredSeconds: round((registeredAt - startedAt) / 1000, 3),
      tablesSettledSeconds: round((quietAt - startedAt - 1_000) / 1000, 3),
      tableBytesTotal: total,
      tableBytesPerClient: Math.round(total / options.clients),
      tableFramesPerClient: round(clients.reduce((sum, c) => sum + c.tableFrames, 0) / options.clients, 1),
      tablesChecked: checked.length,
      tablesComplete: completeTables,
      stillConnected: clients.filter((c) => !c.closed).length,
      errors: Object.fromEntries(run.errors),
    };
    return result;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}

function tableBytes(clients: readonly BenchClient[]): number {
  let total = 0;
  for (const client of clients) if (client !== undefined) total += client.tableBytes;
  return total;
}

function onlineCount(client: BenchClient): number {
  let online = 0;
  for (const entry of client.table.values()) if (entry.online) online++;
  return online;
}

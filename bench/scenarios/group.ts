import type { BenchClient, BenchRun } from '../bench-client';
import {
  closeAll, CpuMeter, emptyResult, formGroup, identities, log, newRun, registerClients, RssSampler, sleep,
  startServer, waitQuiet, waitUntil, type ScenarioOptions, type ScenarioResult,
} from '../harness';
import { nowMs } from '../message-text';
import type { ServerProcess } from '../server-process';
import type { LatencySummary } from '../stats';

/**
 * Group scenarios: every member of one group sends, each message goes to every
 * other member, every delivery is acked (cumulative group_ack per read batch).
 *  - fanout:   N members each send M messages as fast as the send window allows
 *  - overload: the same with 500 members: peak server RSS, nothing lost silently
 *  - paced:    N members each send R msg/s: send_group → display-ready latency
 */

/** A delivery stream silent this long is finished (far beyond the 500 ms ack timeout). */
const SETTLE_QUIET_MS = 2_000;
/** Latency of the first second of a paced run (JIT warm-up, joins settling) is not recorded. */
const PACED_WARMUP_MS = 1_000;

interface GroupSetup {
  server: ServerProcess;
  run: BenchRun;
  clients: BenchClient[];
}

async function setUpGroup(scenario: string, options: ScenarioOptions): Promise<GroupSetup> {
  const run = newRun(options);
  const server = await startServer(scenario, options);
  log(options, `${scenario}: server pid ${server.pid} port ${server.port}; registering ${options.clients}`);
  const clients = await registerClients(server, run, identities(options.clients), {
    concurrency: 200,
    trackTable: () => false,
  });
  await formGroup(clients);
  await waitQuiet(() => clients.reduce((sum, c) => sum + c.tableBytes, 0), 300, 10_000);
  log(options, `${scenario}: ${clients.length} members joined`);
  return { server, run, clients };
}

export async function runFanout(options: ScenarioOptions, scenario = 'fanout'): Promise<ScenarioResult> {
  const setup = await setUpGroup(scenario, options);
  const { server, run, clients } = setup;
  try {
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    let sendersDone = 0;
    for (const client of clients) client.onSendDone = () => sendersDone++;
    const startedAt = nowMs();
    for (const client of clients) client.startSending(options.messages, options.window, options.size);
    const allSent = await waitUntil(() => sendersDone === clients.length, options.timeoutMs);
    log(options, `${scenario}: senders ${allSent ? 'done' : 'TIMED OUT'} after ${((nowMs() - startedAt) / 1000).toFixed(1)} s`);
    await settle(run, clients, options);
    const result = tally(scenario, options, setup, startedAt, sampler.stop());
    result.messagesPerClient = options.messages;
    result.extra['sendersTimedOut'] = !allSent;
    const usage = cpu.read();
    Object.assign(result.extra, usage);
    // Server CPU per delivery: what the server could do with a core of its own.
    const deliveries = (result.delivered ?? 0) + Number(result.extra['deliveredToRemovedMembers'] ?? 0);
    result.extra['serverCpuNsPerDelivery'] = deliveries > 0 ? Math.round((usage.serverCpuSeconds * 1e9) / deliveries) : null;
    return result;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}

export function runOverload(options: ScenarioOptions): Promise<ScenarioResult> {
  return runFanout(options, 'overload');
}

export async function runPaced(options: ScenarioOptions): Promise<ScenarioResult> {
  const rate = options.rate ?? 20;
  const setup = await setUpGroup('paced', options);
  const { server, run, clients } = setup;
  const timers: NodeJS.Timeout[] = [];
  try {
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    const periodMs = 1000 / rate;
    let skipped = 0;
    let running = clients.length;
    run.measuring = false;
    const startedAt = nowMs();
    setTimeout(() => (run.measuring = true), PACED_WARMUP_MS).unref();
    clients.forEach((client, i) => {
      // Spread the members' phases over one period so sends do not all land in the same tick.
      const start = setTimeout(() => {
        const tick = (): void => {
          if (client.sentCount >= options.messages || client.closed) {
            clearInterval(timer);
            running--;
            return;
          }
          if (!client.sendPaced(options.window, options.size)) skipped++;
        };
        const timer = setInterval(tick, periodMs);
        timers.push(timer);
        tick();
      }, (periodMs * i) / clients.length);
      timers.push(start);
    });
    const plannedMs = (options.messages / rate) * 1000;
    const allSent = await waitUntil(() => running === 0, plannedMs + options.timeoutMs);
    await settle(run, clients, options);
    const result = tally('paced', options, setup, startedAt, sampler.stop());
    result.messagesPerClient = options.messages;
    result.rate = rate;
    result.extra['skippedTicks'] = skipped;
    Object.assign(result.extra, cpu.read());
    result.extra['sendersTimedOut'] = !allSent;
    return result;
  } finally {
    for (const timer of timers) clearTimeout(timer);
    closeAll(clients);
    await server.stop();
  }
}

/** Waits until every live member has every accepted message, or deliveries stop for SETTLE_QUIET_MS. */
async function settle(run: BenchRun, clients: readonly BenchClient[], options: ScenarioOptions): Promise<void> {
  const complete = (): boolean => {
    const totalAccepted = clients.reduce((sum, c) => sum + c.accepted, 0);
    return clients.every((c) => c.removed || c.closed || c.ledger.counts.unique >= totalAccepted - c.accepted);
  };
  const deadline = Date.now() + options.timeoutMs;
  let last = run.deliveries;
  let lastChange = Date.now();
  while (!complete() && Date.now() < deadline && Date.now() - lastChange < SETTLE_QUIET_MS) {
    await sleep(20);
    if (run.deliveries !== last) {
      last = run.deliveries;
      lastChange = Date.now();
    }
  }
  // Let the final cumulative acks reach the server before the clients go.
  await sleep(50);
}

/** Turns the receivers' ledgers into the result: expected counts only members that stayed in the group. */
function tally(scenario: string, options: ScenarioOptions, setup: GroupSetup, startedAt: number, maxRssKB: number): ScenarioResult {
  const { server, run, clients } = setup;
  const result = emptyResult(scenario, options);
  const totalAccepted = clients.reduce((sum, c) => sum + c.accepted, 0);
  let expected = 0;
  let unique = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let orderViolations = 0;
  let leftMembers = 0;
  let deliveredToLeft = 0;
  for (const client of clients) {
    orderViolations += client.ledger.groupOrderViolations;
    duplicates += client.ledger.counts.duplicates;
    if (client.removed || client.closed) {
      leftMembers++;
      deliveredToLeft += client.ledger.counts.unique;
      continue;
    }
    expected += totalAccepted - client.accepted;
    unique += client.ledger.counts.unique;
    outOfOrder += client.ledger.counts.outOfOrder;
  }
  const wallSeconds = Math.max(1e-3, ((run.lastDeliveryAt || nowMs()) - startedAt) / 1000);
  const memory = server.memory();
  result.expectedDeliveries = expected;
  result.delivered = unique;
  result.lost = Math.max(0, expected - unique);
  result.duplicates = duplicates;
  result.outOfOrder = outOfOrder;
  result.wallSeconds = round(wallSeconds, 3);
  result.deliveriesPerSec = Math.round((unique + deliveredToLeft) / wallSeconds);
  result.latencyMs = roundLatency(run.latency.summary());
  result.serverPeakRssKB = Math.max(memory.peakRssKB, maxRssKB);
  result.extra = {
    window: options.window,
    textBytes: options.size,
    accepted: totalAccepted,
    rejected: clients.reduce((sum, c) => sum + c.rejected, 0),
    // SPEC §7: every send_group ends in a reply or an error; anything else is a silent loss.
    unanswered: clients.reduce((sum, c) => sum + c.sentCount - c.accepted - c.rejected, 0),
    membersRemoved: run.removals,
    connectionsClosed: run.closes,
    membersLeft: leftMembers,
    deliveredToRemovedMembers: deliveredToLeft,
    groupOrderViolations: orderViolations + run.order.mismatches,
    serverRemovalLines: server.countLogLines(/not responsive, removed from group/),
    errors: Object.fromEntries(run.errors),
    replyLatencyMs: roundLatency(run.replyLatency.summary()),
    decodeCacheHitRate: round(run.cache.hits / Math.max(1, run.cache.hits + run.cache.misses), 4),
  };
  return result;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function roundLatency(summary: LatencySummary): LatencySummary {
  const r = (v: number | null): number | null => (v === null ? null : round(v, 3));
  return { p50: r(summary.p50), p90: r(summary.p90), p99: r(summary.p99), max: r(summary.max) };
}

import type { BenchClient } from '../bench-client';
import type { BenchRun } from '../bench-run';
import {
  emptyResult,
  formGroup,
  log,
  newRun,
  registerClients,
  identities,
  sleep,
  startServer,
  waitQuiet,
  type ScenarioOptions,
  type ScenarioResult,
} from '../harness';
import { lossReport } from '../loss';
import { nowMs } from '../message-text';
import type { ServerStats } from '../server-process';
import type { BenchServer } from '../server-nodes';
import { round, roundLatency } from '../stats';
import { ackVerdict, groupOutcome } from '../verdict';

/**
 * What the group scenarios (fanout, overload, paced) share: forming the
 * group, waiting for the deliveries and then for the server's acks, and
 * turning the receivers' ledgers into the result.
 */

/** A delivery stream silent this long is finished (far beyond the 500 ms ack timeout). */
const SETTLE_QUIET_MS = 2_000;
/** How long to wait for the server to count zero unacked deliveries after the last one arrived. */
const DRAIN_TIMEOUT_MS = 5_000;
const DRAIN_POLL_MS = 25;

export interface GroupSetup {
  server: BenchServer;
  run: BenchRun;
  clients: BenchClient[];
}

/** Starts a server, registers `options.clients` clients and puts them all in one group. */
export async function setUpGroup(scenario: string, options: ScenarioOptions): Promise<GroupSetup> {
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

/** Waits until every member still in the group has every accepted message, or deliveries stop for SETTLE_QUIET_MS. */
export async function settle(run: BenchRun, clients: readonly BenchClient[], timeoutMs: number): Promise<void> {
  const complete = (): boolean => {
    const totalAccepted = clients.reduce((sum, c) => sum + c.accepted, 0);
    return clients.every((c) => c.removed || c.closed || c.ledger.counts.unique >= totalAccepted - c.accepted);
  };
  const deadline = Date.now() + timeoutMs;
  let last = run.deliveries;
  let lastChange = Date.now();
  while (!complete() && Date.now() < deadline && Date.now() - lastChange < SETTLE_QUIET_MS) {
    await sleep(20);
    if (run.deliveries !== last) {
      last = run.deliveries;
      lastChange = Date.now();
    }
  }
}

/** The server's counters once it holds no unacked delivery (or after DRAIN_TIMEOUT_MS), with the wait. */
export interface Drained {
  stats: ServerStats | null;
  waitedMs: number;
}

/**
 * Keeps the clients open (reading and acking) until the server reports zero
 * unacked deliveries: only then has every ack been confirmed where it counts.
 */
export async function drainAcks(server: BenchServer): Promise<Drained> {
  const startedAt = Date.now();
  let stats = await server.stats();
  while (stats !== null && stats.unackedDeliveries > 0 && Date.now() - startedAt < DRAIN_TIMEOUT_MS) {
    await sleep(DRAIN_POLL_MS);
    stats = await server.stats();
  }
  return { stats, waitedMs: Date.now() - startedAt };
}

/** Turns the receivers' ledgers, the senders' logs and the server's counters into the result. */
export function tally(
  scenario: string,
  options: ScenarioOptions,
  setup: GroupSetup,
  startedAt: number,
  maxRssKB: number,
  drained: Drained,
): ScenarioResult {
  const { server, run, clients } = setup;
  const result = emptyResult(scenario, options);
  const loss = lossReport(
    clients.map((c) => ({ index: c.index, left: c.removed || c.closed, sends: c.sends, ledger: c.ledger })),
  );
  let duplicates = 0,
    outOfOrder = 0,
    orderViolations = 0;
  for (const client of clients) {
    orderViolations += client.ledger.groupOrderViolations;
    duplicates += client.ledger.counts.duplicates;
    outOfOrder += client.ledger.counts.outOfOrder;
  }
  const wallSeconds = Math.max(1e-3, ((run.lastDeliveryAt || nowMs()) - startedAt) / 1000);
  const deliveries = loss.delivered + loss.deliveredToLeft + loss.deliveredUnaccepted;
  result.expectedDeliveries = loss.expected;
  result.delivered = loss.delivered;
  result.lost = loss.lost;
  result.duplicates = duplicates;
  result.outOfOrder = outOfOrder;
  result.wallSeconds = round(wallSeconds, 3);
  result.deliveriesPerSec = Math.round(deliveries / wallSeconds);
  result.latencyMs = roundLatency(run.latency.summary());
  result.serverPeakRssKB = Math.max(server.memory().peakRssKB, maxRssKB);
  const stats = drained.stats;
  result.extra = {
    window: options.window,
    textBytes: options.size,
    accepted: clients.reduce((sum, c) => sum + c.accepted, 0),
    rejected: clients.reduce((sum, c) => sum + c.rejected, 0),
    // Every send_group ends in a reply or an error (docs/protocol.md); anything else is a silent loss.
    unanswered: clients.reduce((sum, c) => sum + c.sends.unanswered, 0),
    lostToRemoved: loss.lostToRemoved,
    expectedAtRemoved: loss.expectedAtLeft,
    deliveredToRemovedMembers: loss.deliveredToLeft,
    deliveredUnaccepted: loss.deliveredUnaccepted,
    receiversWithLoss: loss.receiversWithLoss,
    sendersWithLoss: loss.sendersWithLoss,
    lostByReceiver: loss.lostByReceiver,
    lostBySender: loss.lostBySender,
    membersRemoved: run.removals,
    serverMembersRemoved: stats?.membersRemovedUnresponsive ?? null,
    serverRemovalLines: server.countLogLines(/not responsive, removed from group/),
    connectionsClosed: run.closes,
    serverSlowConsumersDropped: stats?.slowConsumersDropped ?? null,
    serverUnacked: stats?.unackedDeliveries ?? null,
    serverUnackedWaitMs: drained.waitedMs,
    groupOrderViolations: orderViolations + run.order.mismatches,
    fromMismatches: run.fromMismatches,
    errors: Object.fromEntries(run.errors),
    replyLatencyMs: roundLatency(run.replyLatency.summary()),
    decodeCacheHitRate: round(run.cache.hits / Math.max(1, run.cache.hits + run.cache.misses), 4),
  };
  return result;
}

/** Adds the "every delivery acked" verdict, once every figure it reads is in the result. */
export function addVerdict(result: ScenarioResult): void {
  const verdict = ackVerdict(groupOutcome(result));
  result.extra['allAcked'] = verdict.ok;
  result.extra['notAckedBecause'] = verdict.reasons;
}

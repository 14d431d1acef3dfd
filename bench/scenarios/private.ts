import type { BenchClient } from '../bench-client';
import { DirectPeer, DirectStats } from '../direct-peer';
import {
  clientName,
  CpuMeter,
  closeAll,
  emptyResult,
  identities,
  log,
  newRun,
  registerClients,
  startServer,
  waitQuiet,
  waitUntil,
  type ScenarioOptions,
  type ScenarioResult,
} from '../harness';
import { nowMs } from '../message-text';
import { round, roundLatency } from '../stats';

/**
 * private: N/2 pairs exchange signed direct messages (peer-to-peer `dm`, never
 * through the server). Each client registers its listen port and key with the
 * server, learns its partner's address and key from the table, and both
 * partners send M dms keeping a window of unacked ones. Counts acked dms/s and
 * the receiver's display-ready latency (after signature verification).
 */
export async function runPrivate(options: ScenarioOptions): Promise<ScenarioResult> {
  const count = options.clients - (options.clients % 2);
  const run = newRun(options);
  const server = await startServer('private', options);
  const stats = new DirectStats(run.latency);
  const ids = identities(count);
  const peers = ids.map((identity, i) => new DirectPeer(i, clientName(i), identity, stats));
  let clients: BenchClient[] = [];
  try {
    const ports = await Promise.all(peers.map((peer) => peer.listen()));
    clients = await registerClients(server, run, ids, { concurrency: 200, trackTable: () => true, listenPorts: ports });
    peers.forEach((peer, i) => (peer.link = clients[i]!));
    await waitUntil(() => clients.every((c) => c.table.size >= count), 10_000);
    await waitQuiet(() => clients.reduce((sum, c) => sum + c.tableBytes, 0), 300, 10_000);
    log(options, `private: ${count} clients registered, ${count / 2} pairs`);
    let done = 0;
    for (const peer of peers) peer.onDone = () => done++;
    const cpu = new CpuMeter(server);
    const startedAt = nowMs();
    await Promise.all(
      peers.map((peer, i) =>
        peer.start(clients[i]!, clientName(i ^ 1), options.messages, options.window, options.size),
      ),
    );
    const finished = await waitUntil(() => done === count, options.timeoutMs);
    const wallSeconds = Math.max(1e-3, ((stats.lastAckAt || nowMs()) - startedAt) / 1000);
    const expected = count * options.messages;
    const result = emptyResult('private', options);
    result.clients = count;
    result.messagesPerClient = options.messages;
    result.expectedDeliveries = expected;
    result.delivered = stats.counts.unique;
    result.lost = Math.max(0, expected - stats.counts.unique);
    result.duplicates = stats.counts.duplicates;
    result.outOfOrder = stats.counts.outOfOrder;
    result.wallSeconds = round(wallSeconds, 3);
    result.deliveriesPerSec = Math.round(stats.acked / wallSeconds);
    result.latencyMs = roundLatency(run.latency.summary());
    result.serverPeakRssKB = server.memory().peakRssKB;
    result.extra = {
      pairs: count / 2,
      window: options.window,
      acked: stats.acked,
      rejected: stats.rejected,
      timedOut: !finished,
      ...cpu.read(),
      errors: Object.fromEntries([...stats.errors, ...run.errors]),
    };
    return result;
  } finally {
    for (const peer of peers) peer.close();
    closeAll(clients);
    await server.stop();
  }
}

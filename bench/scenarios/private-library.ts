import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ChatClient } from '../../src/client/chat-client';
import type { ServerTransport } from '../../src/client/server-dial';
import { KnownServers, ServerTrust } from '../../src/client/server-trust';
import { isFailure } from '../../src/client/client-results';
import {
  clientName,
  CpuMeter,
  emptyResult,
  log,
  newRun,
  startServer,
  waitUntil,
  type ScenarioOptions,
  type ScenarioResult,
} from '../harness';
import { decodeBenchText, encodeBenchText, nowMs } from '../message-text';
import { newDeliveryCounts, round, roundLatency, SenderSequence } from '../stats';

/**
 * private (default): N/2 pairs exchange direct messages through the real
 * ChatClient library (src/client): signed `dm` frames over pooled peer
 * connections, verified by the receiver's PeerListener against the server's
 * table, each send awaiting its `dm_ack`. Each client keeps `window` sends in
 * flight; receivers count `directMessage` events and their latency.
 */
export async function runPrivateLibrary(options: ScenarioOptions): Promise<ScenarioResult> {
  const count = options.clients - (options.clients % 2);
  const run = newRun(options);
  const server = await startServer('private', options);
  const counts = newDeliveryCounts();
  const outcomes = new Map<string, number>();
  // The per-sender rate limit of a listener (50/s by default, docs/protocol.md) would be all this measured.
  // A 2 s ack deadline instead of 500 ms: on a shared, loaded machine the default timed out registrations
  // (not_responding) and dms (no_ack) that were only slow, which measured the load, not the path.
  const limits = { directRatePerSec: 0, ackTimeoutMs: 2_000 };
  // Over TLS every client trusts the server on first use, as the CLI does, with one pin file for the run.
  const pins = fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-bench-'));
  const transport: ServerTransport = server.tls
    ? { tls: true, trust: new ServerTrust(new KnownServers(path.join(pins, 'known_servers'))) }
    : { tls: false };
  const clients = Array.from(
    { length: count },
    (_, i) =>
      new ChatClient({
        name: clientName(i),
        serverHost: '127.0.0.1',
        serverPort: server.port,
        listenPort: 0,
        listenHost: '127.0.0.1',
        limits,
        transport,
      }),
  );
  try {
    await Promise.all(clients.map((c) => c.start()));
    for (let i = 0; i < count; i += 100) {
      const results = await Promise.all(clients.slice(i, i + 100).map((c) => c.register()));
      const failed = results.find((r) => r !== 'ok');
      if (failed !== undefined) throw new Error(`register failed: ${JSON.stringify(failed)}`);
    }
    const partnerKnown = (i: number): boolean =>
      clients[i]!.clients().some((e) => e.name === clientName(i ^ 1) && e.online);
    await waitUntil(() => clients.every((_, i) => partnerKnown(i)), 20_000);
    log(options, `private: ${count} ChatClients registered, ${count / 2} pairs`);
    clients.forEach((client) => {
      const fromSender = new Map<string, SenderSequence>();
      client.on('directMessage', (message) => {
        const meta = decodeBenchText(message.text);
        if (meta === null) return;
        let seq = fromSender.get(message.from);
        if (seq === undefined) fromSender.set(message.from, (seq = new SenderSequence()));
        if (seq.record(meta.n, counts)) run.latency.record(nowMs() - meta.sentAtMs);
      });
    });
    let lastAckAt = 0;
    const cpu = new CpuMeter(server);
    const startedAt = nowMs();
    const sendAll = async (index: number): Promise<void> => {
      let next = 0;
      const lane = async (): Promise<void> => {
        while (next < options.messages) {
          const n = next++;
          const result = await clients[index]!.sendDirect(
            clientName(index ^ 1),
            encodeBenchText(index, n, options.size),
          );
          const key =
            typeof result === 'string' ? result : isFailure(result) ? 'failure' : `rejected:${result.rejected}`;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          if (result === 'received') lastAckAt = nowMs();
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.window) }, lane));
    };
    const finished = await Promise.race([
      Promise.all(clients.map((_, i) => sendAll(i))).then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), options.timeoutMs).unref()),
    ]);
    const acked = outcomes.get('received') ?? 0;
    const wallSeconds = Math.max(1e-3, ((lastAckAt || nowMs()) - startedAt) / 1000);
    const expected = count * options.messages;
    const result = emptyResult('private', options);
    result.clients = count;
    result.messagesPerClient = options.messages;
    result.expectedDeliveries = expected;
    result.delivered = counts.unique;
    result.lost = Math.max(0, expected - counts.unique);
    result.duplicates = counts.duplicates;
    result.outOfOrder = counts.outOfOrder;
    result.wallSeconds = round(wallSeconds, 3);
    result.deliveriesPerSec = Math.round(acked / wallSeconds);
    result.latencyMs = roundLatency(run.latency.summary());
    result.serverPeakRssKB = server.memory().peakRssKB;
    result.extra = {
      dmClient: 'library',
      pairs: count / 2,
      window: options.window,
      acked,
      outcomes: Object.fromEntries(outcomes),
      timedOut: !finished,
      ...cpu.read(),
    };
    return result;
  } finally {
    await Promise.race([
      Promise.all(clients.map((c) => c.close())),
      new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
    ]);
    await server.stop();
    fs.rmSync(pins, { recursive: true, force: true });
  }
}

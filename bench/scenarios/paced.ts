import type { BenchClient } from '../bench-client';
import { closeAll, CpuMeter, RssSampler, waitUntil, type ScenarioOptions, type ScenarioResult } from '../harness';
import { nowMs } from '../message-text';
import { round, roundLatency } from '../stats';
import { addVerdict, drainAcks, settle, setUpGroup, tally } from './group-run';

/**
 * paced: N members each send R msg/s on a fixed schedule. Member i's message k
 * is due at start + phase_i + k / R (phases spread over one period, so sends
 * do not all land in the same tick). A message goes out at its due time, or as
 * soon as the load generator gets to it or the send window has room; its text
 * carries the *due* time, so latency is measured from when it should have been
 * sent and a late load generator or a full window cannot hide delay
 * (no coordinated omission). Every message counts: no warm-up is dropped,
 * as in the IRC runs. The rate actually achieved is reported.
 */

/** The schedule starts this long after setup, so the first due times are not already late. */
const START_LEAD_MS = 20;

export async function runPaced(options: ScenarioOptions): Promise<ScenarioResult> {
  const rate = options.rate ?? 20;
  const setup = await setUpGroup('paced', options);
  const { server, run, clients } = setup;
  const timers: (NodeJS.Timeout | undefined)[] = [];
  try {
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    const periodMs = 1000 / rate;
    const startedAt = nowMs() + START_LEAD_MS;
    let scheduled = 0;
    const firstDueAt = (i: number): number => startedAt + (periodMs * i) / clients.length;
    clients.forEach((client, i) => {
      const dueAt = (k: number): number => firstDueAt(i) + k * periodMs;
      let k = 0;
      const fire = (): void => {
        const now = nowMs();
        // Catch up on every due message (a late timer sends them all now, each stamped with its own due time).
        for (; k < options.messages && dueAt(k) <= now && !client.closed; k++) {
          client.sendScheduled(dueAt(k), options.window, options.size);
          scheduled++;
        }
        timers[i] = k < options.messages && !client.closed ? setTimeout(fire, Math.max(0, dueAt(k) - nowMs())) : undefined;
      };
      timers[i] = setTimeout(fire, Math.max(0, dueAt(0) - nowMs()));
    });
    const plannedMs = (options.messages / rate) * 1000;
    const allSent = await waitUntil(
      () => clients.every((c) => c.closed || (c.sends.sent >= options.messages && c.pacedIdle)),
      plannedMs + options.timeoutMs,
    );
    await settle(run, clients, options.timeoutMs);
    const usage = cpu.read();
    const drained = await drainAcks(server);
    const result = tally('paced', options, setup, startedAt, sampler.stop(), drained);
    result.messagesPerClient = options.messages;
    result.rate = rate;
    result.extra['achievedRate'] = achievedRate(clients, firstDueAt);
    result.extra['scheduled'] = scheduled;
    result.extra['sendLagMs'] = roundLatency(run.sendLag.summary());
    Object.assign(result.extra, usage);
    result.extra['sendersTimedOut'] = !allSent;
    addVerdict(result);
    return result;
  } finally {
    for (const timer of timers) if (timer !== undefined) clearTimeout(timer);
    closeAll(clients);
    await server.stop();
  }
}

/**
 * Messages per second each member actually sent, averaged over members: the
 * intervals between its sends (sent − 1) over the time from its first due
 * time to its last actual send. On schedule this is exactly the rate.
 */
function achievedRate(clients: readonly BenchClient[], firstDueAt: (i: number) => number): number | null {
  const rates: number[] = [];
  clients.forEach((client, i) => {
    const spanMs = client.lastSendAt - firstDueAt(i);
    if (client.sends.sent > 1 && spanMs > 0) rates.push(((client.sends.sent - 1) * 1000) / spanMs);
  });
  return rates.length === 0 ? null : round(rates.reduce((a, b) => a + b, 0) / rates.length, 2);
}

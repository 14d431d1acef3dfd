import { closeAll, CpuMeter, RssSampler, waitUntil, type ScenarioOptions, type ScenarioResult } from '../harness';
import { achievedRate, SendSchedule } from '../schedule';
import { roundLatency } from '../stats';
import { addVerdict, drainAcks, settle, setUpGroup, tally } from './group-run';

/**
 * paced: N members each send R msg/s on a fixed schedule (SendSchedule). A
 * message goes out at its due time, or as soon as the load generator gets to
 * it or the send window has room; its text carries the *due* time, so latency
 * is measured from when it should have been sent and a late load generator or
 * a full window cannot hide delay. Every message counts: no warm-up is
 * dropped, as in the IRC runs. The rate actually achieved is reported.
 */
export async function runPaced(options: ScenarioOptions): Promise<ScenarioResult> {
  const rate = options.rate ?? 20;
  const setup = await setUpGroup('paced', options);
  const { server, run, clients } = setup;
  let schedule: SendSchedule | null = null;
  try {
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    schedule = new SendSchedule({
      members: clients.length,
      rate,
      messages: options.messages,
      send: (i, dueAt) => clients[i]!.sendScheduled(dueAt, options.window, options.size),
      alive: (i) => !clients[i]!.closed,
    });
    const plannedMs = (options.messages / rate) * 1000;
    const allSent = await waitUntil(
      () => clients.every((c) => c.closed || (c.sends.sent >= options.messages && c.pacedIdle)),
      plannedMs + options.timeoutMs,
    );
    await settle(run, clients, options.timeoutMs);
    const usage = cpu.read();
    const drained = await drainAcks(server);
    const result = tally('paced', options, setup, schedule.startedAt, sampler.stop(), drained);
    result.messagesPerClient = options.messages;
    result.rate = rate;
    const firstDueAt = schedule.firstDueAt.bind(schedule);
    result.extra['achievedRate'] = achievedRate(
      clients.map((c) => ({ sent: c.sends.sent, lastSendAt: c.lastSendAt })),
      firstDueAt,
    );
    result.extra['scheduled'] = schedule.scheduled;
    result.extra['sendLagMs'] = roundLatency(run.sendLag.summary());
    Object.assign(result.extra, usage);
    result.extra['sendersTimedOut'] = !allSent;
    addVerdict(result);
    return result;
  } finally {
    schedule?.stop();
    closeAll(clients);
    await server.stop();
  }
}

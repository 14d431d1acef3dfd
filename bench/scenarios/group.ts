import { closeAll, CpuMeter, log, RssSampler, waitUntil, type ScenarioOptions, type ScenarioResult } from '../harness';
import { nowMs } from '../message-text';
import { addVerdict, drainAcks, settle, setUpGroup, tally } from './group-run';

/**
 * Saturation scenarios: every member of one group sends, each message goes to
 * every other member, every delivery is acked (cumulative group_ack per read batch).
 *  - fanout:   N members each send M messages as fast as the send window allows
 *  - overload: the same with 500 members: peak server RSS, nothing lost silently
 * The paced scenario is in paced.ts.
 */

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
    log(
      options,
      `${scenario}: senders ${allSent ? 'done' : 'TIMED OUT'} after ${((nowMs() - startedAt) / 1000).toFixed(1)} s`,
    );
    await settle(run, clients, options.timeoutMs);
    const usage = cpu.read();
    const drained = await drainAcks(server);
    const result = tally(scenario, options, setup, startedAt, sampler.stop(), drained);
    result.messagesPerClient = options.messages;
    result.extra['sendersTimedOut'] = !allSent;
    Object.assign(result.extra, usage);
    // Server CPU per delivery: what the server could do with a core of its own.
    const deliveries = (result.delivered ?? 0) + Number(result.extra['deliveredToRemovedMembers'] ?? 0);
    result.extra['serverCpuNsPerDelivery'] =
      deliveries > 0 ? Math.round((usage.serverCpuSeconds * 1e9) / deliveries) : null;
    addVerdict(result);
    return result;
  } finally {
    closeAll(clients);
    await server.stop();
  }
}

export function runOverload(options: ScenarioOptions): Promise<ScenarioResult> {
  return runFanout(options, 'overload');
}

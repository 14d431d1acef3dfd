import { parseArgs } from 'node:util';
import {
  CpuMeter,
  emptyResult,
  RssSampler,
  sleep,
  steadyRssKB,
  waitUntil,
  type ScenarioOptions,
  type ScenarioResult,
} from '../harness';
import { lossReport } from '../loss';
import { nowMs } from '../message-text';
import { jsonLine, medianRun } from '../report';
import { achievedRate, SendSchedule } from '../schedule';
import { round, roundLatency } from '../stats';
import { IrcClient, IrcRun } from './irc-client';
import { IrcServerProcess, type IrcServerKind } from './irc-server';

/**
 * `node dist/bench/irc/run-irc.js --server ngircd|inspircd [--nodelay]
 * --scenario fanout|paced|idle [--clients N] [--messages M] [--rate R]
 * [--window W] [--repeat K]`: the anchor figures of docs/benchmarks.md,
 * measured on this machine with the same load generator, text format and
 * counting as chatapp's runs. Prints one JSON line (the median of K runs).
 */

/** IRC servers register a burst of hundreds of connections slowly (ngIRCd: ~11/s past ~250 in flight); 10 in flight keeps it fast. */
const REGISTER_CONCURRENCY = 10;
const SETTLE_QUIET_MS = 2_000;
/** As in chatapp's idle scenario: heartbeat rounds pass before RSS is read. */
const IDLE_SETTLE_MS = 3_000;

interface IrcOptions {
  server: IrcServerKind;
  nodelay: boolean;
  scenario: 'fanout' | 'paced' | 'idle';
  clients: number;
  messages: number;
  rate: number;
  window: number;
  size: number;
  repeat: number;
  timeoutMs: number;
  /** Extra options for a chatapp server (`--server-arg --ack-timeout --server-arg 5000`). */
  serverArgs: string[];
  /** Node options for a chatapp server (`--server-node-arg --cpu-prof`). */
  serverNodeArgs: string[];
}

/** Registers and joins clients [from, to) of a run, REGISTER_CONCURRENCY at a time. */
async function addClients(
  server: IrcServerProcess,
  run: IrcRun,
  from: number,
  to: number,
  members: number,
): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) {
      const client = await IrcClient.connect(server.port, next++, members, run);
      await client.join();
      if (client.index % 500 === 499) process.stderr.write(`[irc] ${client.index + 1} joined\n`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, to - from) }, worker));
}

function label(options: IrcOptions): string {
  return `${options.server}${options.nodelay ? '+nodelay' : ''}`;
}

async function runGroup(options: IrcOptions): Promise<ScenarioResult> {
  const server = await IrcServerProcess.start(options.server, options);
  const run = new IrcRun();
  try {
    await addClients(server, run, 0, options.clients, options.clients);
    await sleep(500); // join notices settle
    const sampler = new RssSampler(server);
    const cpu = new CpuMeter(server);
    const clients = run.clients;
    let startedAt = nowMs();
    let schedule: SendSchedule | null = null;
    if (options.scenario === 'fanout') {
      for (const client of clients) client.startSending(options.messages, options.window, options.size);
    } else {
      schedule = new SendSchedule({
        members: clients.length,
        rate: options.rate,
        messages: options.messages,
        send: (i, dueAt) => clients[i]!.sendAt(dueAt, options.size),
        alive: (i) => !clients[i]!.closed,
      });
      startedAt = schedule.startedAt;
    }
    const owed = (options.clients - 1) * options.clients * options.messages;
    const deadline = Date.now() + options.timeoutMs + (options.messages / options.rate) * 1000;
    let last = -1;
    let lastChange = Date.now();
    await waitUntil(() => {
      if (run.deliveries !== last) [last, lastChange] = [run.deliveries, Date.now()];
      return run.deliveries >= owed || Date.now() - lastChange > SETTLE_QUIET_MS || Date.now() > deadline;
    }, options.timeoutMs * 2);
    schedule?.stop();
    const loss = lossReport(clients.map((c) => ({ index: c.index, left: c.closed, sends: c.sends, ledger: c.ledger })));
    const result = emptyResult(options.scenario, { clients: options.clients } as ScenarioOptions);
    const wall = Math.max(1e-3, (run.lastDeliveryAt - startedAt) / 1000);
    Object.assign(result, {
      messagesPerClient: options.messages,
      rate: options.scenario === 'paced' ? options.rate : null,
      expectedDeliveries: loss.expected,
      delivered: loss.delivered,
      lost: loss.lost,
      duplicates: clients.reduce((s, c) => s + c.ledger.counts.duplicates, 0),
      outOfOrder: clients.reduce((s, c) => s + c.ledger.counts.outOfOrder, 0),
      wallSeconds: round(wall, 3),
      deliveriesPerSec: Math.round((loss.delivered + loss.deliveredToLeft) / wall),
      latencyMs: roundLatency(run.latency.summary()),
      serverPeakRssKB: Math.max(sampler.stop(), server.memory().peakRssKB),
    });
    result.extra = {
      server: label(options),
      window: options.scenario === 'fanout' ? options.window : null,
      textBytes: options.size,
      lostToRemoved: loss.lostToRemoved,
      connectionsClosed: run.closes,
      membersRemoved: run.kicks,
      fromMismatches: run.fromMismatches,
      achievedRate:
        schedule === null
          ? null
          : achievedRate(
              clients.map((c) => ({ sent: c.sends.sent, lastSendAt: c.lastSendAt })),
              (i) => schedule.firstDueAt(i),
            ),
      ...cpu.read(),
    };
    return result;
  } finally {
    for (const client of run.clients) client?.destroy();
    await server.stop();
  }
}

/** RSS per idle client: the slope between N/5 and N clients, all joined to #bench (as chatapp's idle). */
async function runIdle(options: IrcOptions): Promise<ScenarioResult> {
  const server = await IrcServerProcess.start(options.server, options);
  const run = new IrcRun();
  try {
    const low = Math.max(1, Math.round(options.clients / 5));
    await sleep(1_000);
    const emptyKB = await steadyRssKB(server);
    const cpu = new CpuMeter(server);
    await addClients(server, run, 0, low, options.clients);
    await sleep(IDLE_SETTLE_MS);
    const lowKB = await steadyRssKB(server, 10, 100);
    await addClients(server, run, low, options.clients, options.clients);
    await sleep(IDLE_SETTLE_MS);
    const highKB = await steadyRssKB(server, 10, 100);
    const result = emptyResult('idle', { clients: options.clients } as ScenarioOptions);
    result.serverPeakRssKB = server.memory().peakRssKB;
    result.serverRssPerIdleClientKB = round((highKB - lowKB) / (options.clients - low), 2);
    result.extra = {
      server: label(options),
      lowClients: low,
      rssEmptyKB: emptyKB,
      rssLowKB: lowKB,
      rssHighKB: highKB,
      stillConnected: run.clients.filter((c) => !c.closed).length,
      ...cpu.read(),
    };
    return result;
  } finally {
    for (const client of run.clients) client?.destroy();
    await server.stop();
  }
}

function parse(argv: string[]): IrcOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string', default: 'ngircd' },
      nodelay: { type: 'boolean', default: false },
      scenario: { type: 'string', default: 'fanout' },
      clients: { type: 'string', default: '100' },
      messages: { type: 'string', default: '500' },
      rate: { type: 'string', default: '20' },
      window: { type: 'string', default: '8' },
      size: { type: 'string', default: '16' },
      repeat: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '60' },
      'server-arg': { type: 'string', multiple: true, default: [] },
      'server-node-arg': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
  });
  if (!['ngircd', 'inspircd', 'chatapp'].includes(values.server)) throw new Error('--server ngircd|inspircd|chatapp');
  if (!['fanout', 'paced', 'idle'].includes(values.scenario)) throw new Error('--scenario fanout|paced|idle');
  return {
    server: values.server as IrcServerKind,
    nodelay: values.nodelay,
    scenario: values.scenario as IrcOptions['scenario'],
    clients: Number(values.clients),
    messages: Number(values.messages),
    rate: Number(values.rate),
    window: Number(values.window),
    size: Number(values.size),
    repeat: Math.max(1, Number(values.repeat)),
    timeoutMs: Number(values.timeout) * 1000,
    serverArgs: values['server-arg'],
    serverNodeArgs: values['server-node-arg'],
  };
}

async function main(): Promise<void> {
  const options = parse(process.argv.slice(2));
  const runs: ScenarioResult[] = [];
  for (let i = 0; i < options.repeat; i++)
    runs.push(await (options.scenario === 'idle' ? runIdle(options) : runGroup(options)));
  process.stdout.write(`${jsonLine(medianRun(runs))}\n`);
}

// A signal would end the process without its 'exit' hooks, leaving servers running: exit normally instead.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`run-irc failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);

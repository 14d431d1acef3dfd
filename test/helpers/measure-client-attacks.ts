/**
 * Prints the figures of docs/security.md for the attacks on a client's listen
 * port (issue 9 finding 5), against the build in CHATAPP_MAIN_JS (default
 * dist/). Not a test: run it by hand on a quiet machine, before and after a
 * change, and note the load average it prints.
 *
 *   npm run build && npx ts-node --transpile-only test/helpers/measure-client-attacks.ts [normal|group|badsig|idle ...]
 *
 * The clients run with default options, so a build from before the listener
 * limits can be measured the same way. The server runs without its
 * per-client request rate: bob's back-to-back round trips would pass it
 * whenever the attack leaves him fast, and it is not what is measured.
 */
import os from 'node:os';
import { startClient, startServer } from '../../testkit/chat-roles';
import type { CliProcess } from '../../testkit/cli-process';
import { closeAllRawClients, RawClient } from './raw-client';
import {
  badSignatureFlood,
  idleLinks,
  median,
  roundTrip,
  sampleWhile,
  signedDms,
  signedFlood,
  verifyCostUs,
} from './client-attacks';
import { TestKey } from './dm-attacker';

const LIST = ['list_groups', '>>> [No group chats available.]'] as const;

/** Stops of every world started, so a scenario that fails leaves no process behind. */
const worlds: Array<() => Promise<void>> = [];

async function world(victimArgs: string[] = []) {
  const { proc: server, port } = await startServer(['--rate-limit-per-sec', '0']);
  worlds.push(async () => void (await server.stop()));
  const { proc: bob, listenPort } = await startClient('bob', port, victimArgs);
  worlds.push(async () => void (await bob.stop('endInput')));
  const { proc: alice } = await startClient('alice', port);
  worlds.push(async () => void (await alice.stop('endInput')));
  const key = new TestKey();
  const mallory = await RawClient.connect(port);
  const from = bob.mark();
  if ((await mallory.register('mallory', { identity: key })).type !== 'reply')
    throw new Error('mallory not registered');
  await bob.waitForLine('>>> [Client table updated.]', { from });
  const stop = async (): Promise<void> => {
    await closeAllRawClients();
    await Promise.all([bob.stop('endInput'), alice.stop('endInput')]);
    await server.stop();
  };
  return { server, bob, listenPort, alice, key, stop };
}

async function quiet(client: CliProcess, ms = 1000): Promise<void> {
  for (let last = -1; last !== client.mark();) {
    last = client.mark();
    await new Promise((r) => setTimeout(r, ms));
  }
}

const round = (x: number): number => Math.round(x);

async function signedFloodFigures(groupMode: boolean) {
  const w = await world();
  const rtt: readonly [string, string] = groupMode ? ['list_members', '>>> (room) [Members in the group room:]'] : LIST;
  if (groupMode) {
    w.bob.send('create_group room');
    await roundTrip(w.bob, 'join_group room', '>>> [Entered group room successfully]');
  }
  const base = [];
  for (let i = 0; i < 10; i++) base.push(await roundTrip(w.bob, ...rtt));
  const rssBefore = w.bob.rssMb();
  const perLink = Array.from({ length: 8 }, (_, l) => signedDms(w.key, 'mallory', 'bob', 2500, `flood${l}`));
  let busy = true;
  const flood = signedFlood(w.listenPort, perLink).finally(() => (busy = false));
  const during = await sampleWhile(
    () => busy,
    () => roundTrip(w.bob, ...rtt),
  );
  const result = await flood;
  let rssPeak = w.bob.rssMb();
  let aliceSaw = '';
  if (groupMode) {
    const from = w.alice.mark();
    w.alice.send('send bob are you there');
    aliceSaw = await w.alice.waitForLine(/^>>> \[.*(bob|Bob).*\]$/, { from });
    rssPeak = Math.max(rssPeak, w.bob.rssMb());
    await roundTrip(w.bob, 'leave_group', '>>> [Leave group chat room]');
  }
  await quiet(w.bob);
  const printed = w.bob.linesMatching(/^>>> mallory: flood/).length;
  const rssAfter = w.bob.rssMb();
  await w.stop();
  return {
    scenario: groupMode ? 'signed dm flood, victim in group mode' : 'signed dm flood, victim in normal mode',
    sent: result.sent,
    floodMs: round(result.ms),
    acks: result.acks,
    refused: result.codes,
    printedByVictim: printed,
    aliceSaw,
    rttMs: {
      base: round(median(base)),
      duringMedian: round(median(during)),
      duringMax: round(Math.max(...during)),
      samples: during.length,
    },
    rssMb: { before: round(rssBefore), peak: round(rssPeak), after: round(rssAfter) },
  };
}

async function badSignatureFigures() {
  const w = await world();
  const base = [];
  for (let i = 0; i < 10; i++) base.push(await roundTrip(w.bob, ...LIST));
  const verifyUs = verifyCostUs();
  const cpuBefore = w.bob.cpuSeconds();
  let busy = true;
  const flood = badSignatureFlood(w.listenPort, {
    claimed: 'alice',
    to: 'bob',
    forger: new TestKey(),
    sockets: 16,
    batch: 20,
    durationMs: 5000,
  }).finally(() => (busy = false));
  const during = await sampleWhile(
    () => busy,
    () => roundTrip(w.bob, ...LIST),
  );
  const result = await flood;
  const cpu = Math.round((w.bob.cpuSeconds() - cpuBefore) * 1000);
  await w.stop();
  return {
    scenario: 'bad signatures over fresh links',
    sent: result.sent,
    perSec: round(result.sent / (result.ms / 1000)),
    connections: result.connections,
    refused: result.codes,
    victimCpuMs: cpu,
    cpuIfAllVerifiedMs: round((result.sent * verifyUs) / 1000),
    verifyUs: Math.round(verifyUs * 10) / 10,
    rttMs: {
      base: round(median(base)),
      duringMedian: round(median(during)),
      duringMax: round(Math.max(...during)),
      samples: during.length,
    },
  };
}

async function idleFigures() {
  const w = await world();
  const base = [];
  for (let i = 0; i < 10; i++) base.push(await roundTrip(w.bob, ...LIST));
  const socketsBefore = w.bob.openSockets();
  const links = await idleLinks(w.listenPort, 3000);
  await new Promise((r) => setTimeout(r, 500));
  const openAfterConnect = links.filter((l) => !l.closed).length;
  const during = [];
  for (let i = 0; i < 10; i++) during.push(await roundTrip(w.bob, ...LIST));
  const rss = w.bob.rssMb();
  await new Promise((r) => setTimeout(r, 7000));
  const openAfter7s = links.filter((l) => !l.closed).length;
  const victimSockets = w.bob.openSockets() - socketsBefore;
  for (const l of links) l.close();
  await w.stop();
  return {
    scenario: '3,000 idle links',
    opened: links.length,
    stillOpenAfterConnect: openAfterConnect,
    stillOpenAfter7s: openAfter7s,
    victimExtraSocketsAfter7s: victimSockets,
    rssMbWithLinks: round(rss),
    rttMs: {
      base: round(median(base)),
      duringMedian: round(median(during)),
      duringMax: round(Math.max(...during)),
      samples: during.length,
    },
  };
}

async function main(): Promise<void> {
  console.log(
    JSON.stringify({ build: process.env['CHATAPP_MAIN_JS'] ?? 'dist', loadavg: os.loadavg().map((x) => x.toFixed(2)) }),
  );
  const all = {
    normal: () => signedFloodFigures(false),
    group: () => signedFloodFigures(true),
    badsig: badSignatureFigures,
    idle: idleFigures,
  };
  const chosen = process.argv.slice(2).filter((a): a is keyof typeof all => a in all);
  for (const run of (chosen.length > 0 ? chosen : (Object.keys(all) as (keyof typeof all)[])).map((k) => all[k])) {
    // a victim that dies under the attack is a figure too
    console.log(JSON.stringify(await run().catch((err: unknown) => ({ failed: String(err).slice(0, 400) }))));
    await closeAllRawClients();
    for (const stop of worlds.splice(0).reverse()) await stop();
  }
  console.log(JSON.stringify({ loadavgAfter: os.loadavg().map((x) => x.toFixed(2)) }));
}

void main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

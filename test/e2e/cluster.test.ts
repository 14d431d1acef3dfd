/**
 * Several servers as one chat service over a real redis-server
 * (docs/scaling.md): three nodes and one Redis, real CLI processes.
 */
import { startClient, startServer, type StartedClient, type StartedServer } from '../../testkit/chat-roles';
import { describeWithRedis, startRedis, type RedisServer } from '../helpers/redis-server';
import { RawClient, closeAllRawClients } from '../helpers/raw-client';
import { removeTempDirs } from '../helpers/temp-dir';
import {
  createGroup,
  expectAfter,
  expectCleanStderr,
  groupMessage,
  joinGroup,
  line,
  sendGroup,
  waitUntilOnline,
  SLOW_EVENT_MS,
} from '../helpers/e2e-chat';

describeWithRedis('cluster: three nodes, one Redis', () => {
  let redis: RedisServer;
  let nodes: StartedServer[];

  beforeEach(async () => {
    redis = await startRedis();
    nodes = await Promise.all([1, 2, 3].map((i) => startServer(['--redis', redis.url], { label: `node ${i}` })));
  });
  afterEach(async () => {
    await closeAllRawClients();
    expectCleanStderr();
    await redis.stop();
    removeTempDirs();
  });

  /** One client on each node, each seeing the others online (the table push crosses nodes). */
  async function oneClientPerNode(names: readonly string[]): Promise<StartedClient[]> {
    const clients: StartedClient[] = [];
    for (const [i, name] of names.entries()) clients.push(await startClient(name, nodes[i % nodes.length]!.port));
    for (const c of clients) await waitUntilOnline(c.proc, names);
    return clients;
  }

  test('a table push reaches the clients of every node', async () => {
    await oneClientPerNode(['ann', 'bob', 'cy']);
  });

  test('a group with members on all three nodes sees one order, each message once, across 3 × 100 messages', async () => {
    const [ann, bob, cy, dee] = await oneClientPerNode(['ann', 'bob', 'cy', 'dee']);
    const members = [ann!, bob!, cy!, dee!];
    await createGroup(ann!, 'g');
    for (const c of members) await joinGroup(c, 'g');
    const N = 100;
    const senders = [ann!, bob!, cy!];
    const marks = members.map((c) => c.proc.mark());
    for (const s of senders) s.proc.write(Array.from({ length: N }, (_, i) => `send_group ${s.name}-${i}\n`).join(''));
    await Promise.all(
      senders.map((s) =>
        s.proc.waitForCount(line('[Message received by Server.]', 'g'), N, { from: 0, timeoutMs: 60_000 }),
      ),
    );
    const seen = await Promise.all(
      members.map((c, i) => {
        const expected = senders.filter((s) => s !== c).length * N;
        return c.proc.waitForCount(/^>>> \(g\) Group_Message /, expected, { from: marks[i], timeoutMs: 60_000 });
      }),
    );
    // dee sent nothing: it saw all 300, each once, and each sender's in the order sent.
    const all = seen[3]!;
    expect(new Set(all).size).toBe(3 * N);
    for (const s of senders) {
      const mine = all.filter((l) => l.startsWith(`>>> (g) Group_Message ${s.name}: `));
      expect(mine).toEqual(Array.from({ length: N }, (_, i) => groupMessage('g', s.name, `${s.name}-${i}`)));
    }
    // Every sender saw the others' messages in the same order as dee.
    for (const [i, s] of senders.entries()) {
      expect(seen[i]).toEqual(all.filter((l) => !l.startsWith(`>>> (g) Group_Message ${s.name}: `)));
    }
  });

  test('a frozen member on node 2 is removed; the members on nodes 1 and 3 chat on', async () => {
    const [ann, bob, cy] = await oneClientPerNode(['ann', 'bob', 'cy']);
    await createGroup(ann!, 'g');
    for (const c of [ann!, bob!, cy!]) await joinGroup(c, 'g');
    const from = nodes[1]!.proc.mark();
    bob!.proc.kill('SIGSTOP');
    await sendGroup(ann!, 'g', 'ping');
    await cy!.proc.waitForLine(groupMessage('g', 'ann', 'ping'));
    await nodes[1]!.proc.waitForLine('>>> [Client bob not responsive, removed from group g]', { from });
    await sendGroup(cy!, 'g', 'still here');
    await ann!.proc.waitForLine(groupMessage('g', 'cy', 'still here'));
    expect(await membersOf(ann!)).toEqual(['ann', 'cy']);
    bob!.proc.kill('SIGCONT');
    await bob!.proc.waitForLine('>>> (g) [You were removed from group g]');
    // The nodes that did not hold bob logged no removal.
    expect(nodes[0]!.proc.linesMatching(/not responsive/)).toEqual([]);
    expect(nodes[2]!.proc.linesMatching(/not responsive/)).toEqual([]);
  });

  test('kill -9 of Redis: every node says so, refuses what needs Redis, and resumes once it is back', async () => {
    const [ann, bob] = await oneClientPerNode(['ann', 'bob']);
    await createGroup(ann!, 'g');
    for (const c of [ann!, bob!]) await joinGroup(c, 'g');
    await sendGroup(ann!, 'g', 'before');
    await bob!.proc.waitForLine(groupMessage('g', 'ann', 'before'));
    const marks = nodes.map((n) => n.proc.mark());
    await redis.kill();
    for (const [i, n] of nodes.entries())
      await n.proc.waitForLine('>>> [Lost connection to Redis, retrying]', { from: marks[i] });
    bob!.proc.kill('SIGKILL'); // its node cannot store that it went offline…
    const annFrom = ann!.proc.mark();
    ann!.proc.send('send_group lost');
    await ann!.proc.waitForLine(line('[Server refused the request (store_unavailable)]', 'g'), { from: annFrom });
    await redis.restart();
    for (const [i, n] of nodes.entries())
      await n.proc.waitForLine('>>> [Connection to Redis restored]', { from: marks[i] });
    // …until Redis is back: then bob goes offline and out of g.
    await ann!.proc.waitForLine(line('[bob left the group]', 'g'), { from: annFrom, timeoutMs: SLOW_EVENT_MS });
    const cy = await startClient('cy', nodes[2]!.port);
    await joinGroup(cy, 'g');
    await sendGroup(ann!, 'g', 'after');
    await cy.proc.waitForLine(groupMessage('g', 'ann', 'after'));
    // The message acknowledged before the crash survived it (appendonly, fsync always).
    await expectAfter(cy.proc, 'history 5', [/^>>> \(g\) History_Message .* ann: before$/]);
  });

  test('kill -9 of a node: its client fails over with --servers, re-joins and catches up; the others see it leave and return', async () => {
    const others = `127.0.0.1:${nodes[1]!.port},127.0.0.1:${nodes[2]!.port}`;
    const ann = await startClient('ann', nodes[0]!.port, ['--servers', others]);
    const bob = await startClient('bob', nodes[1]!.port);
    const cy = await startClient('cy', nodes[2]!.port);
    for (const c of [ann, bob, cy]) await waitUntilOnline(c.proc, ['ann', 'bob', 'cy']);
    await createGroup(bob, 'g');
    for (const c of [ann, bob, cy]) await joinGroup(c, 'g');
    await sendGroup(bob, 'g', 'before');
    await ann.proc.waitForLine(groupMessage('g', 'bob', 'before'));
    const marks = [ann, bob, cy].map((c) => c.proc.mark());
    nodes[0]!.proc.kill('SIGKILL');
    await ann.proc.waitForLine(line('[Server connection lost]', 'g'), { from: marks[0] });
    // Within the node TTL the cluster takes ann offline and out of g (docs/scaling.md "Node liveness").
    for (const [i, c] of [bob, cy].entries())
      await c.proc.waitForLine(line('[ann left the group]', 'g'), { from: marks[i + 1], timeoutMs: SLOW_EVENT_MS });
    await sendGroup(bob, 'g', 'while ann was away');
    await ann.proc.waitForLine(line('[Reconnected to server]', 'g'), { from: marks[0], timeoutMs: SLOW_EVENT_MS });
    await ann.proc.waitForLine(groupMessage('g', 'bob', 'while ann was away'), { from: marks[0] });
    for (const [i, c] of [bob, cy].entries())
      await c.proc.waitForLine(line('[ann joined the group]', 'g'), { from: marks[i + 1] });
    await sendGroup(cy, 'g', 'welcome back');
    await ann.proc.waitForLine(groupMessage('g', 'cy', 'welcome back'), { from: marks[0] });
    expect(ann.proc.linesMatching(/Group_Message/, { from: marks[0] })).toEqual([
      groupMessage('g', 'bob', 'while ann was away'),
      groupMessage('g', 'cy', 'welcome back'),
    ]);
  });

  test('ten clients racing for one name on three nodes: exactly one wins', async () => {
    const racers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => RawClient.connect(nodes[i % 3]!.port, { answerPings: true })),
    );
    await Promise.all(racers.map((r) => r.challenge()));
    const answers = await Promise.all(racers.map((r) => r.register('bob')));
    expect(answers.filter((a) => a.type === 'reply')).toHaveLength(1);
    for (const a of answers) if (a.type === 'error') expect(a.code).toBe('name_in_use');
  });
});

async function membersOf(client: StartedClient): Promise<string[]> {
  const from = client.proc.mark();
  await expectAfter(client.proc, 'list_members', [line('[Members in the group g:]', 'g')]);
  await expectAfter(client.proc, 'zz_not_a_command', [line('[Invalid command]', 'g')]);
  return client.proc
    .lines()
    .slice(from)
    .filter((l) => /^>>> \(g\) \w+$/.test(l))
    .map((l) => l.slice('>>> (g) '.length));
}

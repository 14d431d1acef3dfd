/**
 * Multi-client chat scenarios from the issue, on the real CLI: private chat
 * among three, group isolation, private messages queued in group mode, group
 * ordering under two concurrent senders, and a race to create one group.
 */
import { startClients, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  SLOW_EVENT_MS,
  createGroup,
  expectAfter,
  groupMessage,
  joinGroup,
  line,
  sendGroup,
  sendPrivate,
  expectCleanStderr,
  startChat,
} from '../helpers/e2e-chat';

describe('chat scenarios', () => {
  afterEach(() => expectCleanStderr());

  test('three clients chat privately, each message seen once by its receiver only', async () => {
    const { port } = await startServer();
    const [alice, bob, carol] = (await startChat(['alice', 'bob', 'carol'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    const marks = [alice, bob, carol].map((c) => c.proc.mark());
    await sendPrivate(alice, bob, 'hi bob');
    await sendPrivate(bob, carol, 'hi carol');
    await sendPrivate(carol, alice, 'hi alice');
    await sendPrivate(alice, carol, 'and hi carol from alice');
    const chat = (c: StartedClient, i: number): string[] =>
      c.proc
        .lines()
        .slice(marks[i])
        .filter((l) => /^>>> \w+: /.test(l));
    expect(chat(alice, 0)).toEqual(['>>> carol: hi alice']);
    expect(chat(bob, 1)).toEqual(['>>> alice: hi bob']);
    expect(chat(carol, 2)).toEqual(['>>> bob: hi carol', '>>> alice: and hi carol from alice']);
  });

  test('a burst of 50 private messages typed at once arrives exactly once each, in the order typed', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    const from = [alice.proc.mark(), bob.proc.mark()];
    const N = 50;
    alice.proc.write(Array.from({ length: N }, (_, i) => `send bob m${i}\n`).join(''));
    await alice.proc.waitForCount('>>> [Message received by bob.]', N, { from: from[0], timeoutMs: 30_000 });
    const got = await bob.proc.waitForCount(/^>>> alice: /, N, { from: from[1], timeoutMs: 30_000 });
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `>>> alice: m${i}`));
    // Nothing else about them: no failure lines, no duplicates after a round trip.
    expect(alice.proc.linesMatching(/not delivered|No ACK/, { from: from[0] })).toEqual([]);
    await sendPrivate(alice, bob, 'last');
    expect(bob.proc.linesMatching(/^>>> alice: /, { from: from[1] })).toHaveLength(N + 1);
  });

  test('a group of three chats; a client outside the group gets none of it', async () => {
    const { port } = await startServer();
    const [alice, bob, carol, dave] = (await startChat(['alice', 'bob', 'carol', 'dave'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    await createGroup(alice, 'trio');
    for (const c of [alice, bob, carol]) await joinGroup(c, 'trio');
    const daveFrom = dave.proc.mark();
    await sendGroup(alice, 'trio', 'one from alice');
    await sendGroup(bob, 'trio', 'two from bob');
    await sendGroup(carol, 'trio', 'three from carol');
    await bob.proc.waitForLine(groupMessage('trio', 'carol', 'three from carol'));
    await carol.proc.waitForLine(groupMessage('trio', 'bob', 'two from bob'));
    await alice.proc.waitForLine(groupMessage('trio', 'carol', 'three from carol'));
    expect(bob.proc.linesMatching(/Group_Message/)).toEqual([
      groupMessage('trio', 'alice', 'one from alice'),
      groupMessage('trio', 'carol', 'three from carol'),
    ]);
    expect(carol.proc.linesMatching(/Group_Message/)).toEqual([
      groupMessage('trio', 'alice', 'one from alice'),
      groupMessage('trio', 'bob', 'two from bob'),
    ]);
    expect(alice.proc.linesMatching(/Group_Message/)).toEqual([
      groupMessage('trio', 'bob', 'two from bob'),
      groupMessage('trio', 'carol', 'three from carol'),
    ]);
    // The outsider, after a round trip to the server, has seen none of it.
    await expectAfter(dave.proc, 'list_groups', ['>>> [Available group chats:]', '>>> trio']);
    expect(
      dave.proc
        .lines()
        .slice(daveFrom)
        .filter((l) => /Group_Message|from (alice|bob|carol)/.test(l)),
    ).toEqual([]);
    // And a second group's message does not leak into the first.
    await createGroup(dave, 'solo');
    await joinGroup(dave, 'solo');
    await sendGroup(dave, 'solo', 'only me');
    await sendGroup(alice, 'trio', 'after dave');
    await bob.proc.waitForLine(groupMessage('trio', 'alice', 'after dave'));
    for (const c of [alice, bob, carol]) expect(c.proc.linesMatching(/only me/)).toEqual([]);
  });

  test('a private message to a member in group mode is acked at once, queued, and shown after leave_group', async () => {
    const { port } = await startServer();
    const [alice, bob, carol] = (await startChat(['alice', 'bob', 'carol'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    await createGroup(bob, 'g');
    await joinGroup(bob, 'g');
    await joinGroup(carol, 'g');
    const bobFrom = bob.proc.mark();
    await expectAfter(alice.proc, 'send bob psst', ['>>> [Message received by bob.]']);
    await expectAfter(alice.proc, 'send bob still there?', ['>>> [Message received by bob.]']);
    // Group traffic keeps flowing meanwhile, and the queued messages stay hidden.
    await sendGroup(carol, 'g', 'group talk');
    await bob.proc.waitForLine(groupMessage('g', 'carol', 'group talk'), { from: bobFrom });
    expect(bob.proc.linesMatching(/psst|still there/)).toEqual([]);
    const leave = await expectAfter(bob.proc, 'leave_group', [
      '>>> [Leave group chat g]',
      '>>> alice: psst',
      '>>> alice: still there?',
    ]);
    const afterLeave = bob.proc.lines().slice(bob.proc.lines().indexOf('>>> [Leave group chat g]', bobFrom), leave + 1);
    expect(afterLeave).toEqual(['>>> [Leave group chat g]', '>>> alice: psst', '>>> alice: still there?']);
    // Shown once only: a later message arrives directly.
    await sendPrivate(alice, bob, 'now direct');
    expect(bob.proc.linesMatching(/^>>> alice: /)).toEqual([
      '>>> alice: psst',
      '>>> alice: still there?',
      '>>> alice: now direct',
    ]);
  });

  test('two members each send 100 group messages: the other two see all 200 once, in one order, each sender in order', async () => {
    // A generous fan-out ack timeout: this test is about order and exactly-once, not about
    // removing slow members, and a loaded machine must not turn it into a removal.
    const { proc: server, port } = await startServer(['--ack-timeout', '3000']);
    const members = (await startChat(['s1', 's2', 'r1', 'r2'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    const [s1, s2, r1, r2] = members;
    await createGroup(s1, 'burst');
    for (const m of members) await joinGroup(m, 'burst');
    const marks = members.map((m) => m.proc.mark());
    const serverFrom = server.mark();
    const N = 100;
    const script = (who: string): string => Array.from({ length: N }, (_, i) => `send_group ${who}-${i}\n`).join('');
    s1.proc.write(script('s1'));
    s2.proc.write(script('s2'));

    const seen = async (m: StartedClient, i: number, count: number): Promise<string[]> =>
      (await m.proc.waitForCount(/Group_Message/, count, { from: marks[i], timeoutMs: 30_000 })).map((l) =>
        l.replace(/^>>> \(burst\) Group_Message /, ''),
      );
    const [atR1, atR2, atS1, atS2] = await Promise.all([
      seen(r1, 2, 2 * N),
      seen(r2, 3, 2 * N),
      seen(s1, 0, N),
      seen(s2, 1, N),
    ]);
    await s1.proc.waitForCount(line('[Message received by Server.]', 'burst'), N, {
      from: marks[0],
      timeoutMs: 30_000,
    });
    await s2.proc.waitForCount(line('[Message received by Server.]', 'burst'), N, {
      from: marks[1],
      timeoutMs: 30_000,
    });

    const expected = (who: string): string[] => Array.from({ length: N }, (_, i) => `${who}: ${who}-${i}`);
    const only = (list: string[], who: string): string[] => list.filter((l) => l.startsWith(`${who}: `));
    // Exactly once each, same order at both receivers.
    expect(atR1).toHaveLength(2 * N);
    expect(new Set(atR1).size).toBe(2 * N);
    expect(atR2).toEqual(atR1);
    // Each sender's messages in send order, and each sender sees the other's in that same order.
    expect(only(atR1, 's1')).toEqual(expected('s1'));
    expect(only(atR1, 's2')).toEqual(expected('s2'));
    expect(atS1).toEqual(expected('s2'));
    expect(atS2).toEqual(expected('s1'));
    // Nobody sees its own messages, and nobody was dropped from the group.
    expect(only(atS1, 's1')).toEqual([]);
    // The server logs each message once (it may log after fanning out, so wait for the count).
    await server.waitForCount(/^>>> \[Client (s1|s2) sent group message: /, 2 * N, { from: serverFrom });
    expect(server.linesMatching(/^>>> \[Client (s1|s2) sent group message: /, { from: serverFrom })).toHaveLength(
      2 * N,
    );
    expect(server.linesMatching(/not responsive/)).toEqual([]);
    // A little later, still nothing extra (no duplicates): a round trip through every receiver.
    for (const [i, m] of [r1, r2].entries()) {
      await expectAfter(m.proc, 'list_members', [line('[Members in the group burst:]', 'burst')]);
      expect(m.proc.linesMatching(/Group_Message/, { from: marks[i + 2] })).toHaveLength(2 * N);
    }
  });

  test('ten clients race to create the same group: exactly one creates it, nine are told it exists', async () => {
    const { proc: server, port } = await startServer();
    const names = Array.from({ length: 10 }, (_, i) => `racer${i}`);
    const clients = await startClients(names, port); // ten processes booting at once: a crowd's startup deadline
    const serverFrom = server.mark();
    for (const c of clients) c.proc.send('create_group race');
    const outcome = /^>>> \[Group race (created by Server|already exists)\.\]$/;
    const outcomes = await Promise.all(clients.map((c) => c.proc.waitForLine(outcome, { timeoutMs: SLOW_EVENT_MS })));
    expect(outcomes.filter((l) => l === '>>> [Group race created by Server.]')).toHaveLength(1);
    expect(outcomes.filter((l) => l === '>>> [Group race already exists.]')).toHaveLength(9);
    await server.waitForCount(/^>>> \[Client racer\d creat/, 10, { from: serverFrom });
    expect(
      server.linesMatching(/^>>> \[Client racer\d created group race successfully\]$/, { from: serverFrom }),
    ).toHaveLength(1);
    expect(
      server.linesMatching(/^>>> \[Client racer\d creating group race failed, group already exists\]$/, {
        from: serverFrom,
      }),
    ).toHaveLength(9);
    // The winner on the server is the client told it created the group.
    const winner = clients[outcomes.indexOf('>>> [Group race created by Server.]')]!;
    expect(server.linesMatching(/created group race successfully/)).toEqual([
      `>>> [Client ${winner.name} created group race successfully]`,
    ]);
    // And there is exactly one such group.
    await expectAfter(clients[0]!.proc, 'list_groups', ['>>> [Available group chats:]', '>>> race']);
  }, 60_000);
});

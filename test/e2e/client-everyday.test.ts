/**
 * Everyday use of the client (docs/usage.md), on the real CLI: commands wait
 * for the first table, `who`, group presence lines for every way of leaving,
 * names in any case, the hint after `[Invalid command]`, `--no-log-text`.
 * Expected lines are written out literally.
 */
import { startCli } from '../../testkit/cli-process';
import { startClient, startClients, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  SENTINEL_COMMAND,
  SLOW_EVENT_MS,
  TABLE_UPDATED,
  createGroup,
  expectAfter,
  expectCleanStderr,
  joinGroup,
  line,
  listing,
  sendGroup,
  startChat,
  waitUntilOnline,
} from '../helpers/e2e-chat';

const BYE = '>>> [You are Offline. Bye.]';

/**
 * Every line `command` printed, table updates left out: the lines before the
 * answer to a `who` sent after it (a refusal prints `[Invalid command]`, so
 * the usual sentinel cannot mark its end).
 */
async function answer(client: StartedClient, command: string, group: string | null = null): Promise<string[]> {
  const from = client.proc.mark();
  client.proc.send(command);
  client.proc.send('who');
  const end = await client.proc.waitForIndex(line('[Online clients:]', group), { from });
  return client.proc
    .lines()
    .slice(from, end)
    .filter((l) => !TABLE_UPDATED.test(l));
}

describe('everyday client use (docs/usage.md)', () => {
  afterEach(() => expectCleanStderr());

  test('a piped first command waits for the first table: `send bob hello` with no pause reaches bob, three times out of three', async () => {
    const { port } = await startServer();
    const bob = await startClient('bob', port);
    const runs = ['eve1', 'eve2', 'eve3'].map(async (name) => {
      // Written the moment the process starts, like `printf 'send bob hello\n' | chatapp -c eve …`.
      const proc = startCli(['-c', name, '127.0.0.1', String(port), '0'], { label: `client ${name}` });
      proc.send(`send bob hello from ${name}`);
      proc.endInput();
      expect(await proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 0, signal: null });
      expect(proc.lines().slice(1)).toEqual([
        '>>> [Welcome, You are registered.]',
        '>>> [Client table updated.]',
        '>>> [Message received by bob.]',
        BYE,
      ]);
    });
    await Promise.all(runs);
    for (const name of ['eve1', 'eve2', 'eve3'])
      await bob.proc.waitForLine(`>>> ${name}: hello from ${name}`, { from: 0 });
  });

  test('who lists the online clients sorted without regard to case, in both modes (prefixed in group mode)', async () => {
    const { port } = await startServer();
    const [carol, bob, alice] = (await startChat(['carol', 'Bob', 'alice'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    await expectAfter(bob.proc, 'dereg Bob', [BYE]);
    const dave = await startClient('dave', port);
    await waitUntilOnline(carol.proc, ['dave']);
    expect(await listing(carol.proc, 'who', '>>> [Online clients:]')).toEqual(['>>> alice', '>>> carol', '>>> dave']);
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    expect(await listing(alice.proc, 'who', '>>> (g) [Online clients:]', 'g')).toEqual([
      '>>> (g) alice',
      '>>> (g) carol',
      '>>> (g) dave',
    ]);
    expect(dave.proc.exited).toBeNull();
  });

  test('every other member is told when someone joins the group and when it leaves in each of the four ways', async () => {
    // Only the ack timeout can remove the stopped member (the server's heartbeat would take 15 s), and it
    // is generous enough that a loaded machine cannot make alice or bob look unresponsive.
    const { proc: server, port } = await startServer(['--ack-timeout', '2000', '--heartbeat', '5000']);
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'g');
    await createGroup(alice, 'other');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    await alice.proc.waitForLine(line('[bob joined the group]', 'g'));
    const from = alice.proc.mark();
    const bobFrom = bob.proc.mark();
    const member = async (name: string): Promise<StartedClient> => {
      const client = await startClient(name, port);
      await joinGroup(client, 'g');
      await alice.proc.waitForLine(line(`[${name} joined the group]`, 'g'), { from });
      return client;
    };
    const left = (name: string) => alice.proc.waitForLine(line(`[${name} left the group]`, 'g'), { from });

    const leaver = await member('lee'); // 1. leave_group
    await expectAfter(leaver.proc, 'leave_group', ['>>> [Leave group chat g]']);
    await left('lee');
    await expectAfter(leaver.proc, 'join_group other', ['>>> [Entered group other successfully]']); // ...and joining elsewhere
    const deregger = await member('dee'); // 2. dereg
    await expectAfter(deregger.proc, 'dereg dee', [line('[You are Offline. Bye.]', 'g')]);
    await left('dee');
    const closed = await member('cal'); // 3. closed connection
    closed.proc.kill('SIGKILL');
    await left('cal');
    const silent = await member('sid'); // 4. removed as unresponsive
    silent.proc.kill('SIGSTOP');
    const serverFrom = server.mark();
    await sendGroup(bob, 'g', 'anyone there?');
    await server.waitForLine('>>> [Client sid not responsive, removed from group g]', {
      from: serverFrom,
      timeoutMs: SLOW_EVENT_MS,
    });
    await left('sid');

    const presence = (proc: StartedClient['proc'], mark: number): string[] =>
      proc.linesMatching(/ (joined|left) the group\]$/, { from: mark });
    const expected = ['lee', 'dee', 'cal', 'sid'].flatMap((n) => [
      line(`[${n} joined the group]`, 'g'),
      line(`[${n} left the group]`, 'g'),
    ]);
    expect(presence(alice.proc, from)).toEqual(expected);
    await bob.proc.waitForLine(line('[sid left the group]', 'g'), { from: bobFrom, timeoutMs: SLOW_EVENT_MS });
    expect(presence(bob.proc, bobFrom)).toEqual(expected);
    // lee, now in `other`, hears nothing about g.
    expect(leaver.proc.linesMatching(/the group\]$/)).toEqual([]);
  });

  test('names compare without case: ALICE is in use while alice is online; send Bob reaches bob; dereg and groups in any case', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    const impostor = startCli(['-c', 'ALICE', '127.0.0.1', String(port), '0'], { label: 'client ALICE' });
    await impostor.waitForLine('>>> [Name ALICE is already in use. Try another one.]');
    expect(await impostor.waitForExit()).toEqual({ code: 1, signal: null });

    const bobFrom = bob.proc.mark();
    await expectAfter(alice.proc, 'send Bob hi there', ['>>> [Message received by bob.]']);
    await bob.proc.waitForLine('>>> alice: hi there', { from: bobFrom });
    await createGroup(alice, 'RoomA');
    await expectAfter(bob.proc, 'create_group rooma', ['>>> [Group rooma already exists.]']);
    await expectAfter(bob.proc, 'join_group ROOMA', ['>>> [Entered group RoomA successfully]']);
    const serverFrom = server.mark();
    await expectAfter(bob.proc, 'dereg BOB', [line('[You are Offline. Bye.]', 'RoomA')]);
    await server.waitForLine('>>> [Client bob left group RoomA]', { from: serverFrom });
    expect(await bob.proc.waitForExit()).toEqual({ code: 0, signal: null });

    // Back as BOB: the name is shown as first registered.
    const again = await startClient('BOB', port, [], { label: 'client BOB' });
    await waitUntilOnline(alice.proc, ['bob']);
    expect(await listing(again.proc, 'who', '>>> [Online clients:]')).toEqual(['>>> alice', '>>> bob']);
  });

  test('a refused command is followed by one hint line: usage, the mode it needs, or a near command; Invalid group name states the rule', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const invalid = '>>> [Invalid command]';
    expect(await answer(alice, 'send bob')).toEqual([invalid, '>>> [Usage: send <name> <message>]']);
    expect(await answer(alice, 'creat_group x')).toEqual([invalid, '>>> [Usage: create_group <group>]']);
    expect(await answer(alice, 'list_groups now')).toEqual([invalid, '>>> [Usage: list_groups]']);
    expect(await answer(alice, 'send_group hi')).toEqual([
      invalid,
      '>>> [send_group works only in a group. Type join_group <group> first.]',
    ]);
    expect(await answer(alice, SENTINEL_COMMAND)).toEqual([invalid]); // far from every command: no guess
    expect(await answer(alice, 'frobnicate now')).toEqual([invalid]);
    expect(await answer(alice, 'create_group roomB;')).toEqual([
      '>>> [Invalid group name: roomB;]',
      '>>> [Group names are 1 to 32 characters: letters A-Z a-z, digits 0-9, _ . -]',
    ]);
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    expect(await answer(alice, 'send bob hi', 'g')).toEqual([
      line('[Invalid command]', 'g'),
      line('[send is not available in group mode. Type leave_group first.]', 'g'),
    ]);
    expect(await answer(alice, 'send_group', 'g')).toEqual([
      line('[Invalid command]', 'g'),
      line('[Usage: send_group <message>]', 'g'),
    ]);
  });

  test('--no-log-text: the server logs a group message without its text; members still get it', async () => {
    const { proc: server, port } = await startServer(['--no-log-text']);
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const from = server.mark();
    await sendGroup(alice, 'g', 'a private matter');
    await bob.proc.waitForLine(line('Group_Message alice: a private matter', 'g'));
    await server.waitForLine('>>> [Client alice sent group message]', { from });
    expect(server.output()).not.toContain('a private matter');
  });

  test('table-update lines are coalesced yet nothing is lost: after a burst of registrations the watcher knows everyone', async () => {
    const { proc: server, port } = await startServer();
    const watcher = await startClient('watcher', port);
    const names = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    const burst = await startClients(names, port); // six processes booting at once: a crowd's startup deadline
    await waitUntilOnline(watcher.proc, names);
    // docs/usage.md: at most one line per push (fewer when pushes come within a second of each other).
    const pushes = server.linesMatching('>>> [Client table updated.]').length;
    expect(watcher.proc.linesMatching('>>> [Client table updated.]').length).toBeLessThanOrEqual(pushes);
    expect(burst).toHaveLength(names.length);
    await listing(watcher.proc, 'who', '>>> [Online clients:]');
  }, 60_000);
});

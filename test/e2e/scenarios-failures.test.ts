/**
 * Failure scenarios from the issue, on the real CLI: the server dies (and
 * comes back on the same port), a group member stops answering, a client is
 * killed and comes back under its name.
 */
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  SENTINEL_COMMAND,
  SLOW_EVENT_MS,
  createGroup,
  expectAfter,
  groupMessage,
  joinGroup,
  line,
  sendGroup,
  sendPrivate,
  expectCleanStderr,
  waitForTableUpdates,
  startChat,
  sendPrivateEventually,
} from '../helpers/e2e-chat';

/**
 * A client that never notices a frozen server by itself (no heartbeat of its
 * own; it still answers the server's pings): its connection stays "open", so
 * an unanswered request is the frozen-server case of docs/usage.md. Its
 * requests give up after 2 tries of 1 s (registering includes the TLS handshake, slow on a loaded machine).
 */
const FROZEN_SERVER_CLIENT = ['--ack-timeout', '1000', '--retries', '2', '--heartbeat', '0'];
const NOT_CONNECTED_BODY = '[Not connected to the server. Try again after reconnecting.]';
const NOT_CONNECTED = line(NOT_CONNECTED_BODY);

describe('failure scenarios', () => {
  afterEach(() => expectCleanStderr());

  test('server killed: clients print connection lost, keep chatting privately, and a server request says not connected; the client stays and the request works after the restart', async () => {
    const first = await startServer();
    const port = first.port;
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    first.proc.kill('SIGKILL');
    await alice.proc.waitForLine('>>> [Server connection lost]', { timeoutMs: SLOW_EVENT_MS });
    await bob.proc.waitForLine('>>> [Server connection lost]', { timeoutMs: SLOW_EVENT_MS });
    // Private messages never pass through the server: they still work both ways.
    await sendPrivate(alice, bob, 'server is down');
    await sendPrivate(bob, alice, 'we still talk');
    // docs/usage.md "When the server is away": a server request is refused, and the client stays.
    const from = alice.proc.mark();
    await expectAfter(alice.proc, 'list_groups', [NOT_CONNECTED]);
    await expectAfter(alice.proc, SENTINEL_COMMAND, ['>>> [Invalid command]']);
    expect(alice.proc.exited).toBeNull();
    expect(alice.proc.linesMatching(/Server not responding|Exiting/, { from })).toEqual([]);
    // The restarted server keeps its certificate: the clients pinned it (docs/usage.md "TLS").
    await startServer(first.sameCertificate, { port, label: 'server (restarted)' });
    await alice.proc.waitForLine('>>> [Reconnected to server]', { from, timeoutMs: SLOW_EVENT_MS });
    await expectAfter(alice.proc, 'list_groups', ['>>> [No group chats available.]']);
  });

  test('a frozen server (stopped, connection still open): a server request ends in Server not responding / Exiting (exit 1)', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port, FROZEN_SERVER_CLIENT);
    server.kill('SIGSTOP');
    const from = alice.proc.mark();
    alice.proc.send('list_groups');
    await alice.proc.waitForIndex('>>> [Server not responding]', { from, timeoutMs: SLOW_EVENT_MS });
    await alice.proc.waitForIndex('>>> [Exiting]', { from, timeoutMs: SLOW_EVENT_MS });
    expect(await alice.proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    expect(alice.proc.lines().slice(from)).toEqual(['>>> [Server not responding]', '>>> [Exiting]']);
  });

  test('frozen server while in group mode: lines stay prefixed, queued private messages print between not responding and Exiting', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port, FROZEN_SERVER_CLIENT)) as [
      StartedClient,
      StartedClient,
    ];
    await createGroup(bob, 'g');
    await joinGroup(bob, 'g');
    server.kill('SIGSTOP');
    await expectAfter(alice.proc, 'send bob kept for later', ['>>> [Message received by bob.]']);
    const from = bob.proc.mark();
    bob.proc.send('send_group anyone?');
    await bob.proc.waitForIndex('>>> (g) [Exiting]', { from, timeoutMs: SLOW_EVENT_MS });
    expect(await bob.proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    expect(bob.proc.lines().slice(from)).toEqual([
      '>>> (g) [Server not responding]',
      '>>> (g) alice: kept for later',
      '>>> (g) [Exiting]',
    ]);
  });

  test('server gone while in group mode: a group request says not connected (prefixed), the client stays in its group', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(bob, 'g');
    await joinGroup(bob, 'g');
    server.kill('SIGKILL');
    await bob.proc.waitForLine('>>> (g) [Server connection lost]', { timeoutMs: SLOW_EVENT_MS });
    await expectAfter(alice.proc, 'send bob kept for later', ['>>> [Message received by bob.]']);
    for (const command of ['send_group anyone?', 'list_members', 'leave_group']) {
      await expectAfter(bob.proc, command, [line(NOT_CONNECTED_BODY, 'g')]);
    }
    // Still in group mode, the private message still held for after it.
    await expectAfter(bob.proc, 'help', [line('send_group <message>', 'g')]);
    expect(bob.proc.linesMatching(/kept for later/)).toEqual([]);
    bob.proc.kill('SIGTERM');
    await bob.proc.waitForLine('>>> (g) alice: kept for later');
    await bob.proc.waitForLine('>>> (g) [You are Offline. Bye.]');
    expect(await bob.proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 0, signal: null });
  });

  test.each([
    ['dereg', (c: StartedClient) => c.proc.send(`dereg ${c.name}`)],
    ['SIGTERM', (c: StartedClient) => c.proc.kill('SIGTERM')],
    ['SIGINT', (c: StartedClient) => c.proc.kill('SIGINT')],
    ['end of input', (c: StartedClient) => c.proc.endInput()],
  ])('leaving by %s while the server is gone: Bye, exit 0 (docs/usage.md)', async (_how, leave) => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port);
    server.kill('SIGKILL');
    await alice.proc.waitForLine('>>> [Server connection lost]', { timeoutMs: SLOW_EVENT_MS });
    const from = alice.proc.mark();
    leave(alice);
    expect(await alice.proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 0, signal: null });
    expect(alice.proc.lines().slice(from)).toEqual(['>>> [You are Offline. Bye.]']);
  });

  test('leaving while the server is frozen: the dereg gets no ack, so SIGTERM ends with Server not responding / Exiting, exit 1', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port, FROZEN_SERVER_CLIENT);
    server.kill('SIGSTOP');
    const from = alice.proc.mark();
    alice.proc.kill('SIGTERM');
    expect(await alice.proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    expect(alice.proc.lines().slice(from)).toEqual(['>>> [Server not responding]', '>>> [Exiting]']);
  });

  test('a stopped member is removed from its group (not responsive) while the others keep getting every message', async () => {
    const { proc: server, port } = await startServer();
    const members = (await startChat(['alice', 'bob', 'carol', 'dave'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    const [alice, bob, carol, dave] = members;
    await createGroup(alice, 'g');
    for (const m of members) await joinGroup(m, 'g');
    const marks = members.map((m) => m.proc.mark());
    const serverFrom = server.mark();
    dave.proc.kill('SIGSTOP');
    await sendGroup(alice, 'g', 'm1');
    await server.waitForLine('>>> [Client dave not responsive, removed from group g]', { from: serverFrom });
    await sendGroup(bob, 'g', 'm2');
    await sendGroup(alice, 'g', 'm3');
    await sendGroup(carol, 'g', 'm4');
    const got = async (m: StartedClient, i: number, count: number): Promise<string[]> =>
      (await m.proc.waitForCount(/Group_Message/, count, { from: marks[i] })).map((l) =>
        l.replace(/^>>> \(g\) Group_Message /, ''),
      );
    expect(await got(alice, 0, 2)).toEqual(['bob: m2', 'carol: m4']);
    expect(await got(bob, 1, 3)).toEqual(['alice: m1', 'alice: m3', 'carol: m4']);
    expect(await got(carol, 2, 3)).toEqual(['alice: m1', 'bob: m2', 'alice: m3']);
    dave.proc.kill('SIGCONT');
    await dave.proc.waitForLine('>>> (g) [You were removed from group g]');
    // The remaining members are exactly alice, bob, carol.
    await expectAfter(alice.proc, 'list_members', [
      line('[Members in the group g:]', 'g'),
      line('alice', 'g'),
      line('bob', 'g'),
      line('carol', 'g'),
    ]);
    // dave shows no message sent after his removal.
    expect(dave.proc.linesMatching(/Group_Message \w+: m[234]$/)).toEqual([]);
  });

  test('a killed client is marked offline for the others and can come back under the same name', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port);
    const bob = await startClient('bob', port);
    await waitForTableUpdates(alice.proc, 2); // her own, then bob's registration
    bob.proc.kill('SIGKILL');
    await waitForTableUpdates(server, 3);
    await waitForTableUpdates(alice.proc, 3);
    // bob is offline in alice's table: the server keeps the message (docs/usage.md "Saved messages").
    await expectAfter(alice.proc, 'send bob you there?', ['>>> [Messages received by the server and saved]']);

    const bobAgain = await startClient('bob', port, [], { label: 'client bob (again)' });
    await waitForTableUpdates(alice.proc, 4);
    await sendPrivate(alice, bobAgain, 'welcome back');
    await sendPrivate(bobAgain, alice, 'thanks');
  });

  test('server killed and restarted on the same port: clients reconnect and use it again; group messages flow after re-joining', async () => {
    const first = await startServer();
    const port = first.port;
    const [alice, bob, carol] = (await startChat(['alice', 'bob', 'carol'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const marks = [alice, bob, carol].map((c) => c.proc.mark());
    first.proc.kill('SIGKILL');
    await alice.proc.waitForLine('>>> (g) [Server connection lost]', { from: marks[0], timeoutMs: SLOW_EVENT_MS });
    await bob.proc.waitForLine('>>> (g) [Server connection lost]', { from: marks[1], timeoutMs: SLOW_EVENT_MS });
    await carol.proc.waitForLine('>>> [Server connection lost]', { from: marks[2], timeoutMs: SLOW_EVENT_MS });
    expect(await first.proc.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });

    // The restarted server keeps its certificate: the clients pinned it (docs/usage.md "TLS").
    await startServer(first.sameCertificate, { port, label: 'server (restarted)' });
    // carol was in normal mode; alice and bob were in a group the new server does not know.
    await carol.proc.waitForLine('>>> [Reconnected to server]', { from: marks[2], timeoutMs: SLOW_EVENT_MS });
    for (const [i, c] of [alice, bob].entries()) {
      await c.proc.waitForLine('>>> (g) [You were removed from group g]', { from: marks[i], timeoutMs: SLOW_EVENT_MS });
      await c.proc.waitForLine('>>> [Reconnected to server]', { from: marks[i], timeoutMs: SLOW_EVENT_MS });
    }
    // The server is usable again: groups, group messages, and the table (private messages).
    await expectAfter(carol.proc, 'list_groups', ['>>> [No group chats available.]']);
    await createGroup(alice, 'g');
    for (const c of [alice, bob, carol]) await joinGroup(c, 'g');
    const bobFrom = bob.proc.mark();
    const carolFrom = carol.proc.mark();
    await sendGroup(alice, 'g', 'we are back');
    await bob.proc.waitForLine(groupMessage('g', 'alice', 'we are back'), { from: bobFrom });
    await carol.proc.waitForLine(groupMessage('g', 'alice', 'we are back'), { from: carolFrom });
    await expectAfter(bob.proc, 'leave_group', ['>>> [Leave group chat g]']);
    await expectAfter(carol.proc, 'leave_group', ['>>> [Leave group chat g]']);
    await sendPrivateEventually(bob, carol, 'after the restart');
  });

  test('a client dropped by the server (stopped past the heartbeat) reconnects when resumed and re-joins its group', async () => {
    const fast = ['--heartbeat', '300'];
    const { proc: server, port } = await startServer(fast);
    const [alice, bob] = (await startChat(['alice', 'bob'], port, fast)) as [StartedClient, StartedClient];
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const from = alice.proc.mark();
    const serverFrom = server.mark();
    alice.proc.kill('SIGSTOP');
    await server.waitForLine('>>> [Client alice left group g]', { from: serverFrom, timeoutMs: SLOW_EVENT_MS });
    await waitForTableUpdates(server, 3, SLOW_EVENT_MS); // two registrations, then alice offline
    const rejoinFrom = server.mark();
    alice.proc.kill('SIGCONT');
    await alice.proc.waitForLine('>>> (g) [Server connection lost]', { from, timeoutMs: SLOW_EVENT_MS });
    await alice.proc.waitForLine('>>> (g) [Reconnected to server]', { from, timeoutMs: SLOW_EVENT_MS });
    await server.waitForLine('>>> [Client alice joined group g]', { from: rejoinFrom });
    expect(alice.proc.linesMatching(/You were removed/, { from })).toEqual([]);
    const aliceFrom = alice.proc.mark();
    await sendGroup(bob, 'g', 'welcome back');
    await alice.proc.waitForLine(groupMessage('g', 'bob', 'welcome back'), { from: aliceFrom });
    await sendGroup(alice, 'g', 'glad to be back');
    await bob.proc.waitForLine(groupMessage('g', 'alice', 'glad to be back'));
  });

  test("a silent server (stopped) is detected by the clients' heartbeat; private chat goes on; they reconnect when it resumes", async () => {
    const fast = ['--heartbeat', '300'];
    const { proc: server, port } = await startServer(fast);
    const [alice, bob] = (await startChat(['alice', 'bob'], port, fast)) as [StartedClient, StartedClient];
    const marks = [alice, bob].map((c) => c.proc.mark());
    server.kill('SIGSTOP');
    await alice.proc.waitForLine('>>> [Server connection lost]', { from: marks[0], timeoutMs: SLOW_EVENT_MS });
    await bob.proc.waitForLine('>>> [Server connection lost]', { from: marks[1], timeoutMs: SLOW_EVENT_MS });
    await sendPrivate(alice, bob, 'is the server frozen?');
    server.kill('SIGCONT');
    await alice.proc.waitForLine('>>> [Reconnected to server]', { from: marks[0], timeoutMs: SLOW_EVENT_MS });
    await bob.proc.waitForLine('>>> [Reconnected to server]', { from: marks[1], timeoutMs: SLOW_EVENT_MS });
    await createGroup(alice, 'after');
    await expectAfter(bob.proc, 'list_groups', ['>>> [Available group chats:]', '>>> after']);
    await sendPrivateEventually(bob, alice, 'back to normal');
  });
});

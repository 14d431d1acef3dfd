/**
 * docs/usage.md "Server": the line the server prints for every event, on the real CLI.
 */
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  SLOW_EVENT_MS,
  createGroup,
  expectAfter,
  joinGroup,
  line,
  listing,
  sendGroup,
  expectCleanStderr,
  waitForTableUpdates,
  startChat,
} from '../helpers/e2e-chat';

describe('server event lines (docs/usage.md "Server")', () => {
  afterEach(() => expectCleanStderr());

  test('prints the online line with the OS-chosen port and accepts clients on it', async () => {
    const { proc, port } = await startServer();
    expect(port).toBeGreaterThan(0);
    expect(proc.lines()[0]).toBe(`>>> [Server is online, listening on port ${port}]`);
  });

  test('registration and dereg each print [Client table updated.]', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port);
    await waitForTableUpdates(server, 1);
    alice.proc.send('dereg alice');
    await alice.proc.waitForLine('>>> [You are Offline. Bye.]');
    await waitForTableUpdates(server, 2);
  });

  test('a closed connection (client killed) prints [Client table updated.]', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port);
    await waitForTableUpdates(server, 1);
    alice.proc.kill('SIGKILL');
    await waitForTableUpdates(server, 2);
  });

  test('create, create refused, list groups with items', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    let from = server.mark();
    await createGroup(alice, 'room1');
    await server.waitForLine('>>> [Client alice created group room1 successfully]', { from });
    from = server.mark();
    await expectAfter(bob.proc, 'create_group room1', ['>>> [Group room1 already exists.]']);
    await server.waitForLine('>>> [Client bob creating group room1 failed, group already exists]', { from });
    await createGroup(bob, 'room2');

    from = server.mark();
    await listing(bob.proc, 'list_groups', '>>> [Available group chats:]');
    const header = await server.waitForIndex('>>> [Client bob requested listing groups, current groups:]', { from });
    await server.waitForIndex('>>> room2', { from: header });
    expect(server.lines().slice(header + 1, header + 3)).toEqual(['>>> room1', '>>> room2']);
  });

  test('list groups with no groups prints only the header', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port);
    const from = server.mark();
    await expectAfter(alice.proc, 'list_groups', ['>>> [No group chats available.]']);
    const header = await server.waitForIndex('>>> [Client alice requested listing groups, current groups:]', { from });
    // The next event proves nothing was listed in between.
    await createGroup(alice, 'later');
    const next = await server.waitForIndex('>>> [Client alice created group later successfully]', { from: header });
    expect(server.lines().slice(header + 1, next)).toEqual([]);
  });

  test('joined, join refused, group message, list members (join order)', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'room1');
    let from = server.mark();
    await expectAfter(bob.proc, 'join_group nope', ['>>> [Group nope does not exist]']);
    await server.waitForLine('>>> [Client bob joining group nope failed, group does not exist]', { from });

    from = server.mark();
    await joinGroup(bob, 'room1');
    await server.waitForLine('>>> [Client bob joined group room1]', { from });
    await joinGroup(alice, 'room1');
    await server.waitForLine('>>> [Client alice joined group room1]', { from });

    from = server.mark();
    await sendGroup(alice, 'room1', 'hello all');
    await server.waitForLine('>>> [Client alice sent group message: hello all]', { from });

    from = server.mark();
    await listing(alice.proc, 'list_members', line('[Members in the group room1:]', 'room1'), 'room1');
    const header = await server.waitForIndex('>>> [Client alice requested listing members of group room1:]', { from });
    await server.waitForIndex('>>> alice', { from: header });
    expect(server.lines().slice(header + 1, header + 3)).toEqual(['>>> bob', '>>> alice']);
  });

  test('left group: by leave_group, by dereg, and by a closed connection', async () => {
    const { proc: server, port } = await startServer();
    const clients = (await startChat(['alice', 'bob', 'carol'], port)) as [StartedClient, StartedClient, StartedClient];
    const [alice, bob, carol] = clients;
    await createGroup(alice, 'room1');
    for (const c of clients) await joinGroup(c, 'room1');

    let from = server.mark();
    await expectAfter(alice.proc, 'leave_group', ['>>> [Leave group chat room1]']);
    await server.waitForLine('>>> [Client alice left group room1]', { from });

    from = server.mark();
    bob.proc.send('dereg bob');
    await bob.proc.waitForLine(/^>>> (\(room1\) )?\[You are Offline\. Bye\.\]$/);
    await server.waitForLine('>>> [Client bob left group room1]', { from });
    await waitForTableUpdates(server, 4); // three registrations, then bob's dereg

    from = server.mark();
    carol.proc.kill('SIGKILL');
    await server.waitForLine('>>> [Client carol left group room1]', { from });
    await waitForTableUpdates(server, 5);
  });

  test('a member that does not ack a group message is reported not responsive and removed', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'room1');
    await joinGroup(alice, 'room1');
    await joinGroup(bob, 'room1');
    const from = server.mark();
    bob.proc.kill('SIGSTOP');
    await sendGroup(alice, 'room1', 'anyone there?');
    await server.waitForLine('>>> [Client bob not responsive, removed from group room1]', { from });
    bob.proc.kill('SIGCONT');
    // bob is no longer a member.
    const members = await listing(alice.proc, 'list_members', line('[Members in the group room1:]', 'room1'), 'room1');
    expect(members).toEqual([line('alice', 'room1')]);
  });

  test('a silent (stopped) client is detected by the heartbeat: marked offline and removed from its group', async () => {
    const fast = ['--heartbeat', '300'];
    const { proc: server, port } = await startServer(fast);
    const [alice, bob] = (await startChat(['alice', 'bob'], port, fast)) as [StartedClient, StartedClient];
    await createGroup(bob, 'room1');
    await joinGroup(bob, 'room1');
    const from = server.mark();
    bob.proc.kill('SIGSTOP');
    await server.waitForLine('>>> [Client bob left group room1]', { from, timeoutMs: SLOW_EVENT_MS });
    await waitForTableUpdates(server, 3, SLOW_EVENT_MS); // two registrations, then bob offline
    await waitForTableUpdates(alice.proc, 3, SLOW_EVENT_MS); // her own, bob's registration, bob offline
    // alice's table shows bob offline: the server keeps her message for him (docs/usage.md "Saved messages").
    await expectAfter(alice.proc, 'send bob are you there', ['>>> [Messages received by the server and saved]']);
  });

  test('SIGINT and SIGTERM stop the server with exit 0 and free the port', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const { proc, port } = await startServer();
      const alice = await startClient('alice', port);
      proc.kill(signal);
      expect(await proc.waitForExit()).toEqual({ code: 0, signal: null });
      // Connections are closed: the client notices at once.
      await alice.proc.waitForLine('>>> [Server connection lost]');
      // The port is free again: a new server can take it.
      const again = await startServer([], { port });
      expect(again.port).toBe(port);
    }
  });

  test('a signal sent as soon as the online line is read still stops the server cleanly (exit 0)', async () => {
    // Scripts start a server, read its port and may stop it at once: the handlers must already be in place.
    const runs = (['SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM'] as const).map(async (signal) => {
      const { proc } = await startServer();
      proc.kill(signal);
      return { signal, exit: await proc.waitForExit() };
    });
    for (const run of await Promise.all(runs))
      expect(run).toEqual({ signal: run.signal, exit: { code: 0, signal: null } });
  });
});

/**
 * docs/usage.md "Client": every client command row in normal and group mode, invalid input
 * and the group-mode prefix, on the real CLI (stdin a pipe: no prompt).
 */
import * as net from 'node:net';
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  createGroup,
  expectAfter,
  groupMessage,
  joinGroup,
  linesUntilSentinel,
  listing,
  sendGroup,
  sendPrivate,
  expectCleanStderr,
  waitForTableUpdates,
  startChat,
} from '../helpers/e2e-chat';

const NORMAL_COMMANDS = [
  'send',
  'dereg',
  'create_group',
  'list_groups',
  'join_group',
  'delete_group',
  'delete_account',
  'help',
];
const GROUP_COMMANDS = ['send_group', 'list_members', 'history', 'leave_group', 'dereg', 'help'];
const GROUP_ONLY = ['send_group', 'list_members', 'history', 'leave_group'];
const NORMAL_ONLY = ['create_group', 'list_groups', 'join_group', 'delete_group', 'delete_account'];

/** Lines that mention `command` as a word (help output). */
function mentions(lines: string[], command: string): boolean {
  return lines.some((l) =>
    new RegExp(`(^|[^A-Za-z_])${command}([^A-Za-z_]|$)`).test(l.replace(/^>>> (\([^)]*\) )?/, '')),
  );
}

async function helpLines(client: StartedClient, group: string | null, marker: string): Promise<string[]> {
  const from = client.proc.mark();
  client.proc.send('help');
  await client.proc.waitForIndex(new RegExp(marker), { from });
  return linesUntilSentinel(client.proc, from, group);
}

describe('client in normal mode (docs/usage.md "Client")', () => {
  afterEach(() => expectCleanStderr());

  test('send: sender sees received, receiver sees the message; unknown name', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await sendPrivate(alice, bob, 'hello bob, how are you?');
    await sendPrivate(bob, alice, 'fine: thanks!');
    await expectAfter(alice.proc, 'send nobody hi', ['>>> [Unknown client nobody]']);
  });

  test("send carries any Unicode text intact, and control characters never reach the receiver's terminal raw", async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await sendPrivate(alice, bob, 'héllo 👋 世界 — ok');
    const from = bob.proc.mark();
    await expectAfter(alice.proc, 'send bob evil\x1b[2Jcolour\x07', ['>>> [Message received by bob.]']);
    const shown = await bob.proc.waitForLine(/^>>> alice: evil/, { from });
    expect(shown).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(shown).toContain('colour');
    // Group messages too, at the members and in the server's log.
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const serverFrom = server.mark();
    await sendGroup(alice, 'g', 'grp\x1b]0;title\x07end');
    const groupShown = await bob.proc.waitForLine(/^>>> \(g\) Group_Message alice: grp/);
    expect(groupShown).not.toMatch(/[\u0000-\u001f\u007f]/);
    const logged = await server.waitForLine(/^>>> \[Client alice sent group message: grp/, { from: serverFrom });
    expect(logged).not.toMatch(/[\u0000-\u001f\u007f]/);
    await sendGroup(bob, 'g', '¿qué tal? 🎉');
    await alice.proc.waitForLine(groupMessage('g', 'bob', '¿qué tal? 🎉'));
  });

  test('send to a client that is online but does not ack: No ACK', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    bob.proc.kill('SIGSTOP');
    const from = alice.proc.mark();
    await expectAfter(alice.proc, 'send bob are you awake', ['>>> [No ACK from bob, message not delivered]']);
    bob.proc.kill('SIGCONT');
    // docs/protocol.md "Limits": exactly one visible outcome per send, even when the late ack arrives after bob resumes.
    await sendPrivate(alice, bob, 'awake now?');
    expect(
      alice.proc
        .lines()
        .slice(from)
        .filter((l) => /^>>> \[(Message received by|No ACK from) bob/.test(l)),
    ).toEqual(['>>> [No ACK from bob, message not delivered]', '>>> [Message received by bob.]']);
  });

  test('send to a client that deregistered: offline', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await expectAfter(bob.proc, 'dereg bob', ['>>> [You are Offline. Bye.]']);
    await waitForTableUpdates(alice.proc, 3); // her own, bob's registration, bob's dereg
    // bob is offline in alice's table: the server keeps the message (docs/usage.md "Saved messages").
    await expectAfter(alice.proc, 'send bob still there?', ['>>> [Messages received by the server and saved]']);
  });

  test('dereg own name: Bye and exit 0; dereg another name is refused', async () => {
    const { port } = await startServer();
    const [alice] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await expectAfter(alice.proc, 'dereg bob', ['>>> [You can only deregister yourself]']);
    expect(alice.proc.exited).toBeNull();
    await expectAfter(alice.proc, 'dereg alice', ['>>> [You are Offline. Bye.]']);
    expect(await alice.proc.waitForExit()).toEqual({ code: 0, signal: null });
    // The name is free again once offline: alice can come back.
    const again = await startClient('alice', port, [], { label: 'client alice (again)' });
    await expectAfter(again.proc, 'dereg alice', ['>>> [You are Offline. Bye.]']);
  });

  test('create_group, duplicate, list_groups (none and some, creation order), join_group ok and missing', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await expectAfter(alice.proc, 'list_groups', ['>>> [No group chats available.]']);
    await createGroup(alice, 'g1');
    await expectAfter(bob.proc, 'create_group g1', ['>>> [Group g1 already exists.]']);
    await createGroup(bob, 'g2');
    expect(await listing(alice.proc, 'list_groups', '>>> [Available group chats:]')).toEqual(['>>> g1', '>>> g2']);
    await expectAfter(alice.proc, 'join_group nope', ['>>> [Group nope does not exist]']);
    await joinGroup(alice, 'g2');
  });

  test('help lists the commands of normal mode only', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const help = await helpLines(alice, null, 'join_group');
    for (const command of NORMAL_COMMANDS)
      expect({ command, found: mentions(help, command) }).toEqual({ command, found: true });
    for (const command of GROUP_ONLY)
      expect({ command, found: mentions(help, command) }).toEqual({ command, found: false });
    expect(help.every((l) => l.startsWith('>>> '))).toBe(true);
    expect(help).toEqual([
      '>>> send <name> <message>',
      '>>> dereg <name>',
      '>>> create_group <group>',
      '>>> list_groups',
      '>>> join_group <group>',
      '>>> delete_group <group>',
      '>>> delete_account <name>',
      '>>> who',
      '>>> help',
    ]);
  });

  test('invalid input: unknown command, group-mode command, missing arguments, bad group names; nothing changes', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    const bobFrom = bob.proc.mark();
    for (const command of [
      'foo',
      'send_group hi',
      'list_members',
      'leave_group',
      'send',
      'send bob',
      'create_group',
      'join_group',
      'dereg',
    ]) {
      await expectAfter(alice.proc, command, ['>>> [Invalid command]']);
    }
    for (const group of ['roomB;', 'a/b', 'x'.repeat(33)]) {
      await expectAfter(alice.proc, `create_group ${group}`, [`>>> [Invalid group name: ${group}]`]);
      await expectAfter(alice.proc, `join_group ${group}`, [`>>> [Invalid group name: ${group}]`]);
    }
    // Nothing changed: no group exists, alice is still in normal mode and bob got nothing.
    await expectAfter(alice.proc, 'list_groups', ['>>> [No group chats available.]']);
    await sendPrivate(alice, bob, 'after the junk');
    expect(
      bob.proc
        .lines()
        .slice(bobFrom)
        .filter((l) => l !== '>>> [Client table updated.]'),
    ).toEqual(['>>> alice: after the junk']);
  });

  test('empty lines are ignored', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const from = alice.proc.mark();
    alice.proc.send('');
    alice.proc.send('');
    expect(await linesUntilSentinel(alice.proc, from)).toEqual([]);
  });

  test('a message longer than --max-message-length is refused with a clear line, never sent or truncated', async () => {
    const { port } = await startServer();
    const limit = ['--max-message-length', '10'];
    const [alice, bob] = (await startChat(['alice', 'bob'], port, limit)) as [StartedClient, StartedClient];
    const bobFrom = bob.proc.mark();
    const tooLongAt = await expectAfter(alice.proc, 'send bob 12345678901', [/^>>> \[.*too long.*\]$/i]);
    expect(alice.proc.lines()[tooLongAt]).toBe('>>> [Message too long: 11 characters, maximum is 10. Not sent.]');
    await sendPrivate(alice, bob, '1234567890'); // exactly the maximum is fine
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const groupTooLongAt = await expectAfter(alice.proc, 'send_group abcdefghijk', [/^>>> \(g\) \[.*too long.*\]$/i]);
    expect(alice.proc.lines()[groupTooLongAt]).toBe(
      '>>> (g) [Message too long: 11 characters, maximum is 10. Not sent.]',
    );
    await sendGroup(alice, 'g', 'abcdefghij');
    await bob.proc.waitForLine(groupMessage('g', 'alice', 'abcdefghij'), { from: bobFrom });
    const seen = bob.proc.lines().slice(bobFrom).join('\n');
    expect(seen).not.toContain('12345678901');
    expect(seen).not.toContain('abcdefghijk');
    expect(bob.proc.linesMatching(/alice/, { from: bobFrom })).toEqual([
      '>>> alice: 1234567890',
      groupMessage('g', 'alice', 'abcdefghij'),
    ]);
  });

  test('a receiver whose own limit is lower rejects the message: the sender is told why', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const bob = await startClient('bob', port, ['--max-message-length', '5']);
    await waitForTableUpdates(alice.proc, 2);
    const bobFrom = bob.proc.mark();
    await expectAfter(alice.proc, 'send bob 123456', [
      '>>> [bob rejected the message (message_too_long), message not delivered]',
    ]);
    await sendPrivate(alice, bob, '12345');
    expect(bob.proc.linesMatching(/alice/, { from: bobFrom })).toEqual(['>>> alice: 12345']);
  });

  test('a server that rate limits the client: the request is not performed, and the client says so', async () => {
    // One token a second, one in the bucket: registering takes it, so a burst of requests right after is refused.
    const { port } = await startServer(['--rate-limit-per-sec', '1', '--rate-burst', '1']);
    const alice = await startClient('alice', port);
    const from = alice.proc.mark();
    for (let i = 0; i < 5; i++) alice.proc.send(`create_group g${i}`);
    await alice.proc.waitForLine('>>> [Server is rate limiting this client, request not performed]', { from });
  });
});

describe('client in group mode (docs/usage.md "Client")', () => {
  afterEach(() => expectCleanStderr());

  test('send_group: sender sees received by Server, every other member sees Group_Message', async () => {
    const { port } = await startServer();
    const clients = (await startChat(['alice', 'bob', 'carol'], port)) as [StartedClient, StartedClient, StartedClient];
    await createGroup(clients[0], 'g');
    for (const c of clients) await joinGroup(c, 'g');
    const marks = clients.map((c) => c.proc.mark());
    await sendGroup(clients[0], 'g', 'hello group');
    await clients[1].proc.waitForLine(groupMessage('g', 'alice', 'hello group'), { from: marks[1] });
    await clients[2].proc.waitForLine(groupMessage('g', 'alice', 'hello group'), { from: marks[2] });
    await sendGroup(clients[2], 'g', 'hi alice');
    await clients[0].proc.waitForLine(groupMessage('g', 'carol', 'hi alice'), { from: marks[0] });
    // The sender never sees its own message as a Group_Message.
    expect(clients[0].proc.linesMatching(/Group_Message alice:/)).toEqual([]);
  });

  test('list_members lists the members in join order, prefixed', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'g');
    await joinGroup(bob, 'g');
    await joinGroup(alice, 'g');
    expect(await listing(alice.proc, 'list_members', '>>> (g) [Members in the group g:]', 'g')).toEqual([
      '>>> (g) bob',
      '>>> (g) alice',
    ]);
  });

  test('leave_group prints the unprefixed leave line and returns to normal mode', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await expectAfter(alice.proc, 'leave_group', ['>>> [Leave group chat g]']);
    await expectAfter(alice.proc, 'list_groups', ['>>> [Available group chats:]', '>>> g']);
  });

  test('every line printed in group mode is prefixed, including table updates and errors', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    await createGroup(alice, 'g');
    const from = alice.proc.mark();
    await joinGroup(alice, 'g');
    await startClient('bob', port); // a table push while alice is in group mode
    await alice.proc.waitForLine('>>> (g) [Client table updated.]');
    await expectAfter(alice.proc, 'send bob hi', ['>>> (g) [Invalid command]']);
    await expectAfter(alice.proc, 'dereg bob', ['>>> (g) [You can only deregister yourself]']);
    await sendGroup(alice, 'g', 'anyone?');
    await listing(alice.proc, 'list_members', '>>> (g) [Members in the group g:]', 'g');
    const leave = await expectAfter(alice.proc, 'leave_group', ['>>> [Leave group chat g]']);
    const lines = alice.proc.lines();
    const entered = lines.indexOf('>>> [Entered group g successfully]', from);
    const inGroup = lines.slice(entered + 1, leave);
    expect(inGroup.length).toBeGreaterThan(5);
    expect(inGroup.filter((l) => !l.startsWith('>>> (g) '))).toEqual([]);
  });

  test('help lists the commands of group mode only, prefixed', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    const help = await helpLines(alice, 'g', 'leave_group');
    for (const command of GROUP_COMMANDS)
      expect({ command, found: mentions(help, command) }).toEqual({ command, found: true });
    for (const command of NORMAL_ONLY)
      expect({ command, found: mentions(help, command) }).toEqual({ command, found: false });
    expect(help.every((l) => l.startsWith('>>> (g) '))).toBe(true);
    expect(help).toEqual([
      '>>> (g) send_group <message>',
      '>>> (g) list_members',
      '>>> (g) history [n]',
      '>>> (g) leave_group',
      '>>> (g) dereg <name>',
      '>>> (g) who',
      '>>> (g) help',
    ]);
  });

  test('invalid input in group mode: other-mode commands, unknown, missing arguments (prefixed), nothing changes', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'g');
    await createGroup(alice, 'other');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const bobFrom = bob.proc.mark();
    for (const command of [
      'send bob hi',
      'create_group x',
      'list_groups',
      'join_group other',
      'foo',
      'send_group',
      'dereg',
    ]) {
      await expectAfter(alice.proc, command, ['>>> (g) [Invalid command]']);
    }
    // Still in g, alone with bob, and bob saw nothing.
    expect(await listing(alice.proc, 'list_members', '>>> (g) [Members in the group g:]', 'g')).toEqual([
      '>>> (g) alice',
      '>>> (g) bob',
    ]);
    await expectAfter(bob.proc, 'list_members', ['>>> (g) [Members in the group g:]']);
    expect(bob.proc.linesMatching(/alice|hi/, { from: bobFrom })).toEqual(['>>> (g) alice']);
  });

  test('a client removed by the server prints the removed line and returns to normal mode', async () => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    await joinGroup(bob, 'g');
    const from = server.mark();
    bob.proc.kill('SIGSTOP');
    await sendGroup(alice, 'g', 'ping');
    await server.waitForLine('>>> [Client bob not responsive, removed from group g]', { from });
    bob.proc.kill('SIGCONT');
    await bob.proc.waitForLine('>>> (g) [You were removed from group g]');
    // Back in normal mode: normal commands work and lines are unprefixed.
    await expectAfter(bob.proc, 'list_groups', ['>>> [Available group chats:]', '>>> g']);
  });

  test('joining another group while in a group is refused as an other-mode command', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    await createGroup(alice, 'g1');
    await createGroup(alice, 'g2');
    await joinGroup(alice, 'g1');
    await expectAfter(alice.proc, 'join_group g2', ['>>> (g1) [Invalid command]']);
    expect(await listing(alice.proc, 'list_members', '>>> (g1) [Members in the group g1:]', 'g1')).toEqual([
      '>>> (g1) alice',
    ]);
  });
});

/**
 * A scripted server on loopback for answers the real server gives only in a
 * race: each request type gets the frame `answers` makes for it. The client
 * is the real CLI process.
 */
async function scriptedServer(
  answers: Record<string, (id: string) => object>,
): Promise<{ port: number; close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    // Protocol v2 (docs/protocol.md): the server speaks first; the client signs this challenge.
    socket.write(JSON.stringify({ type: 'hello', v: 2, challenge: 'c'.repeat(43) + '=' }) + '\n');
    socket.on('close', () => sockets.delete(socket));
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('utf8');
      let end: number;
      while ((end = buffered.indexOf('\n')) !== -1) {
        const frame = JSON.parse(buffered.slice(0, end)) as {
          type: string;
          id?: string;
          name?: string;
          port?: number;
          key?: string;
        };
        buffered = buffered.slice(end + 1);
        const out: object[] = [];
        if (frame.type === 'ping') out.push({ type: 'pong' });
        else if (frame.type === 'register') {
          out.push({ type: 'reply', id: frame.id });
          out.push({
            type: 'table',
            rev: 1,
            full: true,
            clients: [{ name: frame.name, host: '127.0.0.1', port: frame.port, online: true, key: frame.key }],
          });
        } else if (frame.id !== undefined && answers[frame.type]) out.push(answers[frame.type]!(frame.id));
        for (const f of out) socket.write(JSON.stringify(f) + '\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe('client answers to server replies a real server gives only in a race (docs/events.md, CLI decisions)', () => {
  afterEach(() => expectCleanStderr());

  test('any other server error code: Server refused the request (<code>)', async () => {
    const server = await scriptedServer({
      create_group: (id) => ({ type: 'error', id, code: 'internal_error', message: 'Internal error' }),
    });
    try {
      const alice = await startClient('alice', server.port);
      await expectAfter(alice.proc, 'create_group g', ['>>> [Server refused the request (internal_error)]']);
    } finally {
      await server.close();
    }
  });

  test('send_group answered not_in_group: the removal line in group mode, then not delivered in normal mode', async () => {
    const server = await scriptedServer({
      join_group: (id) => ({ type: 'reply', id, group: 'g', history: [] }),
      send_group: (id) => ({ type: 'error', id, code: 'not_in_group', message: 'Client is not in a group' }),
    });
    try {
      const alice = await startClient('alice', server.port);
      await joinGroup(alice, 'g');
      await expectAfter(alice.proc, 'send_group hello', [
        '>>> (g) [You were removed from group g]',
        '>>> [You are not in a group, message not delivered]',
      ]);
    } finally {
      await server.close();
    }
  });
});

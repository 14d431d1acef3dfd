/**
 * docs/usage.md "Client": starting (name in use, server not responding) and leaving (dereg,
 * Ctrl+C, SIGTERM, end of input) a client, with exit codes (docs/usage.md "How output looks").
 */
import { startCli, type CliProcess } from '../../testkit/cli-process';
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import { closedPort, startSilentServer } from '../helpers/ports';
import * as net from 'node:net';
import {
  createGroup,
  expectAfter,
  joinGroup,
  expectCleanStderr,
  waitForTableUpdates,
  startChat,
} from '../helpers/e2e-chat';

/** Client options that make a failing server request end quickly. */
const QUICK_GIVE_UP = ['--ack-timeout', '150', '--retries', '2'];

const BYE = '>>> [You are Offline. Bye.]';

/** Whether this machine has IPv6 loopback (some containers do not). */
function loopbackIPv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(0, '::1', () => probe.close(() => resolve(true)));
  });
}

/** After two registrations, `client` left: it exited 0, the server pushed a 3rd table, `other` sees it offline. */
async function expectDeregistered(client: StartedClient, other: StartedClient, server: CliProcess): Promise<void> {
  expect(await client.proc.waitForExit()).toEqual({ code: 0, signal: null });
  await waitForTableUpdates(server, 3);
  // Offline in the other's table: the server keeps the message (docs/usage.md "Saved messages").
  await expectAfter(other.proc, `send ${client.name} hello?`, ['>>> [Messages received by the server and saved]']);
}

describe('starting a client (docs/usage.md "Client")', () => {
  afterEach(() => expectCleanStderr());

  test('prints the listening line (OS-chosen port), welcome, then the first table update', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    expect(alice.listenPort).toBeGreaterThan(0);
    expect(alice.proc.lines().slice(0, 3)).toEqual([
      `>>> [Listening for private messages on port ${alice.listenPort}]`,
      '>>> [Welcome, You are registered.]',
      '>>> [Client table updated.]',
    ]);
  });

  test('every later table push prints [Client table updated.]', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const bob = await startClient('bob', port);
    await waitForTableUpdates(alice.proc, 2);
    await expectAfter(bob.proc, 'dereg bob', [BYE]);
    await waitForTableUpdates(alice.proc, 3);
  });

  test('a name already online is refused: name-in-use line, exit 1; the first client is unaffected', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    const impostor = startCli(['-c', 'alice', '127.0.0.1', String(port), '0'], { label: 'second alice' });
    await impostor.waitForLine('>>> [Name alice is already in use. Try another one.]');
    expect(await impostor.waitForExit()).toEqual({ code: 1, signal: null });
    expect(impostor.lines()).not.toContain('>>> [Welcome, You are registered.]');
    await expectAfter(bob.proc, 'send alice still you?', ['>>> [Message received by alice.]']);
    await alice.proc.waitForLine('>>> bob: still you?');
  });

  test('the server may be given as a hostname or an IPv6 literal', async () => {
    const { port } = await startServer();
    const hosts = ['localhost', ...((await loopbackIPv6()) ? ['::1'] : [])];
    for (const [i, host] of hosts.entries()) {
      const proc = startCli(['-c', `host${i}`, host, String(port), '0'], { label: `client via ${host}` });
      await proc.waitForLines(['>>> [Welcome, You are registered.]', '>>> [Client table updated.]']);
    }
  });

  test('no server listening: Server not responding, Exiting, exit 1', async () => {
    const port = await closedPort();
    const proc = startCli(['-c', 'alice', '127.0.0.1', String(port), '0', ...QUICK_GIVE_UP]);
    await proc.waitForLine(/^>>> \[Listening for private messages on port \d+\]$/);
    await proc.waitForLines(['>>> [Server not responding]', '>>> [Exiting]']);
    expect(await proc.waitForExit(20_000)).toEqual({ code: 1, signal: null });
    expect(proc.lines()).not.toContain('>>> [Welcome, You are registered.]');
  });

  test('a server that accepts but never answers: Server not responding, Exiting, exit 1', async () => {
    const silent = await startSilentServer();
    const proc = startCli(['-c', 'alice', '127.0.0.1', String(silent.port), '0', ...QUICK_GIVE_UP]);
    await proc.waitForLines(['>>> [Server not responding]', '>>> [Exiting]'], { timeoutMs: 20_000 });
    expect(await proc.waitForExit(20_000)).toEqual({ code: 1, signal: null });
    expect(silent.connections).toBeGreaterThan(0);
  });
});

describe('leaving (docs/usage.md "Client")', () => {
  afterEach(() => expectCleanStderr());

  test.each([
    ['dereg', (c: StartedClient) => c.proc.send(`dereg ${c.name}`)],
    ['SIGINT (Ctrl+C)', (c: StartedClient) => c.proc.kill('SIGINT')],
    ['SIGTERM', (c: StartedClient) => c.proc.kill('SIGTERM')],
    ['end of input', (c: StartedClient) => c.proc.endInput()],
  ])('%s deregisters: Bye, exit 0, marked offline for the others', async (_how, leave) => {
    const { proc: server, port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    leave(alice);
    await alice.proc.waitForLine(BYE);
    await waitForTableUpdates(bob.proc, 2); // his own (alice already in it), then alice offline
    await expectDeregistered(alice, bob, server);
    // Bye is the last line.
    expect(alice.proc.lines().at(-1)).toBe(BYE);
  });

  test('Ctrl+C or SIGTERM sent as soon as Welcome is read still deregisters: Bye, exit 0', async () => {
    const { port } = await startServer();
    const runs = (['SIGINT', 'SIGTERM', 'SIGINT', 'SIGTERM'] as const).map(async (signal, i) => {
      const proc = startCli(['-c', `early${i}`, '127.0.0.1', String(port), '0'], { label: `client early${i}` });
      await proc.waitForLine('>>> [Welcome, You are registered.]');
      proc.kill(signal);
      const exit = await proc.waitForExit();
      return { signal, exit, bye: proc.lines().includes(BYE) };
    });
    for (const run of await Promise.all(runs))
      expect(run).toEqual({ signal: run.signal, exit: { code: 0, signal: null }, bye: true });
  });

  test('dereg in group mode prints the queued private messages, in arrival order, before Bye', async () => {
    const { port } = await startServer();
    const [alice, bob, carol] = (await startChat(['alice', 'bob', 'carol'], port)) as [
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    await createGroup(bob, 'g');
    await joinGroup(bob, 'g');
    await expectAfter(alice.proc, 'send bob first', ['>>> [Message received by bob.]']);
    await expectAfter(carol.proc, 'send bob second', ['>>> [Message received by bob.]']);
    await expectAfter(alice.proc, 'send bob third', ['>>> [Message received by bob.]']);
    // Queued, not shown yet.
    expect(bob.proc.linesMatching(/first|second|third/)).toEqual([]);
    const from = bob.proc.mark();
    bob.proc.send('dereg bob');
    await bob.proc.waitForLine(/^>>> (\(g\) )?\[You are Offline\. Bye\.\]$/, { from });
    expect(await bob.proc.waitForExit()).toEqual({ code: 0, signal: null });
    const tail = bob.proc
      .lines()
      .slice(from)
      .filter((l) => !/\[Client table updated\.\]$/.test(l));
    expect(tail.map((l) => l.replace(/^>>> \(g\) /, '>>> '))).toEqual([
      '>>> alice: first',
      '>>> carol: second',
      '>>> alice: third',
      BYE,
    ]);
  });

  test.each([
    ['Ctrl+C (SIGINT)', (c: StartedClient) => c.proc.kill('SIGINT')],
    ['SIGTERM', (c: StartedClient) => c.proc.kill('SIGTERM')],
    ['end of input', (c: StartedClient) => c.proc.endInput()],
  ])('%s in group mode also prints the queued private messages before Bye, exit 0', async (_how, leave) => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(bob, 'g');
    await joinGroup(bob, 'g');
    await expectAfter(alice.proc, 'send bob do not lose me', ['>>> [Message received by bob.]']);
    await expectAfter(alice.proc, 'send bob nor me', ['>>> [Message received by bob.]']);
    const from = bob.proc.mark();
    leave(bob);
    expect(await bob.proc.waitForExit()).toEqual({ code: 0, signal: null });
    const tail = bob.proc
      .lines()
      .slice(from)
      .filter((l) => !/\[Client table updated\.\]$/.test(l));
    expect(tail.map((l) => l.replace(/^>>> \(g\) /, '>>> '))).toEqual([
      '>>> alice: do not lose me',
      '>>> alice: nor me',
      BYE,
    ]);
  });

  test('end of input in group mode leaves the group on the server and exits 0', async () => {
    const { proc: server, port } = await startServer();
    const alice = await startClient('alice', port);
    await createGroup(alice, 'g');
    await joinGroup(alice, 'g');
    const from = server.mark();
    alice.proc.endInput();
    await alice.proc.waitForLine(/^>>> (\(g\) )?\[You are Offline\. Bye\.\]$/);
    expect(await alice.proc.waitForExit()).toEqual({ code: 0, signal: null });
    await server.waitForLine('>>> [Client alice left group g]', { from });
    await waitForTableUpdates(server, 2);
  });
});

import net from 'node:net';
import { sharedDataHome } from '../../testkit/data-home';
import { startClient, startServer, type StartedClient, type StartedServer } from '../../testkit/chat-roles';
import { closeAllRawClients, RawClient, RawLink } from '../helpers/raw-client';
import { TestKey } from '../helpers/dm-attacker';
import { waitUntilOnline } from '../helpers/e2e-chat';

/**
 * Issue 9, finding 10: a replay after the receiver restarted, and an address
 * that answers for someone else. Real client processes on loopback; the
 * attacker is a registered client with a key of her own (mallory) and a raw
 * socket. docs/security.md "Replay" and "Acks" describe the defences.
 */

let server: StartedServer;

beforeAll(async () => {
  server = await startServer([], { keepAcrossTests: true });
});

afterEach(async () => {
  await closeAllRawClients();
  expect(server.proc.alive).toBe(true); // the server outlives every attack (testkit stops it after the file)
});

/** A real client, once it printed its first table. Every client of a test shares the test's data home (testkit). */
/**
 * A client of this file's one server. Its identity lives in the file's data
 * home: the server keeps accounts across the file's tests, so "alice" must be
 * the same alice in each (docs/usage.md "Accounts").
 */
function client(name: string): Promise<StartedClient> {
  return startClient(name, server.port, [], { dataHome: sharedDataHome('file') });
}

/** A raw registered client `name` with `key`, listing `port` as its listen port; resolves once `watcher`'s table lists it. */
async function registerRaw(name: string, key: TestKey, watcher: StartedClient, port = 1): Promise<RawClient> {
  const raw = await RawClient.connect(server.port);
  expect((await raw.register(name, { identity: key, port })).type).toBe('reply');
  // the table line may merge pushes (docs/usage.md): ask who is online until the name is
  await waitUntilOnline(watcher.proc, [name]);
  return raw;
}

describe('replay after a restart', () => {
  it('a signed dm captured and replayed to bob after he restarted is acked but never shown again; a new one is shown', async () => {
    const first = await client('bob');
    const mallory = new TestKey();
    await registerRaw('mallory', mallory, first);
    const captured = mallory.dm({ from: 'mallory', to: 'bob', text: 'send 100 to mallory' });
    const before = await RawLink.direct(first.listenPort);
    const from = first.proc.mark();
    before.send(captured);
    await before.waitFor((f) => f.type === 'dm_ack' && f.id === captured.message.id, 'dm_ack');
    await first.proc.waitForLine('>>> mallory: send 100 to mallory', { from });
    expect(await first.proc.stop('endInput')).toEqual({ code: 0, signal: null }); // dereg, exit 0

    // The same user (the test's data home, testkit's default), a new process and port.
    const second = await client('bob');
    expect(second.proc.dataHome).toBe(first.proc.dataHome);
    const after = await RawLink.direct(second.listenPort);
    after.send(captured);
    const verdict = await after.waitFor(
      (f) => (f.type === 'dm_ack' || f.type === 'error') && 'id' in f && f.id === captured.message.id,
      'verdict on the replay',
    );
    expect(verdict.type).toBe('dm_ack'); // it was delivered once; the sender may hear so again
    const fresh = mallory.dm({ from: 'mallory', to: 'bob', text: 'a new one' });
    const mark = second.proc.mark();
    after.send(fresh);
    await second.proc.waitForLine('>>> mallory: a new one', { from: mark }); // positive control, and it comes after the replay
    expect(second.proc.linesMatching((l) => l.includes('send 100 to mallory'))).toEqual([]);
    expect(second.proc.output('stderr')).toBe('');
  }, 60_000);
});

describe('an ack counts only when the receiver signed it', () => {
  it('a name registered with the chat server\'s own port as its listen port: the sender is not told "received"', async () => {
    const alice = await client('alice');
    await registerRaw('eve', new TestKey(), alice, server.port);
    const from = alice.proc.mark();
    alice.proc.send('send eve hello eve');
    const outcome = await alice.proc.waitForLine(/^>>> \[.*eve.*\]$/, { from });
    expect(outcome).toMatch(/message not delivered\]$/);
    expect(alice.proc.lines('stdout', from)).not.toContain('>>> [Message received by eve.]');
    expect(server.proc.alive).toBe(true);
  }, 30_000);

  it('whoever answers on a listed port without the listed key cannot fake "received": No ACK', async () => {
    const alice = await client('alice');
    const impostorKey = new TestKey();
    // answers each dm with an unsigned ack (what a build without signed acks took) and one signed by its own key
    const sockets: net.Socket[] = [];
    const impostor = net.createServer((socket) => {
      sockets.push(socket);
      let rest = '';
      socket.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString('utf8')).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) {
          const dm = JSON.parse(line) as { type: string; message: { id: string; from: string; to: string } };
          if (dm.type !== 'dm') continue;
          const frame = dm.message;
          socket.write(`${JSON.stringify({ type: 'dm_ack', id: frame.id })}\n`);
          socket.write(
            `${JSON.stringify({ type: 'dm_ack', id: frame.id, sig: impostorKey.ackSig(frame.id, frame.from, frame.to) })}\n`,
          );
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (impostor.address() as net.AddressInfo).port;
      await registerRaw('carol', new TestKey(), alice, port); // carol's real key is not the impostor's
      const from = alice.proc.mark();
      alice.proc.send('send carol for carol only');
      await alice.proc.waitForLine('>>> [No ACK from carol, message not delivered]', { from });
      expect(alice.proc.lines('stdout', from)).not.toContain('>>> [Message received by carol.]');
      expect(alice.proc.output('stderr')).toBe('');
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  }, 30_000);

  it("positive control: a real receiver's signed ack is received", async () => {
    const [alice, bob] = [await client('alice'), await client('bob')];
    await waitUntilOnline(alice.proc, ['bob']); // bob's push may trail his own start
    const from = alice.proc.mark();
    alice.proc.send('send bob hi bob');
    await alice.proc.waitForLine('>>> [Message received by bob.]', { from });
    await bob.proc.waitForLine('>>> alice: hi bob', { from: 0 });
  }, 30_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ClientProcess, ServerProcess } from '../helpers/hostile-server';
import { closeAllRawClients, RawClient, RawLink } from '../helpers/raw-socket';
import { TestKey } from '../helpers/dm-attacker';

/**
 * Issue 9, finding 10: a replay after the receiver restarted, and an address
 * that answers for someone else. Real client processes on loopback; the
 * attacker is a registered client with a key of her own (mallory) and a raw
 * socket. docs/security.md "Replay" and "Acks" describe the defences.
 */

let server: ServerProcess;
const processes: ClientProcess[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  server = await ServerProcess.start();
});

afterEach(async () => {
  await closeAllRawClients();
  await Promise.all(processes.splice(0).map((p) => p.stop()));
});

afterAll(async () => {
  expect(server.alive).toBe(true);
  await server?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A real client, once it printed its first table (so a later table line is about a later change). */
async function client(name: string, env: NodeJS.ProcessEnv = {}): Promise<ClientProcess> {
  const proc = await ClientProcess.start(name, server.port, [], env);
  processes.push(proc);
  await proc.waitForLine('>>> [Client table updated.]');
  return proc;
}

/** A raw registered client `name` with `key`, listing `port` as its listen port; resolves once `watcher` saw the table change. */
async function registerRaw(name: string, key: TestKey, watcher: ClientProcess, port = 1): Promise<RawClient> {
  const from = watcher.mark();
  const raw = await RawClient.connect(server.port);
  expect((await raw.register(name, key.publicKey, port)).type).toBe('reply');
  await watcher.waitForLine('>>> [Client table updated.]', from);
  return raw;
}

describe('replay after a restart', () => {
  it('a signed dm captured and replayed to bob after he restarted is acked but never shown again; a new one is shown', async () => {
    const dataHome = mkdtempSync(path.join(os.tmpdir(), 'chatapp-replay-'));
    dirs.push(dataHome);
    const env = { XDG_DATA_HOME: dataHome };
    const first = await client('bob', env);
    const mallory = new TestKey();
    await registerRaw('mallory', mallory, first);
    const captured = mallory.dm({ from: 'mallory', to: 'bob', text: 'send 100 to mallory' });
    const before = await RawLink.direct(first.listenPort);
    const from = first.mark();
    before.send(captured);
    await before.waitFor((f) => f.type === 'dm_ack' && f.id === captured.id, 'dm_ack');
    await first.waitForLine('>>> mallory: send 100 to mallory', from);
    await first.stop(); // dereg, exit 0
    expect(first.exit).toEqual({ code: 0, signal: null });

    const second = await client('bob', env); // the same user, same data directory, a new process and port
    const after = await RawLink.direct(second.listenPort);
    after.send(captured);
    const verdict = await after.waitFor((f) => (f.type === 'dm_ack' || f.type === 'error') && 'id' in f && f.id === captured.id, 'verdict on the replay');
    expect(verdict.type).toBe('dm_ack'); // it was delivered once; the sender may hear so again
    const fresh = mallory.dm({ from: 'mallory', to: 'bob', text: 'a new one' });
    const mark = second.mark();
    after.send(fresh);
    await second.waitForLine('>>> mallory: a new one', mark); // positive control, and it comes after the replay
    expect(second.stdout.filter((l) => l.includes('send 100 to mallory'))).toEqual([]);
    expect(second.stderr).toBe('');
  }, 60_000);
});

describe('an ack counts only when the receiver signed it', () => {
  it('a name registered with the chat server\'s own port as its listen port: the sender is not told "received"', async () => {
    const alice = await client('alice');
    await registerRaw('eve', new TestKey(), alice, server.port);
    const from = alice.mark();
    alice.type('send eve hello eve');
    const outcome = await alice.waitForMatch(/^>>> \[.*eve.*\]$/, from);
    expect(outcome).toMatch(/message not delivered\]$/);
    expect(alice.stdout.slice(from)).not.toContain('>>> [Message received by eve.]');
    expect(server.alive).toBe(true);
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
          const frame = JSON.parse(line) as { type: string; id: string; from: string; to: string };
          if (frame.type !== 'dm') continue;
          socket.write(`${JSON.stringify({ type: 'dm_ack', id: frame.id })}\n`);
          socket.write(`${JSON.stringify({ type: 'dm_ack', id: frame.id, sig: impostorKey.ackSig(frame.id, frame.from, frame.to) })}\n`);
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (impostor.address() as net.AddressInfo).port;
      await registerRaw('carol', new TestKey(), alice, port); // carol's real key is not the impostor's
      const from = alice.mark();
      alice.type('send carol for carol only');
      await alice.waitForLine('>>> [No ACK from carol, message not delivered]', from);
      expect(alice.stdout.slice(from)).not.toContain('>>> [Message received by carol.]');
      expect(alice.stderr).toBe('');
    } finally {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => impostor.close(() => resolve()));
    }
  }, 30_000);

  it('positive control: a real receiver\'s signed ack is received', async () => {
    const [alice, bob] = [await client('alice'), await client('bob')];
    const from = alice.mark();
    alice.type('send bob hi bob');
    await alice.waitForLine('>>> [Message received by bob.]', from);
    await bob.waitForLine('>>> alice: hi bob');
  }, 30_000);
});

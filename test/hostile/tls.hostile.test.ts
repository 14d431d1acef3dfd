import net from 'node:net';
import { startClient, startServer, type StartedServer } from '../../testkit/chat-roles';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';
import { TapProxy } from '../helpers/tap-proxy';
import { expectAfter, groupMessage } from '../helpers/e2e-chat';

/**
 * The TLS port under attack (docs/security.md "Transport"): garbage, cut
 * handshakes and silent sockets are dropped by the handshake deadline or at
 * once, and never hold a slot a real client needs; bystanders chat on. A
 * passive observer on the path sees no plaintext.
 */

/** The handshake deadline is the register deadline: short here so the test does not sit it out. */
const SERVER_ARGS = ['--register-timeout', '1000', '--max-clients', '8', '--rate-limit-per-sec', '0'];
/** Safety net for the server to drop a socket (the deadline is 1 s; a loaded machine is slow). */
const DROP_MS = 15_000;

let server: StartedServer;

beforeAll(async () => {
  server = await startServer(SERVER_ARGS, { keepAcrossTests: true });
}, 30_000);

afterEach(() => closeAllRawClients());

afterAll(async () => {
  await closeAllRawClients();
  await server?.proc.stop();
});

async function pair(names: [string, string], group: string): Promise<[RawClient, RawClient]> {
  const a = await RawClient.registered(server.port, names[0]);
  const b = await RawClient.registered(server.port, names[1]);
  expect((await a.request({ type: 'create_group', group })).type).toBe('reply');
  for (const c of [a, b]) expect((await c.request({ type: 'join_group', group })).type).toBe('reply');
  return [a, b];
}

async function deliver(from: RawClient, to: RawClient, text: string): Promise<void> {
  expect((await from.request({ type: 'send_group', text })).type).toBe('reply');
  await to.waitFor((f) => f.type === 'group_msg' && f.text === text, `"${text}"`);
}

/** A plain TCP socket to the server that writes `bytes` (maybe none) and resolves when the server closes it. */
function rawSocket(bytes: Buffer | null): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: server.port }, () => {
      socket.off('error', reject);
      socket.on('error', () => undefined);
      socket.resume(); // an alert the server may send is read and dropped
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      const timer = setTimeout(() => socket.destroy(new Error('not dropped')), DROP_MS);
      void closed.then(() => clearTimeout(timer));
      if (bytes !== null) socket.write(bytes);
      // Closed by the server: a FIN, or a reset when it dropped the socket before reading what was sent
      // (many sockets accepted in one turn, the oldest dropped at once) — never the safety net's error.
      resolve({ closed: closed.then(() => expect(closedByServer(socket)).toBe(true)) });
    });
    socket.once('error', reject);
  });
}

/** The socket ended without an error, or with the reset a server's close of unread data sends. */
function closedByServer(socket: net.Socket): boolean {
  return socket.errored === null || (socket.errored as NodeJS.ErrnoException).code === 'ECONNRESET';
}

/** The first 11 bytes of a TLS 1.2 ClientHello record that announces 512 bytes and never sends them. */
const TRUNCATED_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

describe('the TLS port under attack', () => {
  it('drops garbage, plain frames, cut handshakes and silent sockets; bystanders chat on', async () => {
    const [a, b] = await pair(['anna', 'ben'], 'tlsg');
    const attacks = await Promise.all([
      rawSocket(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')),
      rawSocket(Buffer.from('{"type":"register","id":"x","v":2,"name":"eve"}\n')),
      rawSocket(Buffer.alloc(4096, 0x41)),
      rawSocket(TRUNCATED_HELLO),
      rawSocket(null),
    ]);
    await deliver(a, b, 'during the garbage');
    await Promise.all(attacks.map((attack) => attack.closed)); // each closed by the server, none by the safety net
    await deliver(b, a, 'after the garbage');
    expect(server.proc.alive).toBe(true);
    expect(server.proc.output('stderr')).toBe('');
  });

  it('more silent handshakes than --max-clients: the oldest are dropped, a real client still registers', async () => {
    const [a, b] = await pair(['cara', 'dan'], 'tlss');
    const silent = await Promise.all(Array.from({ length: 24 }, () => rawSocket(TRUNCATED_HELLO)));
    const late = await RawClient.registered(server.port, 'late');
    expect((await late.request({ type: 'list_groups' })).type).toBe('reply');
    await deliver(a, b, 'past the silent ones');
    await Promise.all(silent.map((s) => s.closed));
    expect(server.proc.alive).toBe(true);
  });
});

describe('a passive observer between a client and the server', () => {
  it('sees no plaintext of a group message, in either direction', async () => {
    const proxy = await TapProxy.start(server.port);
    try {
      const alice = await startClient('alice', proxy.port); // pins the proxy's address: the same certificate
      const bob = await startClient('bob', server.port);
      const marker = `secret-${process.pid}-${Date.now()}`;
      await expectAfter(alice.proc, 'create_group obs', ['>>> [Group obs created by Server.]']);
      await expectAfter(alice.proc, 'join_group obs', ['>>> [Entered group obs successfully]']);
      await expectAfter(bob.proc, 'join_group obs', ['>>> [Entered group obs successfully]']);
      const from = alice.proc.mark();
      bob.proc.send(`send_group ${marker} from bob`);
      await alice.proc.waitForLine(groupMessage('obs', 'bob', `${marker} from bob`), { from });
      alice.proc.send(`send_group ${marker} from alice`);
      await bob.proc.waitForLine(groupMessage('obs', 'alice', `${marker} from alice`));
      expect(proxy.total).toBeGreaterThan(0);
      expect(proxy.saw(marker)).toBe(false);
      expect(proxy.saw('"type"')).toBe(false); // not even the frame structure
    } finally {
      await proxy.close();
    }
  });
});

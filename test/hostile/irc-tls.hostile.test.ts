/**
 * The IRC-over-TLS port under attack (docs/irc.md "TLS", docs/security.md
 * "Transport"): plain IRC, garbage, cut handshakes and silent sockets at
 * `--ircs-port` are dropped by the handshake deadline or at once, more of
 * them than the server takes clients never keep a real one out, and two
 * bystanders over TLS go on talking in a channel.
 */
import net from 'node:net';
import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { closeIrcClients, IrcTestClient } from '../helpers/irc-framework-client';

const IRCS_ONLINE = /^>>> \[IRC gateway over TLS is online, listening on port (\d+)\]$/;
/** The handshake deadline is the register deadline: short here so the test does not sit it out. */
const SERVER_ARGS = ['--ircs-port', '0', '--register-timeout', '1000', '--max-clients', '8'];
/** Safety net for the server to drop a socket (the deadline is 1 s; a loaded machine is slow). */
const DROP_MS = 15_000;
/** The socket ended without an error, or with the reset a server's close of unread data sends. */
function closedByServer(socket: net.Socket): boolean {
  return socket.errored === null || (socket.errored as NodeJS.ErrnoException).code === 'ECONNRESET';
}

/** The first 11 bytes of a TLS 1.2 ClientHello record that announces 512 bytes and never sends them. */
const TRUNCATED_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);

let server: StartedServer;
let ircs: number;

beforeAll(async () => {
  server = await startServer(SERVER_ARGS, { keepAcrossTests: true });
  ircs = Number(IRCS_ONLINE.exec(await server.proc.waitForLine(IRCS_ONLINE))![1]);
}, 30_000);
afterEach(async () => {
  await closeIrcClients();
  expect(server.proc.alive).toBe(true);
});
afterAll(async () => {
  await server?.proc.stop();
});

/** A plain TCP socket to the TLS IRC port that writes `bytes` (maybe none); `closed` resolves when the server closes it. */
function rawSocket(bytes: Buffer | null): Promise<{ closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port: ircs }, () => {
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

let round = 0;
/** Two fresh irc-framework clients over TLS join a fresh channel and exchange a message each way. */
async function bystandersTalk(): Promise<void> {
  const n = ++round;
  const channel = `#calm${n}`;
  const [a, b] = [`by${n}a`, `by${n}b`].map(
    (nick) => new IrcTestClient(ircs, nick, { tls: true, rejectUnauthorized: false }),
  ) as [IrcTestClient, IrcTestClient];
  for (const client of [a, b]) {
    await client.waitEvent('registered');
    client.client.join(channel);
    await client.waitEvent('userlist', (e) => e.channel === channel);
  }
  a.client.say(channel, `ping ${n}`);
  await b.waitEvent('privmsg', (e) => e.message === `ping ${n}`);
  b.client.say(channel, `pong ${n}`);
  await a.waitEvent('privmsg', (e) => e.message === `pong ${n}`);
}

test('plain IRC, garbage, a cut handshake and a silent socket are dropped; bystanders over TLS talk on', async () => {
  const attacks = await Promise.all([
    rawSocket(Buffer.from('NICK eve\r\nUSER eve 0 * :eve\r\n')),
    rawSocket(Buffer.alloc(4096, 0x41)),
    rawSocket(TRUNCATED_HELLO),
    rawSocket(null),
  ]);
  await bystandersTalk();
  await Promise.all(attacks.map((attack) => attack.closed)); // each closed by the server, none by the safety net
  await bystandersTalk();
  expect(server.proc.output('stderr')).toBe('');
});

test('more cut handshakes than --max-clients: the oldest are dropped, real clients still register', async () => {
  const silent = await Promise.all(Array.from({ length: 24 }, () => rawSocket(TRUNCATED_HELLO)));
  await bystandersTalk();
  await Promise.all(silent.map((s) => s.closed));
  expect(server.proc.output('stderr')).toBe('');
});

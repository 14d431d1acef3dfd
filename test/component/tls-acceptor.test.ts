/**
 * TlsAcceptor (src/net/tls-acceptor.ts): one bound on pending handshakes for
 * every TLS port of a server, and a close that drops them all at once.
 */
import net from 'node:net';
import tls from 'node:tls';
import { TlsAcceptor } from '../../src/net/tls-acceptor';
import { createSelfSigned, type TlsCredentials } from '../../src/net/tls-cert';

/** Long enough never to fire during a test: every drop here must come from the budget or close(). */
const HANDSHAKE_MS = 120_000;

let credentials: TlsCredentials;
const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

beforeAll(async () => {
  credentials = await createSelfSigned();
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A port served through `acceptor`; `accepted()` resolves once it has taken `n` sockets in all. */
async function port(acceptor: TlsAcceptor, secured: (socket: tls.TLSSocket) => void = () => undefined) {
  let count = 0;
  const waiting: Array<{ n: number; resolve: () => void }> = [];
  const handle = acceptor.handler(secured);
  const server = net.createServer((raw) => {
    handle(raw);
    count++;
    for (const w of waiting.filter((w) => count >= w.n)) w.resolve();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const accepted = (n: number): Promise<void> =>
    count >= n ? Promise.resolve() : new Promise((resolve) => waiting.push({ n, resolve }));
  return { port: address.port, accepted };
}

/** A TCP socket that never speaks; `closed` resolves when the far end closes it. */
function silent(portNumber: number): { closed: Promise<void> } {
  const socket = net.connect(portNumber, '127.0.0.1');
  socket.on('error', () => undefined);
  sockets.push(socket);
  return { closed: new Promise((resolve) => socket.once('close', () => resolve())) };
}

test('pending handshakes share one budget across ports: the oldest, on another port, is dropped first', async () => {
  const acceptor = new TlsAcceptor({ credentials, handshakeTimeoutMs: HANDSHAKE_MS, maxPendingHandshakes: 2 });
  const a = await port(acceptor);
  let secured!: () => void;
  const securedOnB = new Promise<void>((resolve) => (secured = resolve));
  const b = await port(acceptor, () => secured());
  const first = silent(a.port);
  await a.accepted(1);
  const second = silent(a.port);
  await a.accepted(2);
  let secondClosed = false;
  void second.closed.then(() => (secondClosed = true));

  const client = tls.connect({ host: '127.0.0.1', port: b.port, rejectUnauthorized: false });
  client.on('error', () => undefined);
  sockets.push(client);
  await securedOnB; // the server side finished the newcomer's handshake
  await first.closed; // the oldest pending handshake made room for the newcomer on the other port
  expect(secondClosed).toBe(false);
});

test('close() drops the handshakes in progress and closes new sockets at once', async () => {
  const acceptor = new TlsAcceptor({ credentials, handshakeTimeoutMs: HANDSHAKE_MS, maxPendingHandshakes: 8 });
  const a = await port(acceptor);
  const pending = silent(a.port);
  await a.accepted(1);
  acceptor.close();
  await pending.closed;
  const late = silent(a.port);
  await late.closed;
});

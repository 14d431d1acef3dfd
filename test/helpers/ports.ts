import * as net from 'node:net';

/**
 * Loopback ports for tests that need "nothing answers here": a port with no
 * listener, and a listener that accepts connections and never answers.
 */

/**
 * A loopback port with nothing listening on it: bound on 127.0.0.1, then closed.
 * (Another program could in principle take it meanwhile; the window is tiny.)
 */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface SilentServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

const silentServers = new Set<SilentServer>();

/**
 * A TCP server on 127.0.0.1:0 that accepts connections and never answers (a
 * server that does not respond). Closed after each test.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  const server = net.createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  const handle: SilentServer = {
    port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  silentServers.add(handle);
  return handle;
}

afterEach(async () => {
  await Promise.all([...silentServers].map((s) => s.close()));
  silentServers.clear();
});

import type net from 'node:net';

/** Thrown when the port is taken; the CLI prints `>>> [Port <port> is already in use]`, exit 1. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
  constructor(
    readonly port: number,
    options?: { cause?: unknown },
  ) {
    super(`Port ${port} is already in use`, options);
  }
}

/**
 * Binds a TCP server; port 0 lets the OS pick. Resolves with the bound port.
 * `host` undefined means every interface (IPv6 and IPv4 where the OS allows).
 */
export function listenTcp(server: net.Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(err.code === 'EADDRINUSE' || err.code === 'EACCES' ? new PortInUseError(port, { cause: err }) : err);
    };
    const onListening = (): void => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, backlog: 4096 });
  });
}

/** Strips the IPv4-mapped IPv6 prefix so tables show `127.0.0.1`, not `::ffff:127.0.0.1`. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '127.0.0.1';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

import net from 'node:net';

/**
 * A passive observer on the path: a loopback TCP proxy that forwards every
 * byte both ways between its clients and 127.0.0.1:`target`, and keeps a
 * copy of what passed (bounded: the tests send little), so a test can look
 * for plaintext on the wire.
 */
export class TapProxy {
  private readonly seen: Buffer[] = [];
  private seenBytes = 0;
  private readonly sockets = new Set<net.Socket>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  /** Listens on an OS-chosen loopback port and forwards to `target`. */
  static async start(target: number): Promise<TapProxy> {
    let proxy: TapProxy | null = null;
    const server = net.createServer((inbound) => proxy?.forward(inbound, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TapProxy(server, (server.address() as net.AddressInfo).port);
    return proxy;
  }

  /** Everything that passed, both directions, as one buffer. */
  bytes(): Buffer {
    return Buffer.concat(this.seen);
  }

  /** True when `text` (UTF-8) passed in the clear in either direction. */
  saw(text: string): boolean {
    return this.bytes().includes(Buffer.from(text, 'utf8'));
  }

  /** How many bytes passed (both ways). */
  get total(): number {
    return this.seenBytes;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private forward(inbound: net.Socket, target: number): void {
    const outbound = net.connect({ host: '127.0.0.1', port: target });
    for (const [from, to] of [
      [inbound, outbound],
      [outbound, inbound],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        if (this.seenBytes < 64 << 20) this.seen.push(Buffer.from(chunk));
        this.seenBytes += chunk.length;
        to.write(chunk);
      });
      from.on('error', () => undefined);
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}

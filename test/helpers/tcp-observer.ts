import net from 'node:net';

/**
 * A passive observer on the path: a loopback TCP proxy that forwards every
 * byte unchanged, in both directions, and keeps a copy of what it saw. The
 * target may be set after the proxy listens (the address a client advertises
 * must be known before the client starts, its real port only after).
 */
export class TcpObserver {
  private readonly server = net.createServer((socket) => this.relay(socket));
  private readonly sockets = new Set<net.Socket>();
  private readonly seen: Buffer[] = [];
  private target: number | null = null;
  private pending: Array<() => void> = [];

  /** Listens on 127.0.0.1 (an OS-chosen port); forwards to `target` once it is known. */
  static async start(target: number | null = null): Promise<TcpObserver> {
    const observer = new TcpObserver();
    observer.target = target;
    await new Promise<void>((resolve) => observer.server.listen(0, '127.0.0.1', () => resolve()));
    return observer;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Where connections go: `127.0.0.1:<port>`. Connections made before wait for it. */
  forwardTo(port: number): void {
    this.target = port;
    for (const go of this.pending.splice(0)) go();
  }

  /** Everything that crossed the proxy so far, both directions, as one buffer. */
  bytes(): Buffer {
    return Buffer.concat(this.seen);
  }

  /** True when `text` (UTF-8) crossed the proxy in either direction. */
  saw(text: string): boolean {
    return this.bytes().includes(Buffer.from(text, 'utf8'));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(inbound: net.Socket): void {
    this.sockets.add(inbound);
    inbound.pause();
    const connect = (): void => {
      const outbound = net.connect({ host: '127.0.0.1', port: this.target! });
      this.sockets.add(outbound);
      const copy = (from: net.Socket, to: net.Socket): void => {
        from.on('data', (chunk: Buffer) => {
          this.seen.push(Buffer.from(chunk));
          to.write(chunk);
        });
        from.on('end', () => to.end());
        from.on('error', () => to.destroy());
        from.on('close', () => to.destroy());
      };
      copy(inbound, outbound);
      copy(outbound, inbound);
      inbound.resume();
    };
    if (this.target === null) this.pending.push(connect);
    else connect();
  }
}

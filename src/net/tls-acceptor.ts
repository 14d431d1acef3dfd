import type net from 'node:net';
import tls from 'node:tls';
import type { TlsCredentials } from './tls-cert';

/** TLS on a listening port (docs/security.md "Transport"): the credentials and how long a handshake may take. */
export interface ListenerTls {
  /** May still be in the making (a new self-signed certificate): the port is bound meanwhile, connections wait. */
  readonly credentials: TlsCredentials | Promise<TlsCredentials>;
  /** A connection whose handshake is not done by then is dropped (garbage, a truncated handshake). */
  readonly handshakeTimeoutMs: number;
  /** Most handshakes in progress at once; more are dropped at accept, so they never crowd out registered clients. */
  readonly maxPendingHandshakes: number;
}

/**
 * The server side of TLS for every port that speaks it (the chat port,
 * `--ircs-port`, HTTPS on `--http-port`): each accepted TCP socket is wrapped
 * in TLS here, so that handshakes are bounded in time and in number across
 * all those ports together. A socket still shaking hands holds a descriptor
 * but no session, so it is destroyed when its deadline passes (garbage, a
 * truncated handshake), and when too many are pending the oldest is dropped
 * for the newcomer — as the core sheds the oldest unregistered connection —
 * so a flood of silent sockets cannot keep a real client out. Only a
 * finished handshake reaches the listener's handler.
 */
export class TlsAcceptor {
  private secureContext: tls.SecureContext | null = null;
  private readonly ready: Promise<tls.SecureContext>;
  private readonly pending = new Map<tls.TLSSocket, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly options: ListenerTls) {
    this.ready = Promise.resolve(options.credentials).then((credentials) => {
      this.secureContext = tls.createSecureContext({ ...credentials, minVersion: 'TLSv1.2' });
      return this.secureContext;
    });
    this.ready.catch(() => undefined); // the owner awaits the credentials and reports their failure
  }

  /** A `net.Server` connection handler that hands `secured` each socket whose handshake finished in time. */
  handler(secured: (socket: tls.TLSSocket) => void): (raw: net.Socket) => void {
    return (raw) => {
      if (this.closed) return raw.destroy();
      if (this.secureContext !== null) return this.start(raw, this.secureContext, secured);
      this.ready.then(
        (context) => this.start(raw, context, secured),
        () => raw.destroy(),
      );
    };
  }

  /**
   * The server is stopping: handshakes in progress are dropped and new
   * sockets closed at once, so no port's close waits out a handshake deadline.
   */
  close(): void {
    this.closed = true;
    for (const socket of [...this.pending.keys()]) this.drop(socket);
  }

  private start(raw: net.Socket, secureContext: tls.SecureContext, secured: (socket: tls.TLSSocket) => void): void {
    if (raw.destroyed) return;
    if (this.closed) return void raw.destroy();
    if (this.pending.size >= this.options.maxPendingHandshakes) {
      const [oldest] = this.pending.keys();
      if (oldest !== undefined) this.drop(oldest);
    }
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext });
    const deadline = setTimeout(() => this.drop(socket), this.options.handshakeTimeoutMs);
    deadline.unref();
    this.pending.set(socket, deadline);
    socket.on('error', () => undefined); // a failed handshake: the socket is destroyed, nothing else
    socket.once('close', () => this.settle(socket));
    socket.once('secure', () => {
      if (this.settle(socket)) secured(socket);
    });
  }

  private drop(socket: tls.TLSSocket): void {
    this.settle(socket);
    socket.destroy();
  }

  /** Forgets a socket's handshake; false if it was already settled (dropped, closed). */
  private settle(socket: tls.TLSSocket): boolean {
    const deadline = this.pending.get(socket);
    if (deadline === undefined) return false;
    clearTimeout(deadline);
    this.pending.delete(socket);
    return true;
  }
}

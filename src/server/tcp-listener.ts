import net from 'node:net';
import tls from 'node:tls';
import { listenTcp } from '../net/listen';
import type { TlsCredentials } from '../net/tls-cert';
import type { ChatServer } from './chat-server';

/** A ChatServer bound to a TCP port. */
export interface ChatListener {
  /** The bound port (the OS-chosen one when 0 was asked for). */
  readonly port: number;
  /** Closes every connection (`shutting_down`) and frees the port. */
  close(): Promise<void>;
}

/** TLS on the port (docs/security.md "Transport"): the credentials and how long a handshake may take. */
export interface ListenerTls {
  /** May still be in the making (a new self-signed certificate): the port is bound meanwhile, connections wait. */
  readonly credentials: TlsCredentials | Promise<TlsCredentials>;
  /** A connection whose handshake is not done by then is dropped (garbage, a truncated handshake). */
  readonly handshakeTimeoutMs: number;
  /** Most handshakes in progress at once; more are dropped at accept, so they never crowd out registered clients. */
  readonly maxPendingHandshakes: number;
}

/**
 * The thin shell around ChatServer: binds `port` (0 = OS picks) and hands
 * every socket — a TLSSocket once its handshake is done when `tls` is given,
 * a plain TCP socket otherwise — to `handleConnection`. The core never knows
 * which. Rejects with PortInUseError when taken.
 */
export async function listenChatServer(
  chat: ChatServer,
  port: number,
  host?: string,
  secure?: ListenerTls,
): Promise<ChatListener> {
  const server = secure === undefined ? plainServer(chat) : tlsServer(chat, secure);
  server.on('error', () => undefined); // accept errors (EMFILE…) must not crash the process
  const bound = await listenTcp(server, port, host);
  return {
    port: bound,
    close: async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await chat.close();
      await stopped;
    },
  };
}

function plainServer(chat: ChatServer): net.Server {
  return net.createServer({ noDelay: true }, (socket) => chat.handleConnection(socket));
}

/**
 * A TCP server that wraps each socket in TLS itself, so that handshakes are
 * bounded in time and in number: a socket still shaking hands holds a
 * descriptor but no session, so it is destroyed when its deadline passes
 * (garbage, a truncated handshake), and when too many are pending the oldest
 * is dropped for the newcomer — as the core sheds the oldest unregistered
 * connection — so a flood of silent sockets cannot keep a real client out.
 * Only a finished handshake reaches `handleConnection`.
 */
function tlsServer(chat: ChatServer, secure: ListenerTls): net.Server {
  let secureContext: tls.SecureContext | null = null;
  const ready = Promise.resolve(secure.credentials).then((credentials) => {
    secureContext = tls.createSecureContext({ ...credentials, minVersion: 'TLSv1.2' });
    return secureContext;
  });
  ready.catch(() => undefined); // the owner awaits the credentials and reports their failure
  const handshakes = new PendingHandshakes(secure);
  return net.createServer({ noDelay: true }, (raw) => {
    if (secureContext !== null) return handshakes.start(raw, secureContext, (socket) => chat.handleConnection(socket));
    ready.then(
      (context) => handshakes.start(raw, context, (socket) => chat.handleConnection(socket)),
      () => raw.destroy(),
    );
  });
}

/** The sockets still shaking hands, oldest first, each with its deadline. */
class PendingHandshakes {
  private readonly pending = new Map<tls.TLSSocket, NodeJS.Timeout>();

  constructor(private readonly limits: Pick<ListenerTls, 'handshakeTimeoutMs' | 'maxPendingHandshakes'>) {}

  /** Wraps `raw` in a server TLS socket and calls `secured` once its handshake is done in time. */
  start(raw: net.Socket, secureContext: tls.SecureContext, secured: (socket: tls.TLSSocket) => void): void {
    if (raw.destroyed) return;
    if (this.pending.size >= this.limits.maxPendingHandshakes) {
      const [oldest] = this.pending.keys();
      if (oldest !== undefined) this.drop(oldest);
    }
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext });
    const deadline = setTimeout(() => this.drop(socket), this.limits.handshakeTimeoutMs);
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

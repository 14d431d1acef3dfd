import net from 'node:net';
import { listenTcp, normalizeAddress } from '../../net/listen';
import type { TlsAcceptor } from '../../net/tls-acceptor';
import type { ChatServer } from '../../server/chat-server';
import { systemClock, type Clock } from '../../util/clock';
import { IrcSession, type GatewayConfig } from './irc-session';

/** Options of the IRC front door (docs/irc.md). */
export interface IrcGatewayOptions {
  /** Server name in numerics; default `chatapp`. */
  readonly serverName?: string;
  readonly clock?: Clock;
  /** ms of silence before the gateway PINGs a client (default 60 s); no answer within as long closes it. */
  readonly pingMs?: number;
  /** `--ircs-port`: every connection speaks TLS first (the server's certificate, docs/irc.md "TLS"). */
  readonly tls?: TlsAcceptor;
}

/** An IRC gateway bound to a port. */
export interface IrcListener {
  readonly port: number;
  /** Ends every IRC session (guest names released) and frees the port. */
  close(): Promise<void>;
}

const DEFAULT_PING_MS = 60_000;

/**
 * `--irc-port` (and `--ircs-port`, the same over TLS): accepts IRC connections and gives each an IrcSession, a
 * front door to the same ChatServer core (docs/architecture.md "Gateways").
 * Sessions count against the core's own connection limits, since each holds
 * one core connection.
 */
export async function listenIrcGateway(
  chat: ChatServer,
  port: number,
  options: IrcGatewayOptions = {},
  host?: string,
): Promise<IrcListener> {
  const sessions = new Set<IrcSession>();
  const config: GatewayConfig = {
    serverName: options.serverName ?? 'chatapp',
    connect: (link) => chat.handleLink(link),
    limits: chat.limits,
    clock: options.clock ?? systemClock,
    pingMs: options.pingMs ?? DEFAULT_PING_MS,
    createdAt: (options.clock ?? systemClock).now(),
    sessions,
  };
  const accept = (socket: net.Socket): void => {
    const session = new IrcSession(socket, config, normalizeAddress(socket.remoteAddress), (s) => sessions.delete(s));
    sessions.add(session);
  };
  const server = net.createServer({ noDelay: true }, options.tls ? options.tls.handler(accept) : accept);
  server.on('error', () => undefined); // accept errors (EMFILE…) must not crash the process
  const bound = await listenTcp(server, port, host);
  return {
    port: bound,
    close: async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...sessions].map((s) => s.quit('Server shutting down')));
      await stopped;
    },
  };
}

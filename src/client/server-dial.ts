import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { toError } from '../util/errors';
import type { ServerTrust } from './server-trust';

/**
 * Why the client will not talk to a server (docs/usage.md "TLS"): its
 * certificate is not the pinned one, it does not speak TLS although the
 * client does, or it expects TLS from a `--no-tls` client.
 */
export type ServerRefusal = 'identity_changed' | 'not_tls' | 'expects_tls';

/** How the client reaches the server: TLS judged by `trust` (trust on first use), or plain TCP. */
export type ServerTransport = { readonly tls: true; readonly trust: ServerTrust } | { readonly tls: false };

/** What the dialled stream reports before it carries frames. */
export interface DialHandlers {
  /** The stream is ready for frames: connected, and over TLS the handshake is done and the certificate accepted. */
  open(): void;
  /** A certificate was pinned for the first time (the CLI prints the trust line once). */
  trusted(fingerprint: string): void;
  /** The server must not be talked to; the stream is destroyed. */
  refused(refusal: ServerRefusal): void;
  fault(error: Error): void;
}

/**
 * OpenSSL's errors when what came back is not a TLS record (a plain chatapp
 * server sends its JSON `hello` at once): the server does not speak TLS.
 */
const NOT_TLS_CODES = new Set(['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_SSL_PACKET_LENGTH_TOO_LONG']);

/**
 * What a plain client sends first: a ping, answered by any chatapp server,
 * that a TLS server takes for a broken handshake and drops the connection
 * at once — so a plain client meeting a TLS server learns it immediately.
 */
const PLAIN_PROBE = '{"type":"ping"}\n';

/**
 * Opens the stream to the server. `detect` (the first connection, before any
 * registration) treats a plain connection closed before the server said
 * anything as a TLS server; over TLS a reply that is not TLS always means a
 * plain server.
 */
export function dialServer(
  host: string,
  port: number,
  transport: ServerTransport,
  handlers: DialHandlers,
  detect: boolean,
): Duplex {
  return transport.tls ? dialTls(host, port, transport.trust, handlers) : dialPlain(host, port, handlers, detect);
}

function dialTls(host: string, port: number, trust: ServerTrust, handlers: DialHandlers): Duplex {
  const socket = tls.connect({
    host,
    port,
    servername: net.isIP(host) === 0 ? host : undefined,
    rejectUnauthorized: false, // judged below: CA-verified or pinned (docs/security.md "Trust on first use")
    minVersion: 'TLSv1.2',
  }); // TCP_NODELAY: FramedConnection sets it (a TLSSocket passes it on to its TCP handle)
  let secured = false;
  socket.once('secureConnect', () => {
    secured = true;
    try {
      const verdict = trust.check(socket, host, port, (cert) => tls.checkServerIdentity(host, cert) === undefined);
      if (verdict.kind === 'changed') {
        socket.destroy();
        return handlers.refused('identity_changed');
      }
      if (verdict.kind === 'new') handlers.trusted(verdict.fingerprint);
      handlers.open();
    } catch (err) {
      socket.destroy();
      handlers.fault(toError(err)); // e.g. known_servers cannot be written
    }
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (!secured && err.code !== undefined && NOT_TLS_CODES.has(err.code)) handlers.refused('not_tls');
  });
  return socket;
}

function dialPlain(host: string, port: number, handlers: DialHandlers, detect: boolean): Duplex {
  const socket = net.connect({ host, port, noDelay: true });
  let connected = false;
  let heard = false;
  socket.on('data', () => void (heard = true));
  socket.once('connect', () => {
    connected = true;
    if (detect) socket.write(PLAIN_PROBE);
    handlers.open();
  });
  socket.once('close', () => {
    if (detect && connected && !heard) handlers.refused('expects_tls');
  });
  return socket;
}

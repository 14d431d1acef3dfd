import net from 'node:net';
import { listenTcp } from '../net/listen';
import type { TlsAcceptor } from '../net/tls-acceptor';
import type { ChatServer } from './chat-server';

/** A ChatServer bound to a TCP port. */
export interface ChatListener {
  /** The bound port (the OS-chosen one when 0 was asked for). */
  readonly port: number;
  /** Closes every connection (`shutting_down`) and frees the port. */
  close(): Promise<void>;
}

/**
 * The thin shell around ChatServer: binds `port` (0 = OS picks) and hands
 * every socket — a TLSSocket once its handshake is done when `secure` is given,
 * a plain TCP socket otherwise — to `handleConnection`. The core never knows
 * which. Rejects with PortInUseError when taken.
 */
export async function listenChatServer(
  chat: ChatServer,
  port: number,
  host?: string,
  secure?: TlsAcceptor,
): Promise<ChatListener> {
  const accept = (socket: net.Socket): void => chat.handleConnection(socket);
  const server = net.createServer({ noDelay: true }, secure === undefined ? accept : secure.handler(accept));
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

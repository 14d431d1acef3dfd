import net from 'node:net';
import { listenTcp } from '../net/listen';
import type { ChatServer } from './chat-server';

/** A ChatServer bound to a TCP port. */
export interface ChatListener {
  /** The bound port (the OS-chosen one when 0 was asked for). */
  readonly port: number;
  /** Closes every connection (`shutting_down`) and frees the port. */
  close(): Promise<void>;
}

/**
 * The thin TCP shell around ChatServer: binds `port` (0 = OS picks) and hands
 * every socket to `handleConnection`. Rejects with PortInUseError when taken.
 */
export async function listenChatServer(chat: ChatServer, port: number, host?: string): Promise<ChatListener> {
  const server = net.createServer((socket) => chat.handleConnection(socket));
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

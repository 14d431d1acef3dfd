import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ChatServer } from '../../server/chat-server';
import { WsLineStream } from './ws-line-stream';

/**
 * `/ws` (docs/protocol.md "Transport and framing"): each WebSocket carries
 * the same frames as a TCP connection, one per message, and is handed to
 * the same `ChatServer.handleConnection` — same limits, acks and rules. A
 * message over the frame limit closes the socket (1009) before it is read.
 */
export class WsGateway {
  private readonly wss: WebSocketServer;

  constructor(
    private readonly chat: ChatServer,
    maxFrameBytes: number,
  ) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: maxFrameBytes, perMessageDeflate: false });
  }

  /** The HTTP server's `upgrade` handler for `/ws`. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => undefined); // a reset during the handshake must not crash the process
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.chat.handleConnection(new WsLineStream(ws, req.socket.remoteAddress));
    });
  }

  /** Closes the WebSocket server (the connections themselves are closed by the chat server). */
  close(): Promise<void> {
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

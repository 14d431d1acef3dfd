import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';

/** WebSocket close code for "going away" (RFC 6455 §7.4.1): the server ended the session. */
const GOING_AWAY = 1001;

/**
 * One WebSocket as the duplex of JSON lines the server core reads and
 * writes (docs/protocol.md "Transport and framing"): each WebSocket message
 * in is one line (line breaks inside it, JSON whitespace, become spaces, so
 * a message can never be read as two frames); each line out is one message.
 * Reading pauses the socket when the core stops reading, and a write
 * completes only once the socket took it, so the core's outbound bounds
 * (slow readers) hold for browsers as for TCP clients.
 */
export class WsLineStream extends Duplex {
  /** The tail of the last write that did not end with a line break yet. */
  private partial = '';

  constructor(
    private readonly ws: WebSocket,
    /** The client's address, for the per-address limits (docs/security.md). */
    readonly remoteAddress: string | undefined,
  ) {
    super({ allowHalfOpen: false });
    ws.on('message', (data: RawData) => this.onMessage(data));
    ws.on('close', () => {
      this.push(null);
      this.destroy();
    });
    ws.on('error', () => this.destroy());
  }

  private onMessage(data: RawData): void {
    const text = Buffer.isBuffer(data)
      ? data.toString('utf8')
      : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8');
    if (!this.push(`${text.replace(/[\r\n]/g, ' ')}\n`)) this.ws.pause();
  }

  override _read(): void {
    this.ws.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop()!;
    if (lines.length === 0) return done();
    let pending = lines.length;
    const sent = (err?: Error): void => {
      if (err) return done(err);
      if (--pending === 0) done();
    };
    for (const line of lines) this.ws.send(line, sent);
  }

  override _final(done: () => void): void {
    this.ws.close(GOING_AWAY);
    done();
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    done(err);
  }
}

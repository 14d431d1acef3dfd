import type { Duplex } from 'node:stream';
import type { ChatServer } from '../../src/server/chat-server';
import { FrameDecoder } from '../../src/protocol/codec';
import { ServerToClientFrame, type ClientToServerFrame, type ServerRequest } from '../../src/protocol/frames';
import { memoryDuplexPair } from './memory-duplex';
import { signedRegister } from './test-identity';

/** A syntactically valid Ed25519 public key for raw registrations. */
export const KEY = Buffer.alloc(32, 3).toString('base64');

/** A raw-protocol test client on an in-memory stream; every server frame is schema-checked. */
export class RawClient {
  readonly frames: ServerToClientFrame[] = [];
  closed = false;
  /** Answers the server's pings, as a live client does; false plays a frozen one. */
  answersPings = true;
  private readonly waiters: Array<() => void> = [];
  private readonly stream: Duplex;

  constructor(server: ChatServer) {
    const [serverSide, clientSide] = memoryDuplexPair();
    this.stream = clientSide;
    const decoder = new FrameDecoder(ServerToClientFrame, { maxFrameBytes: 1 << 20 }, {
      frame: (f) => {
        if (f.type === 'ping' && this.answersPings) this.send({ type: 'pong' }); // a live client answers (the server may probe it)
        this.frames.push(f);
      },
      error: (e) => { throw new Error(`server sent an invalid frame: ${e.message}`); },
    });
    clientSide.on('data', (chunk: Buffer) => { decoder.push(chunk); this.wake(); });
    clientSide.on('close', () => { this.closed = true; this.wake(); });
    clientSide.on('end', () => { this.closed = true; this.wake(); });
    server.handleConnection(serverSide);
  }

  send(frame: ClientToServerFrame): void {
    this.stream.write(JSON.stringify(frame) + '\n');
  }

  /** Writes raw text as one chunk (several frames in one write, or junk). */
  sendRaw(text: string): void {
    this.stream.write(text);
  }

  /** Resolves once `pred` holds (checked on every arrival); fails fast with what arrived. */
  async until<T>(pred: () => T | undefined | false): Promise<T> {
    const guard = setTimeout(() => this.wake(), 2000);
    const deadline = Date.now() + 2000;
    try {
      for (;;) {
        const value = pred();
        if (value !== undefined && value !== false) return value;
        if (Date.now() >= deadline) throw new Error(`timed out; frames: ${JSON.stringify(this.frames)}`);
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    } finally {
      clearTimeout(guard);
    }
  }

  /** Sends a request and resolves with the reply or error carrying its id. */
  async request(frame: ServerRequest): Promise<ServerToClientFrame> {
    const before = this.frames.length;
    this.send(frame);
    return this.until(() => this.frames.slice(before).find((f) => 'id' in f && f.id === frame.id));
  }

  ofType<T extends ServerToClientFrame['type']>(type: T): Extract<ServerToClientFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ServerToClientFrame, { type: T }> => f.type === type);
  }

  /** The challenge of this connection's `hello` (its first frame, docs/protocol.md). */
  async challenge(): Promise<string> {
    const hello = await this.until(() => this.ofType('hello')[0]);
    return hello.challenge;
  }

  /** Registers `name`, signed with its test identity over this connection's challenge. */
  async register(name: string, port = 5000, id = `reg-${name}`): Promise<ServerToClientFrame> {
    return this.request(signedRegister(await this.challenge(), { name, port, id }));
  }

  /** Acks every group message received so far (cumulative). */
  ackAll(): void {
    const last = this.ofType('group_msg').at(-1);
    if (last) this.send({ type: 'group_ack', group: last.group, seq: last.seq });
  }

  /** Acks each group message as it arrives, like a real client. */
  autoAck(): void {
    this.stream.on('data', () => setImmediate(() => this.ackAll()));
  }

  end(): void {
    this.stream.destroy();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { DirectFrame, ServerToClientFrame } from '../../src/protocol/frames';
import type { ZodType } from 'zod';
import { PROTOCOL_VERSION } from '../../src/protocol/limits';

/**
 * A raw-protocol test client: a real TCP socket to 127.0.0.1 that speaks the
 * wire protocol through src/protocol's codec, or sends any bytes at all. It
 * keeps every frame the server sent (history + waiters, so a frame that
 * arrived before a wait started still counts), answers pings unless told not
 * to, and acks group messages like a well-behaved client. Timeouts in waits
 * are safety nets, never assertions about speed.
 */

export type ServerFrame = ServerToClientFrame;
export type ReplyOrError = Extract<ServerFrame, { type: 'reply' | 'error' }>;

export interface RawClientOptions {
  /** Answer the server's pings (default true). A silent client is dropped by the heartbeat. */
  readonly answerPings?: boolean;
  /** Ack every group_msg at once (default true). */
  readonly autoAck?: boolean;
  /** Largest frame accepted from the server (default 1 MiB). */
  readonly maxFrameBytes?: number;
}

/** Every link still open; closed by `closeAllRawClients` (call it in afterEach/afterAll). */
const live = new Set<RawLink<{ type: string }>>();

let counter = 0;
/** A unique request id for this test process. */
export function nextId(prefix = 'r'): string {
  return `${prefix}${++counter}-${process.pid}`;
}

/** A syntactically valid Ed25519 public key (32 random bytes, base64): the server only stores it. */
export function fakeKey(): string {
  return randomBytes(32).toString('base64');
}

/** Opens a TCP connection to 127.0.0.1:`port`. */
function connectSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * One raw link decoding what the other side sends with `schema`. RawClient
 * (below) adds the client → server requests; `RawLink.direct` speaks to a
 * client's direct-message listener.
 */
export class RawLink<F extends { type: string }> {
  readonly frames: F[] = [];
  /** Decode failures of what the server sent (must stay empty: the server only sends valid frames). */
  readonly badOutput: string[] = [];
  /** Resolves when the socket is fully closed. */
  readonly closed: Promise<void>;
  isClosed = false;
  name: string | null = null;
  private readonly waiters = new Set<() => void>();
  private readonly decoder: FrameDecoder<F>;

  protected constructor(readonly socket: net.Socket, schema: ZodType<F>, protected readonly options: RawClientOptions) {
    this.decoder = new FrameDecoder(schema, { maxFrameBytes: options.maxFrameBytes ?? 1 << 20 }, {
      frame: (f) => this.onFrame(f),
      error: (e) => this.badOutput.push(`${e.code}: ${e.message}`),
    });
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      this.afterRead();
    });
    socket.on('error', () => undefined); // resets are expected in hostile tests
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        live.delete(this);
        this.notify();
        resolve();
      }),
    );
    live.add(this);
  }

  /** A raw link to 127.0.0.1:`port` decoding what the other side sends with `schema`. */
  static async open<T extends { type: string }>(port: number, schema: ZodType<T>, options: RawClientOptions = {}): Promise<RawLink<T>> {
    return new RawLink(await connectSocket(port), schema, options);
  }

  /** A raw link to a client's direct-message listener on 127.0.0.1:`port`. */
  static async direct(port: number, options: RawClientOptions = {}): Promise<RawLink<DirectFrame>> {
    return new RawLink(await connectSocket(port), DirectFrame, options);
  }

  /** Sends one object as a JSON line, as the real codec would; hostile tests send invalid frames too. */
  send(frame: object): void {
    if (!this.socket.destroyed) this.socket.write(Buffer.from(JSON.stringify(frame) + '\n', 'utf8'));
  }

  /** Sends arbitrary bytes. Resolves when they were handed to the kernel (or the socket died). */
  sendRaw(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.socket.writableEnded) return resolve();
      this.socket.write(data, () => resolve());
    });
  }

  /** Waits for the first frame (from index `from` of the history) matching `match`. */
  waitFor(match: (f: F) => boolean, what: string, timeoutMs = 5000, from = 0): Promise<F> {
    return new Promise((resolve, reject) => {
      let next = from; // frames before `next` were already checked by this waiter
      const check = (): boolean => {
        for (; next < this.frames.length; next++) {
          const frame = this.frames[next]!;
          if (!match(frame)) continue;
          done();
          resolve(frame);
          return true;
        }
        if (this.isClosed) {
          done();
          reject(new Error(`${this.label()}: connection closed while waiting for ${what}; got ${this.summary()}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label()}: no ${what} within ${timeoutMs} ms; got ${this.summary()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      const waiter = (): void => void check();
      if (!check()) this.waiters.add(waiter);
    });
  }

  /** Waits until the other side closes the connection; resolves with the error codes it sent. */
  async waitClosed(timeoutMs = 5000): Promise<string[]> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.label()}: still open after ${timeoutMs} ms; got ${this.summary()}`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return this.errorCodes();
  }

  /** Codes of the error frames received, in order. */
  errorCodes(): string[] {
    return this.frames.flatMap((f) => (f.type === 'error' ? [(f as { code?: string }).code ?? '?'] : []));
  }

  close(): void {
    this.socket.destroy();
  }

  protected onFrame(frame: F): void {
    this.frames.push(frame);
    if (frame.type === 'ping' && this.options.answerPings !== false) this.send({ type: 'pong' });
    this.notify();
  }

  /** Called after each chunk read was decoded. */
  protected afterRead(): void {}

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  protected label(): string {
    return this.name ?? 'raw link';
  }

  private summary(): string {
    const interesting = this.frames.filter((f) => f.type !== 'ping' && f.type !== 'pong');
    return JSON.stringify(interesting.slice(-5)).slice(0, 600);
  }
}

/** A raw client → server connection with request helpers; acks group messages once per read. */
export class RawClient extends RawLink<ServerFrame> {
  /** Highest seq per group read in the current chunk: acked once per read, as docs/protocol.md says clients do. */
  private readonly unacked = new Map<string, number>();

  /** Opens a TCP connection to the server on 127.0.0.1:`port`. */
  static async connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    return new RawClient(await connectSocket(port), ServerToClientFrame, options);
  }

  /** Connects and registers as `name`; resolves once the reply and the full table arrived. */
  static async registered(port: number, name: string, options: RawClientOptions = {}): Promise<RawClient> {
    const client = await RawClient.connect(port, options);
    const answer = await client.register(name);
    if (answer.type !== 'reply') throw new Error(`register ${name} failed: ${JSON.stringify(answer)}`);
    await client.waitFor((f) => f.type === 'table' && f.full, `full table for ${name}`);
    return client;
  }

  /** Sends a request frame (an `id` is added) and waits for its reply or error. */
  async request(frame: { type: string } & Record<string, unknown>, timeoutMs = 5000): Promise<ReplyOrError> {
    const id = typeof frame['id'] === 'string' ? frame['id'] : nextId();
    this.send({ ...frame, id });
    return this.answerTo(id, timeoutMs);
  }

  /** The reply or error to request `id`. */
  answerTo(id: string, timeoutMs = 5000): Promise<ReplyOrError> {
    return this.waitFor(
      (f): f is ReplyOrError => (f.type === 'reply' || f.type === 'error') && f.id === id,
      `answer to ${id}`,
      timeoutMs,
    ) as Promise<ReplyOrError>;
  }

  /** Registers as `name` with `key` (default: a random, valid-looking key) and listen port `port`. */
  async register(name: string, key = fakeKey(), port = 1): Promise<ReplyOrError> {
    const answer = await this.request({ type: 'register', v: PROTOCOL_VERSION, name, port, key });
    if (answer.type === 'reply') this.name = name;
    return answer;
  }

  /** Group messages received, in arrival order. */
  groupMessages(group?: string): Array<Extract<ServerFrame, { type: 'group_msg' }>> {
    return this.frames.filter(
      (f): f is Extract<ServerFrame, { type: 'group_msg' }> => f.type === 'group_msg' && (group === undefined || f.group === group),
    );
  }

  protected override onFrame(frame: ServerFrame): void {
    if (frame.type === 'group_msg' && this.options.autoAck !== false) {
      this.unacked.set(frame.group, Math.max(frame.seq, this.unacked.get(frame.group) ?? 0));
    }
    super.onFrame(frame);
  }

  protected override afterRead(): void {
    for (const [group, seq] of this.unacked) this.send({ type: 'group_ack', group, seq });
    this.unacked.clear();
  }

  protected override label(): string {
    return this.name ?? 'raw client';
  }
}

/** Destroys every raw link still open and waits for their sockets to close. */
export async function closeAllRawClients(): Promise<void> {
  const open = [...live];
  for (const c of open) c.close();
  await Promise.all(open.map((c) => c.closed));
}

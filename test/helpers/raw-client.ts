import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { ZodType } from 'zod';
import { FrameDecoder } from '../../src/protocol/codec';
import { DirectFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { PROTOCOL_VERSION } from '../../src/protocol/limits';
import type { ChatServer } from '../../src/server/chat-server';
import { Waiters } from '../../testkit/waiters';
import { memoryDuplexPair } from '../../src/net/memory-duplex';
import { signedRegister } from './test-identity';
import { noteEncryptionKey } from './dm-attacker';
import type { RegistrationSigner } from './test-identity';

/**
 * The one raw-protocol test client: any duplex stream — a real TCP socket to
 * 127.0.0.1, or an in-memory pair into `ChatServer.handleConnection` — that
 * writes frames as given (never checked, so hostile frames can be sent) or any
 * bytes at all, and decodes what comes back with src/protocol's decoder. It
 * keeps every frame received, so a wait also sees frames that arrived before
 * it began; waits are re-checked on each frame and on close, never on a
 * timer, and fail at once on a close or on a frame that does not decode.
 * Timeouts are safety nets, never assertions about speed.
 */

export type ServerFrame = ServerToClientFrame;
export type ReplyOrError = Extract<ServerFrame, { type: 'reply' | 'error' }>;
type Frame<F, T extends string> = Extract<F, { type: T }>;

/** Safety net of every wait here, in ms. */
const WAIT_MS = 5_000;

export interface RawClientOptions {
  /** Answer pings (default true). A silent link is dropped by the heartbeat. */
  readonly answerPings?: boolean;
  /** Ack group messages like a real client, once per batch read (default true). */
  readonly autoAck?: boolean;
  /** Largest frame accepted from the other side (default 1 MiB). */
  readonly maxFrameBytes?: number;
  /**
   * The local address to connect from (default: the kernel's choice, 127.0.0.1).
   * Any 127.x.y.z works on Linux loopback, so one test can attack as several
   * addresses while its real clients stay on 127.0.0.1 (per-address limits).
   */
  readonly localAddress?: string;
  /**
   * Speak TLS to the server (default true, as servers run by default; any
   * certificate is accepted: a raw client is a test tool, not a user). False
   * for a server started with `--no-tls`. Direct and mesh links are plain TCP.
   */
  readonly tls?: boolean;
}

/** Every link still open, destroyed by `closeAllRawClients`. */
const live = new Set<RawLink<{ type: string }>>();

let counter = 0;
/** A request id unique in this test process. */
export function nextId(prefix = 'r'): string {
  return `${prefix}${++counter}-${process.pid}`;
}

/** Opens a TLS connection to 127.0.0.1:`port` (from `localAddress`, if given), resolved once the handshake is done. */
async function connectTls(port: number, localAddress?: string): Promise<tls.TLSSocket> {
  const raw = await connectSocket(port, localAddress);
  raw.on('error', () => undefined); // the TLS socket on top reports it
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ socket: raw, rejectUnauthorized: false });
    socket.once('secureConnect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Opens a TCP connection to 127.0.0.1:`port` (from `localAddress`, if given). */
function connectSocket(port: number, localAddress?: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
    socket.once('connect', () => {
      socket.off('error', reject);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** A raw link decoding what the other side sends with a schema; `RawClient` adds the client → server requests. */
export class RawLink<F extends { type: string }> {
  readonly frames: F[] = [];
  /** What the other side sent that did not decode (must stay empty: the code under test only sends valid frames). */
  readonly badOutput: string[] = [];
  /** Resolves when the stream is fully closed. */
  readonly closed: Promise<void>;
  isClosed = false;
  name: string | null = null;
  protected readonly waiters = new Waiters(() => `${this.label()} got ${this.summary()}`);
  private readonly decoder: FrameDecoder<F>;

  /** Takes over `stream` (any duplex: a socket, one side of an in-memory pair). */
  constructor(
    readonly stream: Duplex,
    schema: ZodType<F>,
    protected readonly options: RawClientOptions = {},
  ) {
    this.decoder = new FrameDecoder(
      schema,
      { maxFrameBytes: options.maxFrameBytes ?? 1 << 20 },
      {
        frame: (f) => this.onFrame(f),
        error: (e) => this.badOutput.push(`${e.code}: ${e.message}`),
      },
    );
    stream.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      this.afterRead();
      this.waiters.notify();
    });
    stream.on('error', () => undefined); // resets are expected in hostile tests
    stream.on('end', () => stream.end()); // the peer closed: close our side too, as a TCP socket does
    this.closed = new Promise((resolve) =>
      stream.once('close', () => {
        this.isClosed = true;
        live.delete(this);
        this.waiters.notify();
        resolve();
      }),
    );
    live.add(this);
  }

  /** A raw TCP link to 127.0.0.1:`port` decoding what the other side sends with `schema`. */
  static async open<T extends { type: string }>(
    port: number,
    schema: ZodType<T>,
    options: RawClientOptions = {},
  ): Promise<RawLink<T>> {
    return new RawLink(await connectSocket(port, options.localAddress), schema, options);
  }

  /** A raw TCP link to a client's direct-message listener on 127.0.0.1:`port`. */
  static direct(port: number, options: RawClientOptions = {}): Promise<RawLink<DirectFrame>> {
    return RawLink.open(port, DirectFrame, options);
  }

  /** Sends one frame as JSON and a newline, exactly as given. */
  send(frame: object): void {
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.write(`${JSON.stringify(frame)}\n`);
  }

  /** Sends frames (JSON and a newline each, exactly as given) in one write, so the other side most likely reads them together. */
  sendBatch(frames: readonly object[]): void {
    if (!this.stream.destroyed && !this.stream.writableEnded)
      this.stream.write(frames.map((f) => `${JSON.stringify(f)}\n`).join(''));
  }

  /** Sends arbitrary bytes. Resolves when they were handed on (or the stream died). */
  sendRaw(data: Buffer | string): Promise<void> {
    return new Promise((resolve) => {
      if (this.stream.destroyed || this.stream.writableEnded) return resolve();
      this.stream.write(data, () => resolve());
    });
  }

  /**
   * Resolves with the value of `probe` once it returns one, re-checked on
   * every frame and on close. Rejects if the link closes (or gets an
   * undecodable frame) while the probe still fails, or after `timeoutMs`.
   */
  until<T>(probe: () => T | undefined | null | false, what = 'a condition', timeoutMs = WAIT_MS): Promise<T> {
    return this.waiters.wait({
      what,
      timeoutMs,
      probe: () => {
        const value = probe();
        return value === undefined || value === null || value === false ? null : { value };
      },
      hopeless: () =>
        this.badOutput.length > 0
          ? `undecodable frame (${this.badOutput[0]})`
          : this.isClosed
            ? 'connection closed'
            : null,
    });
  }

  /** Waits for the first frame (from index `from`) matching `match`. */
  waitFor(match: (f: F) => boolean, what: string, timeoutMs = WAIT_MS, from = 0): Promise<F> {
    return this.until(() => this.frames.slice(from).find(match), what, timeoutMs);
  }

  /** Waits until the other side closes the connection; resolves with the error codes it sent. */
  async waitClosed(timeoutMs = WAIT_MS): Promise<string[]> {
    await this.waiters.wait({
      what: 'the connection to close',
      timeoutMs,
      probe: () => (this.isClosed ? { value: true } : null),
    });
    return this.errorCodes();
  }

  /** Codes of the error frames received, in order. */
  errorCodes(): string[] {
    return this.frames.flatMap((f) => (f.type === 'error' ? [(f as { code?: string }).code ?? '?'] : []));
  }

  /** Frames received of `type`, in order. */
  ofType<T extends F['type']>(type: T): Array<Frame<F, T>> {
    return this.frames.filter((f): f is Frame<F, T> => f.type === type);
  }

  /** Destroys the stream (an abrupt close, like a reset). */
  close(): void {
    this.stream.destroy();
  }

  protected onFrame(frame: F): void {
    this.frames.push(frame);
    if (frame.type === 'ping' && this.options.answerPings !== false) this.send({ type: 'pong' });
  }

  /** Called after each chunk read was decoded. */
  protected afterRead(): void {}

  protected label(): string {
    return this.name ?? 'raw link';
  }

  private summary(): string {
    const interesting = this.frames.filter((f) => f.type !== 'ping' && f.type !== 'pong');
    return (
      JSON.stringify(interesting.slice(-5)).slice(0, 600) +
      (this.badOutput.length > 0 ? `; undecodable: ${this.badOutput.join('; ')}` : '')
    );
  }
}

/** The register fields a test may choose; the rest are filled in. */
export interface RegisterFields {
  /** Default `reg-<name>`. */
  readonly id?: string;
  /** The direct-message port the table will list (default 1: a raw client listens nowhere). */
  readonly port?: number;
  /** Whose key signs the registration: default the test identity of `name` (test-identity.ts). */
  readonly identity?: RegistrationSigner;
  readonly host?: string;
  /** The protocol version to claim (default PROTOCOL_VERSION). */
  readonly v?: number;
  /** Publish the identity's encryption key (default: unless the port is 0, an IRC session's). */
  readonly ekey?: boolean;
}

/** A raw client → server connection with request helpers. */
export class RawClient extends RawLink<ServerFrame> {
  /** Highest seq per group read since the last ack, acked on a zero-delay timer as real clients do (docs/protocol.md). */
  private readonly unacked = new Map<string, number>();
  private ackScheduled = false;
  private acking: boolean;

  constructor(stream: Duplex, options: RawClientOptions = {}) {
    super(stream, ServerToClientFrame, options);
    this.acking = options.autoAck ?? true;
  }

  /** Opens a connection to the server on 127.0.0.1:`port`: TLS unless `options.tls` is false. */
  static async connect(port: number, options: RawClientOptions = {}): Promise<RawClient> {
    const socket =
      options.tls === false
        ? await connectSocket(port, options.localAddress)
        : await connectTls(port, options.localAddress);
    return new RawClient(socket, options);
  }

  /** Connects to `server` over an in-memory stream pair (component tests). */
  static on(server: ChatServer, options: RawClientOptions = {}): RawClient {
    const [serverSide, clientSide] = memoryDuplexPair();
    server.handleConnection(serverSide);
    return new RawClient(clientSide, options);
  }

  /** Connects and registers as `name`; resolves once the reply and the full table arrived. */
  static async registered(port: number, name: string, options: RawClientOptions = {}): Promise<RawClient> {
    const client = await RawClient.connect(port, options);
    const answer = await client.register(name);
    if (answer.type !== 'reply') throw new Error(`register ${name} failed: ${JSON.stringify(answer)}`);
    await client.waitFor((f) => f.type === 'table' && f.full, `full table for ${name}`);
    return client;
  }

  /** Sends a request frame (its `id`, or a fresh one) and waits for its reply or error. */
  request(frame: { type: string } & Record<string, unknown>, timeoutMs = WAIT_MS): Promise<ReplyOrError> {
    const id = typeof frame['id'] === 'string' ? frame['id'] : nextId();
    this.send({ ...frame, id });
    return this.answerTo(id, timeoutMs);
  }

  /** The reply or error to request `id` (sent earlier or later). */
  answerTo(id: string, timeoutMs = WAIT_MS): Promise<ReplyOrError> {
    const answer = (f: ServerFrame): f is ReplyOrError => (f.type === 'reply' || f.type === 'error') && f.id === id;
    return this.until(() => this.frames.find(answer), `answer to ${id}`, timeoutMs);
  }

  /** The challenge of this connection's `hello`, its first frame (docs/protocol.md "Accounts"). */
  async challenge(): Promise<string> {
    return (await this.until(() => this.ofType('hello')[0], 'hello')).challenge;
  }

  /** Registers as `name`, signed over this connection's challenge, and resolves with the answer. */
  async register(name: string, fields: RegisterFields = {}): Promise<ReplyOrError> {
    const { id = `reg-${name}`, port = 1, host, identity, v = PROTOCOL_VERSION, ekey } = fields;
    const frame = {
      ...signedRegister(await this.challenge(), { name, id, port, identity, ...(ekey === undefined ? {} : { ekey }) }),
      v,
      ...(host === undefined ? {} : { host }),
    };
    const answer = await this.request(frame);
    if (answer.type === 'reply') this.name = name;
    return answer;
  }

  /** Group messages received (of `group`, or all), in arrival order. */
  groupMessages(group?: string): Array<Frame<ServerFrame, 'group_msg'>> {
    return this.ofType('group_msg').filter((m) => group === undefined || m.group === group);
  }

  /** Starts (or stops) acking group messages as they arrive. */
  autoAck(on = true): void {
    this.acking = on;
    if (on) this.afterRead();
  }

  /** Acks every group message received so far (cumulatively, per group). */
  ackAll(): void {
    for (const m of this.ofType('group_msg'))
      this.unacked.set(m.group, Math.max(m.seq, this.unacked.get(m.group) ?? 0));
    this.flushAcks();
  }

  protected override onFrame(frame: ServerFrame): void {
    if (frame.type === 'table') for (const entry of frame.clients) noteEncryptionKey(entry);
    if (frame.type === 'group_msg')
      this.unacked.set(frame.group, Math.max(frame.seq, this.unacked.get(frame.group) ?? 0));
    super.onFrame(frame);
  }

  protected override afterRead(): void {
    if (!this.acking || this.ackScheduled || this.unacked.size === 0) return;
    this.ackScheduled = true;
    setImmediate(() => {
      this.ackScheduled = false;
      if (this.acking) this.flushAcks();
    });
  }

  protected override label(): string {
    return this.name ?? 'raw client';
  }

  private flushAcks(): void {
    for (const [group, seq] of this.unacked) this.send({ type: 'group_ack', group, seq });
    this.unacked.clear();
  }
}

/** Destroys every raw link still open and waits for their streams to close. */
export async function closeAllRawClients(): Promise<void> {
  const open = [...live];
  for (const link of open) link.close();
  await Promise.all(open.map((link) => link.closed));
}

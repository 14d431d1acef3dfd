import net from 'node:net';
import tls from 'node:tls';
import { sign } from 'node:crypto';
import { registrationBytes } from '../src/protocol/signing';
import { publishedKey, type BenchIdentity } from './identity';
import { encodeFrame, type DecodeError } from '../src/protocol/codec';
import type { ClientEntry, ServerRequest, ServerToClientFrame } from '../src/protocol/frames';
import { newId } from '../src/protocol/ids';
import { PROTOCOL_VERSION } from '../src/protocol/limits';
import type { BenchRun } from './bench-run';
import { DeliveryDecoder, type GroupMsg } from './delivery-decoder';
import { SendLog } from './loss';
import { clientName, encodeBenchText, nowMs, type BenchTextMeta } from './message-text';
import { ReceiverLedger } from './stats';

/**
 * A lean protocol client for the load generator: registers, joins a group,
 * sends `send_group` within a window of unreplied requests, and acks like a
 * real client (one cumulative `group_ack` per read batch). Receivers count
 * deliveries and latency from the lines they read; nothing is inferred.
 */

interface PendingRequest {
  resolve(frame: Extract<ServerToClientFrame, { type: 'reply' }>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

const REQUEST_TIMEOUT_MS = 30_000;
/** The server's default heartbeat interval: send a ping after this long without sending anything. */
const HEARTBEAT_MS = 1_000;
/** Send times of the deliveries in the read batch being decoded (one process, one batch at a time). */
const batchSentAt: number[] = [];

export interface ClientConfig {
  /** Parse table frames and keep the table (otherwise only their bytes are counted). */
  trackTable: boolean;
  maxFrameBytes: number;
  /** Connect over TLS (the server's default); the certificate is not checked (a benchmark, on loopback). */
  tls: boolean;
}

export class BenchClient {
  readonly ledger = new ReceiverLedger();
  readonly table = new Map<string, ClientEntry>();
  group: string | null = null;
  /** The server replied to this client's `register`. */
  registered = false;
  removed = false;
  closed = false;
  tableBytes = 0;
  tableFrames = 0;
  /** Sender side: messages accepted (reply) and refused (error), unreplied in flight. */
  accepted = 0;
  rejected = 0;
  inflight = 0;
  /** What became of each message number this client sent (the loss accounting's source of truth). */
  readonly sends = new SendLog();
  private sent = 0;
  private sendTotal = 0;
  private window = 0;
  private textSize = 16;
  private sendDone = false;
  /** When the last send_group was written (load-generator ms clock). */
  lastSendAt = 0;
  /** paced: scheduled send times (load-generator ms) not yet sent because the window was full, oldest first. */
  private scheduled: number[] = [];
  private scheduledHead = 0;
  /** Unreplied send_group ids → message number and the time its text carries (sent, or scheduled when paced). */
  private readonly sendIds = new Map<string, { n: number; stampMs: number }>();
  /** The challenge of this connection's `hello` (its first frame), which `register` signs. */
  private gotHello: (challenge: string) => void = () => undefined;
  private readonly hello = new Promise<string>((resolve) => (this.gotHello = resolve));
  private readonly requests = new Map<string, PendingRequest>();
  private out: Buffer[] = [];
  private lastSentAt = Date.now();
  private highestSeq = -1;
  private ackedSeq = -1;
  private readonly decoder: DeliveryDecoder;
  /** Called once when this sender is finished: every message answered, or its connection closed. */
  onSendDone: (() => void) | null = null;

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly socket: net.Socket,
    private readonly run: BenchRun,
    config: ClientConfig,
  ) {
    socket.setNoDelay(true);
    this.decoder = new DeliveryDecoder(
      run.cache,
      { maxFrameBytes: config.maxFrameBytes, strict: run.strictDecode, skipTables: !config.trackTable },
      {
        delivery: (frame, meta) => this.onDelivery(frame, meta),
        frame: (frame, bytes) => this.onFrame(frame, bytes),
        tableBytes: (bytes) => this.onTableBytes(bytes),
        error: (error) => this.onDecodeError(error),
      },
    );
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.onClose());
    run.track(this);
  }

  /** Sends a ping when nothing was sent for a heartbeat interval, like a real client. */
  heartbeat(now: number): void {
    if (this.closed || now - this.lastSentAt < HEARTBEAT_MS) return;
    this.out.push(encodeFrame({ type: 'ping' }));
    this.flush();
  }

  /** Opens a TCP connection to the server on loopback, and resolves once its TLS handshake is done when `config.tls`. */
  static connect(port: number, index: number, name: string, run: BenchRun, config: ClientConfig): Promise<BenchClient> {
    return new Promise((resolve, reject) => {
      const socket = config.tls
        ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.2' })
        : net.connect({ host: '127.0.0.1', port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect timeout for ${name}`));
      }, REQUEST_TIMEOUT_MS);
      socket.once('error', (err: Error) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once(config.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve(new BenchClient(index, name, socket, run, config));
      });
    });
  }

  /** send_group frames written so far. */
  get sentCount(): number {
    return this.sent;
  }

  /** Sends `register`, signed over the connection's `hello` challenge, and resolves on its reply. */
  async register(identity: BenchIdentity, listenPort: number): Promise<void> {
    const challenge = await this.hello;
    const key = identity.keyBase64;
    const sig = sign(null, registrationBytes(challenge, this.name, key), identity.privateKey).toString('base64');
    await this.request({
      type: 'register',
      id: newId(),
      v: PROTOCOL_VERSION,
      name: this.name,
      port: listenPort,
      host: '127.0.0.1',
      key,
      sig,
      ...publishedKey(identity, this.name),
    });
    this.registered = true;
  }

  async createGroup(group: string): Promise<void> {
    await this.request({ type: 'create_group', id: newId(), group });
  }

  async joinGroup(group: string): Promise<void> {
    await this.request({ type: 'join_group', id: newId(), group });
    this.group = group;
  }

  /** Fan-out sender: sends `total` messages keeping at most `window` unreplied. */
  startSending(total: number, window: number, textSize: number): void {
    this.sendTotal = total;
    this.window = window;
    this.textSize = textSize;
    this.topUp();
    this.flush();
    if (total === 0) this.finishSending();
  }

  /**
   * Paced sender: the message scheduled for `scheduledAt` (load-generator ms)
   * goes out now, or as soon as the window has room. Its text carries
   * `scheduledAt`, so its latency counts any wait behind the schedule.
   */
  sendScheduled(scheduledAt: number, window: number, textSize: number): void {
    if (this.closed) return;
    this.window = window;
    this.textSize = textSize;
    this.scheduled.push(scheduledAt);
    this.topUp();
    this.flush();
  }

  /** paced: every scheduled message is sent and answered. */
  get pacedIdle(): boolean {
    return this.closed || (this.scheduledHead === this.scheduled.length && this.inflight === 0);
  }

  /** Closes the connection (a dereg would only add table pushes to the measurement). */
  destroy(): void {
    for (const pending of this.requests.values()) clearTimeout(pending.timer);
    this.requests.clear();
    this.run.untrack(this);
    this.socket.destroy();
  }

  /** Sends while the window has room: scheduled (paced) messages first, then fan-out ones. */
  private topUp(): void {
    while (this.inflight < this.window && !this.closed) {
      let stampMs: number;
      if (this.scheduledHead < this.scheduled.length) {
        stampMs = this.scheduled[this.scheduledHead++]!;
        this.run.sendLag.record(nowMs() - stampMs);
      } else if (this.sent < this.sendTotal) stampMs = nowMs();
      else break;
      const id = newId();
      const n = this.sent++;
      this.sendIds.set(id, { n, stampMs });
      this.sends.noteSent(n);
      this.out.push(
        encodeFrame({ type: 'send_group', id, text: encodeBenchText(this.index, n, this.textSize, stampMs) }),
      );
      this.inflight++;
      this.lastSendAt = nowMs();
    }
    if (this.scheduledHead > 1024 && this.scheduledHead * 2 > this.scheduled.length) {
      this.scheduled = this.scheduled.slice(this.scheduledHead);
      this.scheduledHead = 0;
    }
  }

  private request(frame: ServerRequest): Promise<Extract<ServerToClientFrame, { type: 'reply' }>> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new Error(`${this.name}: connection closed`));
      const timer = setTimeout(() => {
        this.requests.delete(frame.id);
        reject(new Error(`${this.name}: no reply to ${frame.type} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.requests.set(frame.id, { resolve, reject, timer });
      this.out.push(encodeFrame(frame));
      this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    this.decoder.push(chunk);
    if (batchSentAt.length > 0) {
      const readyAt = nowMs();
      this.run.lastDeliveryAt = readyAt;
      for (const sentAt of batchSentAt) this.run.latency.record(readyAt - sentAt);
      batchSentAt.length = 0;
    }
    if (this.highestSeq > this.ackedSeq && this.group !== null) {
      this.ackedSeq = this.highestSeq;
      this.out.push(encodeFrame({ type: 'group_ack', group: this.group, seq: this.highestSeq }));
    }
    this.topUp();
    this.flush();
  }

  private flush(): void {
    if (this.out.length === 0 || this.closed) return;
    this.socket.write(this.out.length === 1 ? this.out[0]! : Buffer.concat(this.out));
    this.out = [];
    this.lastSentAt = Date.now();
  }

  private onDelivery(frame: GroupMsg, meta: BenchTextMeta | null): void {
    this.run.deliveries++;
    if (frame.seq > this.highestSeq) this.highestSeq = frame.seq;
    if (meta === null) return;
    if (frame.from !== clientName(meta.sender)) this.run.fromMismatches++;
    this.run.order.record(frame.seq, meta.sender, meta.n);
    this.ledger.record(meta.sender, meta.n, frame.seq);
    batchSentAt.push(meta.sentAtMs);
  }

  private onFrame(frame: ServerToClientFrame, bytes: number): void {
    switch (frame.type) {
      case 'hello':
        return this.gotHello(frame.challenge);
      case 'reply':
        return this.onReply(frame.id, null);
      case 'error':
        this.run.countError(frame.code);
        return frame.id === undefined ? undefined : this.onReply(frame.id, frame.code);
      case 'table':
        this.onTableBytes(bytes);
        return this.applyTable(frame.full, frame.clients);
      case 'removed':
        this.removed = true;
        this.group = null;
        this.run.removals++;
        return;
      case 'ping':
        this.out.push(encodeFrame({ type: 'pong' }));
        return;
      case 'pong':
      case 'group_msg':
      case 'presence':
      case 'group_deleted':
      case 'list_part':
      case 'receipt':
      case 'saved':
      case 'relayed_dm':
        return;
    }
  }

  private onReply(id: string, errorCode: string | null): void {
    const send = this.sendIds.get(id);
    if (send !== undefined) {
      this.sendIds.delete(id);
      this.inflight--;
      if (errorCode === null) {
        this.run.replyLatency.record(nowMs() - send.stampMs);
        this.accepted++;
        this.sends.noteAccepted(send.n);
      } else {
        this.rejected++;
        this.sends.noteRejected(send.n);
      }
      if (this.accepted + this.rejected === this.sendTotal && this.sent === this.sendTotal) this.finishSending();
      return;
    }
    const pending = this.requests.get(id);
    if (pending === undefined) return;
    this.requests.delete(id);
    clearTimeout(pending.timer);
    if (errorCode === null) pending.resolve({ type: 'reply', id });
    else pending.reject(new Error(`${this.name}: request failed with ${errorCode}`));
  }

  private onTableBytes(bytes: number): void {
    this.tableBytes += bytes;
    this.tableFrames++;
  }

  private applyTable(full: boolean, clients: readonly ClientEntry[]): void {
    if (full) this.table.clear();
    for (const entry of clients) this.table.set(entry.name, entry);
  }

  private onDecodeError(error: DecodeError): void {
    this.run.countError(`decode:${error.code}`);
    if (error.fatal) this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.run.closes++;
    this.run.untrack(this);
    for (const [id, pending] of this.requests) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`${this.name}: connection closed before reply to ${id}`));
    }
    this.requests.clear();
    // Its unanswered sends stay unanswered in `sends` (neither reply nor error came); it can send no more.
    this.sendIds.clear();
    this.inflight = 0;
    this.finishSending();
  }

  private finishSending(): void {
    if (this.sendDone) return;
    this.sendDone = true;
    this.onSendDone?.();
  }
}

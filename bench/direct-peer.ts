import net from 'node:net';
import type { KeyObject } from 'node:crypto';
import { encodeFrame, FrameDecoder } from '../src/protocol/codec';
import type { ErrorCode } from '../src/protocol/errors';
import { DirectFrame } from '../src/protocol/frames';
import { newId } from '../src/protocol/ids';
import type { BenchClient } from './bench-client';
import { openEnvelope, sealEnvelope } from '../src/client/dm-crypto';
import { publicKeyFromBase64, signAck, verifyAck, type BenchIdentity } from './identity';
import { decodeBenchText, encodeBenchText, nowMs } from './message-text';
import { newDeliveryCounts, SenderSequence, type LatencyHistogram } from './stats';

/**
 * Lean direct (peer-to-peer) messaging for the private scenario, per
 * docs/protocol.md: each client listens for `dm` frames, checks recipient,
 * timestamp and the Ed25519 signature against the key the server's table lists
 * for the sender, and answers `dm_ack{id, sig}` signed with its own key. Senders
 * keep a window of unacked dms and count an ack only when its signature verifies.
 */

const MAX_FRAME_BYTES = 65_536;
const MAX_SKEW_MS = 300_000;

/** Shared counters of one private run. */
export class DirectStats {
  readonly counts = newDeliveryCounts();
  readonly errors = new Map<string, number>();
  acked = 0;
  rejected = 0;
  lastAckAt = 0;

  constructor(readonly latency: LatencyHistogram) {}

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

export class DirectPeer {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly fromSender = new Map<string, SenderSequence>();
  private readonly keys = new Map<string, KeyObject>();
  private readonly inbound = new Set<net.Socket>();
  /** This client's server link; its table supplies peers' addresses and keys. */
  link: BenchClient | null = null;
  private outbound: net.Socket | null = null;
  private sent = 0;
  private total = 0;
  private inflight = 0;
  private window = 0;
  private textSize = 16;
  private peerName = '';
  /** The peer's X25519 key from the table: every dm is sealed for it, as a real client does. */
  private peerEkey = '';
  onDone: (() => void) | null = null;

  constructor(
    readonly index: number,
    readonly name: string,
    private readonly identity: BenchIdentity,
    private readonly stats: DirectStats,
  ) {}

  /** Starts the listener on an OS-picked loopback port; resolves with the port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host: '127.0.0.1', port: 0, backlog: 511 }, () => {
        const address = this.server.address();
        resolve(typeof address === 'object' && address ? address.port : 0);
      });
    });
  }

  /** Connects to `peer` (found in `link`'s table) and sends `total` dms keeping `window` unacked. */
  async start(link: BenchClient, peer: string, total: number, window: number, textSize: number): Promise<void> {
    const entry = link.table.get(peer);
    if (entry === undefined) throw new Error(`${this.name}: ${peer} is not in the table`);
    if (entry.ekey === undefined) throw new Error(`${this.name}: ${peer} publishes no encryption key`);
    this.peerName = peer;
    this.peerEkey = entry.ekey;
    this.total = total;
    this.window = window;
    this.textSize = textSize;
    const socket = net.connect({ host: entry.host, port: entry.port });
    socket.setNoDelay(true);
    this.outbound = socket;
    const decoder = new FrameDecoder(
      DirectFrame,
      { maxFrameBytes: MAX_FRAME_BYTES },
      {
        frame: (frame) => {
          if (frame.type === 'dm_ack') this.settle(this.ackVerifies(link, frame.id, frame.sig));
          else if (frame.type === 'error') {
            this.stats.countError(frame.code);
            this.settle(false);
          } else if (frame.type === 'ping') socket.write(encodeFrame({ type: 'pong' }));
        },
        error: (error) => this.stats.countError(`decode:${error.code}`),
      },
    );
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      this.topUp();
    });
    socket.on('error', () => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.topUp();
    if (total === 0) this.onDone?.();
  }

  /** True when the ack of dm `id` is signed by the key the table lists for the peer. */
  private ackVerifies(link: BenchClient, id: string, sig: string): boolean {
    const key = this.keyOf(link, this.peerName);
    return key !== null && verifyAck(key, id, this.name, this.peerName, sig);
  }

  /** The key the server's table lists for `name`, cached. */
  keyOf(link: BenchClient, name: string): KeyObject | null {
    let key = this.keys.get(name);
    if (key === undefined) {
      const entry = link.table.get(name);
      if (entry === undefined) return null;
      key = publicKeyFromBase64(entry.key);
      this.keys.set(name, key);
    }
    return key;
  }

  close(): void {
    this.outbound?.destroy();
    this.server.close();
    for (const socket of this.inbound) socket.destroy();
  }

  private settle(ok: boolean): void {
    this.inflight--;
    if (ok) {
      this.stats.acked++;
      this.stats.lastAckAt = nowMs();
    } else this.stats.rejected++;
    if (this.sent === this.total && this.inflight === 0) this.onDone?.();
  }

  private topUp(): void {
    const out: Buffer[] = [];
    while (this.inflight < this.window && this.sent < this.total) {
      const id = newId();
      const ts = Date.now();
      const text = encodeBenchText(this.index, this.sent, this.textSize);
      const sender = { name: this.name, signingKey: this.identity.privateKey };
      const message = sealEnvelope(sender, { id, from: this.name, to: this.peerName, ts }, this.peerEkey, text);
      out.push(encodeFrame({ type: 'dm', message }));
      this.sent++;
      this.inflight++;
    }
    if (out.length > 0) this.outbound?.write(Buffer.concat(out));
  }

  private accept(socket: net.Socket): void {
    socket.setNoDelay(true);
    this.inbound.add(socket);
    let replies: Buffer[] = [];
    const decoder = new FrameDecoder(
      DirectFrame,
      { maxFrameBytes: MAX_FRAME_BYTES },
      {
        frame: (frame) => {
          if (frame.type === 'dm') replies.push(encodeFrame<DirectFrame>(this.receive(frame)));
          else if (frame.type === 'ping') replies.push(encodeFrame({ type: 'pong' }));
        },
        error: (error) => this.stats.countError(`decode:${error.code}`),
      },
    );
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      if (replies.length > 0) socket.write(Buffer.concat(replies));
      replies = [];
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.inbound.delete(socket));
  }

  /** Checks one dm as a real receiver would and returns the frame to answer with. */
  private receive(dm: Extract<DirectFrame, { type: 'dm' }>): DirectFrame {
    const frame = dm.message;
    const reject = (code: ErrorCode): DirectFrame => {
      this.stats.countError(code);
      return { type: 'error', id: frame.id, code, message: code };
    };
    if (frame.to !== this.name) return reject('wrong_recipient');
    if (Math.abs(Date.now() - frame.ts) > MAX_SKEW_MS) return reject('stale_message');
    const entry = this.link?.table.get(frame.from);
    if (entry === undefined) return reject('unknown_sender');
    const opened = openEnvelope(this.name, this.identity.encryption, entry.key, frame);
    if (!opened.ok) return reject(opened.why === 'undecryptable' ? 'undecryptable' : 'bad_signature');
    const meta = decodeBenchText(opened.text);
    if (meta !== null) {
      let seq = this.fromSender.get(frame.from);
      if (seq === undefined) {
        seq = new SenderSequence();
        this.fromSender.set(frame.from, seq);
      }
      if (seq.record(meta.n, this.stats.counts)) this.stats.latency.record(nowMs() - meta.sentAtMs);
    }
    return { type: 'dm_ack', id: frame.id, sig: signAck(this.identity.privateKey, frame.id, frame.from, this.name) };
  }
}

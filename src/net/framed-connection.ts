import net from 'node:net';
import type { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder, type DecodeError, type EncodedFrame, type WireFrame } from '../protocol/codec';
import { ERROR_CODES, FATAL_CODES, type ErrorCode } from '../protocol/errors';
import type { ControlFrame } from '../protocol/frames';
import { HEARTBEAT_MISSES } from '../protocol/limits';
import type { LinkFrames } from '../protocol/link-frames';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { toError } from '../util/errors';
import { TypedEmitter } from '../util/typed-emitter';
import {
  tickPeriod,
  type CloseInfo,
  type ConnectionEvents,
  type ConnectionLimits,
  type ConnectionState,
  type SessionConnection,
  type SharedFrame,
} from './connection-types';
import { InboundPolicy } from './inbound-policy';
import { sharedTicker, type SharedTicker, type Tickable } from './ticker';
import { scheduleFlush, writeBatch, type Flushable } from './write-batcher';

export type {
  CloseInfo,
  ConnectionEvents,
  ConnectionLimits,
  ConnectionState,
  SessionConnection,
} from './connection-types';

/**
 * Hard cap: queued bytes beyond this multiple of maxOutboundBytes close the
 * connection at once, without waiting out the drain timeout — a reader that
 * far behind will not catch up, and the memory is what the cap protects.
 */
const HARD_CAP_FACTOR = 4;
/**
 * After this side ends the stream, the peer has this long to end its own
 * before the stream is destroyed: ample for a busy loopback peer, short enough
 * that a shutdown (and `closeAndWait`) is prompt when the peer is dead.
 */
const END_GRACE_MS = 1_000;
/** TCP keepalive probe delay: finds a vanished peer on a link whose heartbeat is off. */
const KEEPALIVE_DELAY_MS = 10_000;
const NO_EXEMPTIONS: ReadonlySet<never> = new Set();

/**
 * One framed, bounded, supervised connection over any duplex stream. It owns
 * the decoder, the outbound queue, heartbeat, slowloris and drain deadlines,
 * rate limiting and the error boundary (docs/architecture.md "Graded error
 * handling"). Handlers see only valid `In` frames (ping/pong never reach
 * them); only `Out` frames can be sent. Its owner closes it with `close()`,
 * or `closeAndWait()` to know when the stream is gone.
 */
export class FramedConnection<In extends WireFrame, Out extends WireFrame>
  extends TypedEmitter<ConnectionEvents<In>>
  implements Flushable, Tickable, SessionConnection<In, Out>
{
  private readonly decoder: FrameDecoder<In>;
  private readonly policy: InboundPolicy;
  private readonly ticker: SharedTicker;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private lastReceivedAt: number;
  private lastSentAt: number;
  /** Waiting `probe` calls, told when the peer sends anything. */
  private readonly probes = new Set<() => void>();
  /** When the ticker last swept this connection (a late sweep means this process stalled). */
  private lastTickAt: number;
  private partialSince: number | null = null;
  private congestedSince: number | null = null;
  private framesThisPush = 0;
  private closedLocally = false;
  private phase: ConnectionState = 'open';
  private closeCode: ErrorCode | undefined;
  private closeInfo: CloseInfo | null = null;
  private destroyTimer: TimerHandle | null = null;
  private readingPaused = false;

  /**
   * @param frames what this end reads and may write (protocol/link-frames.ts)
   * @param rateExempt frame types never rate limited. The owner lists its
   *   acknowledgements (`group_ack`, `dm_ack`, `msg_ack`): cheap to handle, and
   *   dropping one would turn a rate limit into "member not responsive" or
   *   "message not delivered" for a message that was in fact received.
   */
  constructor(
    private readonly stream: Duplex,
    frames: LinkFrames<In, Out>,
    private readonly limits: ConnectionLimits,
    private readonly clock: Clock = systemClock,
    private readonly rateExempt: ReadonlySet<In['type']> = NO_EXEMPTIONS,
  ) {
    super();
    this.decoder = new FrameDecoder(frames.receives, limits, {
      frame: (frame) => this.onFrame(frame),
      error: (error) => this.onDecodeError(error),
    });
    this.policy = new InboundPolicy(limits, clock);
    this.lastReceivedAt = this.lastSentAt = this.lastTickAt = clock.now();
    if (stream instanceof net.Socket) {
      stream.setNoDelay(true);
      stream.setKeepAlive(true, KEEPALIVE_DELAY_MS);
    }
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('drain', () => this.onDrain());
    stream.on('error', () => stream.destroy());
    stream.on('close', () => this.onClose());
    stream.on('end', () => this.onPeerEnd());
    // One interval per clock and period sweeps all connections (net/ticker.ts), not one timer each.
    this.ticker = sharedTicker(clock, tickPeriod(limits));
    this.ticker.add(this);
  }

  /** Where the connection is in its life: open, closing, closed (never back). */
  get state(): ConnectionState {
    return this.phase;
  }

  /** True until this side or the peer starts closing: frames can be sent and arrive. */
  get open(): boolean {
    return this.phase === 'open';
  }

  /** True from the start of closing until the stream has closed. */
  get closing(): boolean {
    return this.phase === 'closing';
  }

  /** True once the stream has closed and `close` was emitted. */
  get closed(): boolean {
    return this.phase === 'closed';
  }

  /** Bytes waiting to be written: our queue plus the stream's buffer. */
  get outboundBytes(): number {
    return this.queuedBytes + this.stream.writableLength;
  }

  /** True while the outbound queue is over maxOutboundBytes. */
  get congested(): boolean {
    return this.congestedSince !== null;
  }

  /** The peer's address: a socket's, or one a wrapping stream states (a WebSocket's); undefined in memory. */
  get remoteAddress(): string | undefined {
    if (this.stream instanceof net.Socket) return this.stream.remoteAddress;
    const stated = (this.stream as { remoteAddress?: unknown }).remoteAddress;
    return typeof stated === 'string' ? stated : undefined;
  }

  /** Encodes and queues a frame; it leaves at the end of this event-loop turn. Dropped unless open. */
  send(frame: Out): void {
    this.enqueue(encodeFrame<Out>(frame));
  }

  /** Queues a frame encoded once for several connections (fan-out). Dropped unless open. */
  sendEncoded(bytes: EncodedFrame<Out>): void {
    this.enqueue(bytes);
  }

  /** A shared frame goes as its bytes (encoded by the first connection that needs them). */
  sendShared(shared: SharedFrame<Out>): void {
    if (this.open) this.enqueue(shared.bytes);
  }

  private sendControl(frame: ControlFrame): void {
    this.enqueue(encodeFrame<ControlFrame>(frame));
  }

  private enqueue(bytes: Buffer): void {
    if (!this.open) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (this.queue.length === 1) scheduleFlush(this);
  }

  /** Sends an error frame; fatal codes close the connection after it. */
  sendError(code: ErrorCode, message: string = ERROR_CODES[code], id?: string): void {
    if (!this.open) return;
    this.sendControl(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
    if (FATAL_CODES.has(code)) {
      this.closeCode = code; // so the 'close' event says why, as with close(code)
      this.close();
    }
  }

  /**
   * Writes what is queued now. Called by the write batcher; safe to call any time.
   * The queue is detached before writing, so a frame queued by a listener during
   * the write goes into the next batch rather than being dropped.
   */
  flush(): void {
    const queue = this.queue;
    if (queue.length === 0 || this.stream.destroyed) return;
    const queued = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.lastSentAt = this.clock.now();
    writeBatch(this.stream, queue, queued);
    this.checkCongestion();
  }

  /** Stops reading (flow control); frames already buffered still arrive. */
  pause(): void {
    this.readingPaused = true;
    this.stream.pause();
  }

  resume(): void {
    this.readingPaused = false;
    this.stream.resume();
  }

  /**
   * Ends the connection. With a code, an error frame is sent first. Queued frames
   * are flushed; the stream is destroyed if the peer does not finish closing.
   */
  close(code?: ErrorCode, message?: string): void {
    if (!this.open) return;
    if (code !== undefined) {
      this.sendControl({ type: 'error', code, message: message ?? ERROR_CODES[code] });
      this.closeCode = code;
    }
    this.closedLocally = true;
    this.endStream();
  }

  /**
   * Closes as `close` does (if still open) and resolves once the stream has
   * closed — at most END_GRACE_MS after the end, when a silent peer's stream
   * is destroyed. Resolves at once, with the same info, if already closed.
   */
  closeAndWait(code?: ErrorCode, message?: string): Promise<CloseInfo> {
    if (this.closeInfo !== null) return Promise.resolve(this.closeInfo);
    const closed = new Promise<CloseInfo>((resolve) => this.once('close', resolve));
    this.close(code, message);
    return closed;
  }

  /** Flushes, ends our side, and destroys the stream if the peer does not finish closing. */
  private endStream(): void {
    this.flush();
    this.phase = 'closing';
    this.stream.end();
    this.destroyTimer = this.clock.setTimeout(() => this.stream.destroy(), END_GRACE_MS);
  }

  /** The peer ended its side: finish closing, reported as closed by the peer. */
  private onPeerEnd(): void {
    if (this.open) this.endStream();
  }

  /** Drops the connection at once, without flushing (slow or dead peer). */
  destroy(code?: ErrorCode): void {
    if (this.closed) return;
    this.closeCode ??= code;
    this.phase = 'closing';
    this.closedLocally = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.stream.destroy();
  }

  /**
   * Sends a ping and resolves true as soon as anything arrives from the peer
   * within `ms`, false if nothing does or the connection closes: is the peer
   * still there? (A stale session a returning owner may replace.)
   */
  probe(ms: number): Promise<boolean> {
    if (!this.open) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (alive: boolean): void => {
        this.clock.clearTimeout(timer);
        this.probes.delete(onData);
        this.off('close', onClose);
        resolve(alive);
      };
      const onData = (): void => done(true);
      const onClose = (): void => done(false);
      const timer = this.clock.setTimeout(() => done(false), ms);
      this.probes.add(onData);
      this.once('close', onClose);
      this.sendControl({ type: 'ping' });
    });
  }

  private onData(chunk: Buffer): void {
    // Frames read once closing began are dropped (onFrame), so they are not even decoded:
    // a flooding peer we closed costs no parsing while its bytes drain.
    if (!this.open) return;
    this.lastReceivedAt = this.clock.now();
    for (const alive of [...this.probes]) alive();
    this.framesThisPush = 0;
    this.decoder.push(chunk);
    if (!this.decoder.hasPartialFrame) this.partialSince = null;
    else if (this.partialSince === null || this.framesThisPush > 0) this.partialSince = this.lastReceivedAt;
  }

  private onFrame(frame: In): void {
    this.framesThisPush++;
    if (!this.open) return;
    if (frame.type === 'ping') return this.policy.ping() ? this.sendControl({ type: 'pong' }) : undefined;
    if (frame.type === 'pong') return;
    if (!this.rateExempt.has(frame.type) && !this.policy.frame()) {
      this.emit('rejected', 'rate_limited');
      return this.sendError('rate_limited', ERROR_CODES.rate_limited, 'id' in frame ? frame.id : undefined);
    }
    try {
      this.emit('frame', frame);
    } catch (err) {
      this.emit('fault', toError(err));
      this.close('internal_error');
    }
  }

  private onDecodeError(error: DecodeError): void {
    if (!this.open) return;
    this.emit('rejected', error.code);
    if (error.fatal) return this.close(error.code, error.message);
    if (!this.policy.invalid()) return this.close('too_many_invalid');
    this.sendError(error.code, error.message, error.id);
  }

  private checkCongestion(): void {
    const bytes = this.outboundBytes;
    if (bytes > this.limits.maxOutboundBytes * HARD_CAP_FACTOR) return this.destroy('slow_consumer');
    if (bytes > this.limits.maxOutboundBytes) this.congestedSince ??= this.clock.now();
  }

  private onDrain(): void {
    if (this.congestedSince !== null && this.outboundBytes <= this.limits.maxOutboundBytes) {
      this.congestedSince = null;
      this.emit('drain');
    }
  }

  /** Checks the deadlines and sends a heartbeat when due; called by the shared ticker. */
  tick(now: number): void {
    if (this.closed) return;
    this.forgiveStall(now);
    if (this.readingPaused) {
      // We stopped reading (flow control): silence and an unfinished frame are not the peer's fault.
      this.lastReceivedAt = now;
      if (this.partialSince !== null) this.partialSince = now;
    }
    if (this.congestedSince !== null && now - this.congestedSince > this.limits.drainTimeoutMs) {
      return this.destroy('slow_consumer');
    }
    if (this.partialSince !== null && now - this.partialSince > this.limits.frameTimeoutMs) {
      return this.close('frame_timeout');
    }
    const beat = this.limits.heartbeatMs;
    if (beat > 0 && this.open) {
      if (now - this.lastReceivedAt > beat * HEARTBEAT_MISSES) return this.destroy('heartbeat_timeout');
      if (now - this.lastSentAt >= beat) this.sendControl({ type: 'ping' });
    }
  }

  /**
   * A sweep far later than its period means this process did not run (a long
   * turn, a GC pause, a stopped process): the peer's data may be waiting,
   * unread, in the socket. That time is not the peer's silence, so it is
   * not counted against its heartbeat (docs/architecture.md "Graded error
   * handling").
   */
  private forgiveStall(now: number): void {
    const period = this.ticker.periodMs;
    const stalled = now - this.lastTickAt - period;
    this.lastTickAt = now;
    if (stalled > period) this.lastReceivedAt = Math.min(now, this.lastReceivedAt + stalled);
  }

  private onClose(): void {
    if (this.closed) return;
    this.phase = 'closed';
    this.ticker.remove(this);
    if (this.destroyTimer !== null) this.clock.clearTimeout(this.destroyTimer);
    this.destroyTimer = null;
    this.queue = [];
    this.queuedBytes = 0;
    const byPeer = !this.closedLocally;
    this.closeInfo = this.closeCode === undefined ? { byPeer } : { code: this.closeCode, byPeer };
    this.emit('close', this.closeInfo);
  }
}

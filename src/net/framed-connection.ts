import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { ZodType } from 'zod';
import { encodeFrame, FrameDecoder, type DecodeError } from '../protocol/codec';
import { ERROR_CODES, FATAL_CODES, type ErrorCode } from '../protocol/errors';
import { HEARTBEAT_MISSES, type Limits } from '../protocol/limits';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import { RateLimiter } from './rate-limit';
import { sharedTicker, type SharedTicker, type Tickable } from './ticker';
import { scheduleFlush, writeBatch, type Flushable } from './write-batcher';

export type ConnectionLimits = Pick<
  Limits,
  'maxFrameBytes' | 'maxOutboundBytes' | 'drainTimeoutMs' | 'frameTimeoutMs' | 'maxInvalidFrames'
> & {
  /** 0 disables the heartbeat (no pings, no silence detection). */
  heartbeatMs: number;
  /** 0 disables rate limiting. */
  rateLimitPerSec: number;
  rateBurst: number;
};

/** Why a connection ended. `code` is set when this side closed it for a protocol reason. */
export interface CloseInfo {
  readonly code?: ErrorCode;
  readonly byPeer: boolean;
}

export type ConnectionEvents<In> = {
  frame: [frame: In];
  close: [info: CloseInfo];
  /** A listener threw: the connection is closed with internal_error and the error reported here. */
  fault: [error: Error];
  /** Outbound queue drained below the limit after being congested. */
  drain: [];
};

/**
 * Acknowledgements (`group_ack`, `dm_ack`, `msg_ack`) are never rate limited, like
 * heartbeats: they are cheap to handle, and dropping one would turn a rate limit
 * into "member not responsive" or "message not delivered" for a message that was
 * in fact received.
 */
function isAck(type: string): boolean {
  return type.endsWith('_ack');
}

/** Hard cap: queued bytes beyond this multiple of maxOutboundBytes close the connection at once. */
const HARD_CAP_FACTOR = 4;

/**
 * One framed, bounded, supervised connection over any duplex stream. It owns
 * the decoder, the outbound queue, heartbeat, slowloris and drain deadlines,
 * rate limiting and the error boundary (STYLE §9). Handlers see only valid
 * frames; ping/pong never reach them.
 */
export class FramedConnection<In extends { type: string }> extends TypedEmitter<ConnectionEvents<In>> implements Flushable, Tickable {
  private readonly decoder: FrameDecoder<In>;
  private readonly limiter: RateLimiter | null;
  private readonly ticker: SharedTicker;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private lastReceivedAt: number;
  private lastSentAt: number;
  private partialSince: number | null = null;
  private congestedSince: number | null = null;
  private invalidStreak = 0;
  private framesThisPush = 0;
  private ending = false;
  private closedLocally = false;
  private isClosed = false;
  private closeCode: ErrorCode | undefined;
  private destroyTimer: TimerHandle | null = null;
  private readingPaused = false;

  constructor(
    private readonly stream: Duplex,
    schema: ZodType<In>,
    private readonly limits: ConnectionLimits,
    private readonly clock: Clock = systemClock,
  ) {
    super();
    this.decoder = new FrameDecoder(schema, limits, {
      frame: (frame) => this.onFrame(frame),
      error: (error) => this.onDecodeError(error),
    });
    this.limiter = limits.rateLimitPerSec > 0 ? new RateLimiter(limits.rateLimitPerSec, limits.rateBurst, clock) : null;
    this.lastReceivedAt = this.lastSentAt = clock.now();
    if (stream instanceof net.Socket) {
      stream.setNoDelay(true);
      stream.setKeepAlive(true, 10_000);
    }
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('drain', () => this.onDrain());
    stream.on('error', () => stream.destroy());
    stream.on('close', () => this.onClose());
    stream.on('end', () => this.onPeerEnd());
    const tickMs = Math.max(10, Math.min(limits.heartbeatMs || 1000, limits.frameTimeoutMs / 2, limits.drainTimeoutMs / 2));
    // One interval per clock and period sweeps all connections (net/ticker.ts), not one timer each.
    this.ticker = sharedTicker(clock, tickMs);
    this.ticker.add(this);
  }

  get closed(): boolean {
    return this.isClosed || this.ending;
  }

  /** Bytes waiting to be written: our queue plus the stream's buffer. */
  get outboundBytes(): number {
    return this.queuedBytes + this.stream.writableLength;
  }

  /** True while the outbound queue is over maxOutboundBytes. */
  get congested(): boolean {
    return this.congestedSince !== null;
  }

  get remoteAddress(): string | undefined {
    return this.stream instanceof net.Socket ? this.stream.remoteAddress : undefined;
  }

  /** Encodes and queues a frame; it leaves at the end of this event-loop turn. */
  send(frame: object): void {
    this.sendEncoded(encodeFrame(frame));
  }

  /** Queues pre-encoded bytes (fan-out serializes once for all recipients). */
  sendEncoded(bytes: Buffer): void {
    if (this.closed) return;
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    if (this.queue.length === 1) scheduleFlush(this);
  }

  /** Sends an error frame; fatal codes close the connection after it. */
  sendError(code: ErrorCode, message: string = ERROR_CODES[code], id?: string): void {
    if (this.closed) return;
    this.send(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
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
    if (this.closed) return;
    if (code !== undefined) {
      this.send({ type: 'error', code, message: message ?? ERROR_CODES[code] });
      this.closeCode = code;
    }
    this.closedLocally = true;
    this.endStream();
  }

  /** Flushes, ends our side, and destroys the stream if the peer does not finish closing. */
  private endStream(): void {
    this.flush();
    this.ending = true;
    this.stream.end();
    this.destroyTimer = this.clock.setTimeout(() => this.stream.destroy(), 1000);
  }

  /** The peer ended its side: finish closing, reported as closed by the peer. */
  private onPeerEnd(): void {
    if (!this.closed) this.endStream();
  }

  /** Drops the connection at once, without flushing (slow or dead peer). */
  destroy(code?: ErrorCode): void {
    if (this.isClosed) return;
    this.closeCode ??= code;
    this.ending = true;
    this.closedLocally = true;
    this.queue = [];
    this.queuedBytes = 0;
    this.stream.destroy();
  }

  private onData(chunk: Buffer): void {
    this.lastReceivedAt = this.clock.now();
    this.framesThisPush = 0;
    this.decoder.push(chunk);
    if (!this.decoder.hasPartialFrame) this.partialSince = null;
    else if (this.partialSince === null || this.framesThisPush > 0) this.partialSince = this.lastReceivedAt;
  }

  private onFrame(frame: In): void {
    this.framesThisPush++;
    this.invalidStreak = 0;
    if (this.closed) return;
    if (frame.type === 'ping') return this.send({ type: 'pong' });
    if (frame.type === 'pong') return;
    if (this.limiter && !isAck(frame.type) && !this.limiter.take()) {
      const id = (frame as { id?: unknown }).id;
      return this.sendError('rate_limited', ERROR_CODES.rate_limited, typeof id === 'string' ? id : undefined);
    }
    try {
      this.emit('frame', frame);
    } catch (err) {
      this.emit('fault', err instanceof Error ? err : new Error(String(err)));
      this.close('internal_error');
    }
  }

  private onDecodeError(error: DecodeError): void {
    if (this.closed) return;
    if (error.fatal) return this.close(error.code, error.message);
    this.invalidStreak++;
    if (this.invalidStreak > this.limits.maxInvalidFrames) return this.close('too_many_invalid');
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
    if (this.isClosed) return;
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
    if (beat > 0 && !this.ending) {
      if (now - this.lastReceivedAt > beat * HEARTBEAT_MISSES) return this.destroy('heartbeat_timeout');
      if (now - this.lastSentAt >= beat) this.send({ type: 'ping' });
    }
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.ticker.remove(this);
    if (this.destroyTimer !== null) this.clock.clearTimeout(this.destroyTimer);
    this.destroyTimer = null;
    this.queue = [];
    this.queuedBytes = 0;
    const byPeer = !this.closedLocally;
    this.emit('close', this.closeCode === undefined ? { byPeer } : { code: this.closeCode, byPeer });
  }
}

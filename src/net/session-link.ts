import type { EncodedFrame } from '../protocol/codec';
import { ERROR_CODES, FATAL_CODES, type ErrorCode } from '../protocol/errors';
import { ClientToServerFrame, type ServerToClientFrame } from '../protocol/frames';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';
import { TypedEmitter } from '../util/typed-emitter';
import type { CloseInfo, ConnectionEvents, ConnectionState, SessionConnection, SharedFrame } from './connection-types';
import { RateLimiter } from './rate-limit';
import { sharedTicker, type SharedTicker, type Tickable } from './ticker';
import { scheduleFlush, type Flushable } from './write-batcher';

/** The gateway session at the far end of a SessionLink (an IRC connection). */
export interface LinkPeer {
  /** The frames the core sent since the last call, in order (at most once per event-loop turn). */
  receive(frames: readonly ServerToClientFrame[]): void;
  /** Bytes the peer took and has not yet written to its own client (its send queue). */
  backlogBytes(): number;
  /** The core closed the link; `code` says why when the core closed it for a reason. */
  closed(code: ErrorCode | undefined): void;
}

/** The core's limits a link enforces, as a FramedConnection does. */
export interface SessionLinkLimits {
  readonly maxOutboundBytes: number;
  readonly drainTimeoutMs: number;
  /** Requests per second; over it a request waits (flood control) instead of being refused. 0: no limit. */
  readonly rateLimitPerSec: number;
  readonly rateBurst: number;
}

/** As FramedConnection: a send queue past this multiple of maxOutboundBytes is dropped at once. */
const HARD_CAP_FACTOR = 4;
/** What a frame queued without bytes is counted as until the peer has it. */
const FRAME_ESTIMATE_BYTES = 128;
/** A group message's line beside its text (source, command, channel, tags): what it adds to the send queue. */
const GROUP_MSG_OVERHEAD = 64;
/** Frames that never wait for the rate limit: acks (a late ack would look like a slow member). */
const EXEMPT: ReadonlySet<ClientToServerFrame['type']> = new Set(['group_ack', 'saved_ack', 'relayed_ack']);

/**
 * The direct session seam (docs/architecture.md "Gateways"): an in-process
 * connection between the core's Session and a gateway session. The core
 * sees a SessionConnection like a socket's — frames queued per turn, a send
 * queue with the slow-reader rules (congested over maxOutboundBytes, dropped
 * after drainTimeoutMs congested or past 4×), close events — but the frames
 * go to the peer as objects, once per turn, with no JSON in between. The
 * peer's send queue is its own client's socket, so "behind" means what it
 * means for a TCP client: bytes the client has not taken.
 *
 * The gateway's requests are checked with the client schema as any
 * client's; over the rate limit they wait (flood control), never refused.
 */
export class SessionLink
  extends TypedEmitter<ConnectionEvents<ClientToServerFrame>>
  implements SessionConnection<ClientToServerFrame, ServerToClientFrame>, Flushable, Tickable
{
  private peer: LinkPeer | null = null;
  private queue: ServerToClientFrame[] = [];
  private queuedBytes = 0;
  /**
   * The peer's send queue as it last reported it (after each write, on
   * drain, on every tick): read once per delivery by the fan-out, so it is
   * not asked each time. Between reports the socket only drains, so this
   * never under-counts.
   */
  private peerBacklog = 0;
  /** Requests from the peer not yet handed to the core (paused, or over the rate). */
  private readonly inbound: ClientToServerFrame[] = [];
  private readonly rate: RateLimiter | null;
  private readonly ticker: SharedTicker;
  private phase: ConnectionState = 'open';
  private readingPaused = false;
  private rateTimer = false;
  private congestedSince: number | null = null;
  private closeCode: ErrorCode | undefined;
  private closeInfo: CloseInfo | null = null;

  constructor(
    private readonly limits: SessionLinkLimits,
    private readonly clock: Clock,
  ) {
    super();
    this.rate = limits.rateLimitPerSec > 0 ? new RateLimiter(limits.rateLimitPerSec, limits.rateBurst, clock) : null;
    this.ticker = sharedTicker(clock, Math.max(10, Math.min(1_000, limits.drainTimeoutMs / 2)));
    this.ticker.add(this);
  }

  /** The gateway side attaches once, before the core sends anything it must see. */
  attach(peer: LinkPeer): void {
    this.peer = peer;
  }

  get state(): ConnectionState {
    return this.phase;
  }

  get open(): boolean {
    return this.phase === 'open';
  }

  get closing(): boolean {
    return this.phase === 'closing';
  }

  get closed(): boolean {
    return this.phase === 'closed';
  }

  get outboundBytes(): number {
    return this.queuedBytes + this.peerBacklog;
  }

  get congested(): boolean {
    return this.congestedSince !== null;
  }

  /** In-process: no address (as the in-memory streams before it; loopback limits do not apply). */
  get remoteAddress(): string | undefined {
    return undefined;
  }

  send(frame: ServerToClientFrame): void {
    this.enqueue(frame, FRAME_ESTIMATE_BYTES);
  }

  /** Bytes encoded elsewhere (a table chunk) are decoded here: rare, and the gateway ignores them. */
  sendEncoded(bytes: EncodedFrame<ServerToClientFrame>): void {
    if (!this.open) return;
    this.enqueue(JSON.parse(bytes.toString('utf8')) as ServerToClientFrame, bytes.length);
  }

  /** Fan-out: the object goes on as it is, never encoded for this link. */
  sendShared(shared: SharedFrame<ServerToClientFrame>): void {
    const frame = shared.frame;
    this.enqueue(frame, frame.type === 'group_msg' ? frame.text.length + GROUP_MSG_OVERHEAD : FRAME_ESTIMATE_BYTES);
  }

  sendError(code: ErrorCode, message: string = ERROR_CODES[code], id?: string): void {
    if (!this.open) return;
    this.send(id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message });
    if (FATAL_CODES.has(code)) {
      this.closeCode = code;
      this.close();
    }
  }

  /** Hands this turn's frames to the peer; called by the write batcher. */
  flush(): void {
    if (this.queue.length === 0 || this.peer === null) return;
    const frames = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    this.peer.receive(frames);
    this.checkCongestion();
  }

  /** The peer wrote to its client: past the hard cap it is dropped now, as a socket would be. */
  wrote(): void {
    this.drained(); // a write the socket took at once: no 'drain' event will say so
    this.checkCongestion();
  }

  /** The peer's send queue drained: the core's flow control hears 'drain' once it is under the bound. */
  drained(): void {
    this.peerBacklog = this.peer?.backlogBytes() ?? 0;
    if (this.congestedSince !== null && this.outboundBytes <= this.limits.maxOutboundBytes) {
      this.congestedSince = null;
      this.emit('drain');
    }
  }

  /**
   * A frame from the gateway to the core: a request is checked as any
   * client's and waits while over the rate; an ack (built from the core's
   * own frames) goes straight in.
   */
  deliver(frame: ClientToServerFrame): void {
    if (!this.open) return;
    if (EXEMPT.has(frame.type)) return this.hand(frame);
    const checked = ClientToServerFrame.safeParse(frame);
    if (!checked.success) {
      this.emit('rejected', 'bad_frame');
      const id = 'id' in frame ? frame.id : undefined;
      return this.sendError('bad_frame', checked.error.issues[0]?.message ?? ERROR_CODES.bad_frame, id);
    }
    this.inbound.push(checked.data);
    this.pump();
  }

  pause(): void {
    this.readingPaused = true;
  }

  resume(): void {
    this.readingPaused = false;
    this.pump();
  }

  /** The peer is in this process: it is there while the link is open. */
  probe(_ms: number): Promise<boolean> {
    return Promise.resolve(this.open);
  }

  close(code?: ErrorCode, message?: string): void {
    if (!this.open) return;
    if (code !== undefined) {
      this.send({ type: 'error', code, message: message ?? ERROR_CODES[code] });
      this.closeCode = code;
    }
    this.finish(false);
  }

  closeAndWait(code?: ErrorCode, message?: string): Promise<CloseInfo> {
    if (this.closeInfo !== null) return Promise.resolve(this.closeInfo);
    const closed = new Promise<CloseInfo>((resolve) => this.once('close', resolve));
    this.close(code, message);
    return closed;
  }

  destroy(code?: ErrorCode): void {
    if (this.closed) return;
    this.closeCode ??= code;
    this.queue = [];
    this.queuedBytes = 0;
    this.finish(false);
  }

  /** The gateway session ended: the core sees its client's connection close. */
  peerClosed(): void {
    if (!this.open) return;
    this.queue = [];
    this.queuedBytes = 0;
    this.finish(true);
  }

  tick(now: number): void {
    this.drained(); // a write that completed without a 'drain' event (the socket never passed its high-water mark)
    if (this.congestedSince !== null && now - this.congestedSince > this.limits.drainTimeoutMs)
      this.destroy('slow_consumer');
  }

  private enqueue(frame: ServerToClientFrame, bytes: number): void {
    if (!this.open) return;
    this.queue.push(frame);
    this.queuedBytes += bytes;
    if (this.queue.length === 1) scheduleFlush(this);
  }

  /** Hands waiting requests to the core while reading is on and the rate allows; else retries later. */
  private pump(): void {
    while (this.inbound.length > 0 && !this.readingPaused && this.open) {
      if (this.rate !== null && !this.rate.take()) return this.retryLater();
      this.hand(this.inbound.shift()!);
    }
  }

  private retryLater(): void {
    if (this.rateTimer) return;
    this.rateTimer = true;
    this.clock.setTimeout(
      () => {
        this.rateTimer = false;
        this.pump();
      },
      Math.max(1, Math.ceil(1000 / this.limits.rateLimitPerSec)),
    );
  }

  private hand(frame: ClientToServerFrame): void {
    try {
      this.emit('frame', frame);
    } catch (err) {
      this.emit('fault', toError(err));
      this.close('internal_error');
    }
  }

  private checkCongestion(): void {
    const bytes = this.outboundBytes;
    if (bytes > this.limits.maxOutboundBytes * HARD_CAP_FACTOR) return this.destroy('slow_consumer');
    if (bytes > this.limits.maxOutboundBytes) this.congestedSince ??= this.clock.now();
  }

  /** Closing is over after this turn (nothing to drain in-process): the peer gets what was queued, then the close. */
  private finish(byPeer: boolean): void {
    if (this.phase !== 'open') return;
    this.phase = 'closing';
    this.ticker.remove(this);
    this.inbound.length = 0;
    setImmediate(() => {
      this.flush(); // what was sent before the close (its error frame) still reaches the peer
      this.phase = 'closed';
      this.closeInfo = this.closeCode === undefined ? { byPeer } : { code: this.closeCode, byPeer };
      if (!byPeer) this.peer?.closed(this.closeCode);
      this.emit('close', this.closeInfo);
    });
  }
}

import type { EncodedFrame } from '../protocol/codec';
import type { ErrorCode } from '../protocol/errors';
import type { Limits } from '../protocol/limits';

/** The types of a FramedConnection's API, and how often it checks its deadlines. */

/** The limits one FramedConnection enforces. */
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
  /** An inbound frame was refused here (undecodable, too large, over the rate): what the metrics count. */
  rejected: [code: ErrorCode];
};

/**
 * Where a connection is in its life. `closing`: this side or the peer ended it
 * (or it is being destroyed); nothing more is sent or emitted, but the stream
 * has not closed yet. `closed`: the stream closed and `close` was emitted.
 */
export type ConnectionState = 'open' | 'closing' | 'closed';

/** Deadlines are checked this many times per period, so one is overshot by at most 1/this of it. */
const CHECKS_PER_DEADLINE = 2;
/** Coarsest check when the heartbeat is off: the frame and drain deadlines still need one. */
const IDLE_TICK_MS = 1_000;
/** Finest check, however short the configured deadlines (tests use a few ms): bounds the sweep's CPU. */
const MIN_TICK_MS = 10;

/** How often a connection's deadlines (heartbeat, slowloris, drain) are checked. */
export function tickPeriod(limits: ConnectionLimits): number {
  const perDeadline = Math.min(limits.frameTimeoutMs, limits.drainTimeoutMs) / CHECKS_PER_DEADLINE;
  return Math.max(MIN_TICK_MS, Math.min(limits.heartbeatMs || IDLE_TICK_MS, perDeadline));
}

/**
 * A frame sent to many connections (group fan-out): encoded at most once,
 * the first time a connection asks for its bytes. A socket writes `bytes`;
 * an in-process SessionLink passes `frame` on and never encodes it.
 */
export interface SharedFrame<Out> {
  readonly frame: Out;
  readonly bytes: EncodedFrame<Out>;
}

/**
 * What a server Session needs of its connection (docs/architecture.md
 * "Gateways"): a FramedConnection over a socket, or a SessionLink that hands
 * frames to an in-process gateway session as objects. Both queue what is
 * sent until the end of the event-loop turn and report the same events.
 */
export interface SessionConnection<In, Out> {
  readonly state: ConnectionState;
  readonly open: boolean;
  readonly closing: boolean;
  readonly closed: boolean;
  /** Bytes waiting to reach the peer: the slow-reader rules read this. */
  readonly outboundBytes: number;
  /** True while `outboundBytes` is over maxOutboundBytes (until 'drain'). */
  readonly congested: boolean;
  readonly remoteAddress: string | undefined;
  send(frame: Out): void;
  /** Queues a frame encoded once for several connections. */
  sendEncoded(bytes: EncodedFrame<Out>): void;
  /** Queues a frame shared by several connections (fan-out), as bytes or as the object. */
  sendShared(shared: SharedFrame<Out>): void;
  sendError(code: ErrorCode, message?: string, id?: string): void;
  close(code?: ErrorCode, message?: string): void;
  closeAndWait(code?: ErrorCode, message?: string): Promise<CloseInfo>;
  destroy(code?: ErrorCode): void;
  /** Stops taking frames from the peer (flow control); resume takes them again. */
  pause(): void;
  resume(): void;
  /** Resolves true if the peer shows it is alive within `ms`. */
  probe(ms: number): Promise<boolean>;
  on<K extends keyof ConnectionEvents<In>>(event: K, listener: (...args: ConnectionEvents<In>[K]) => void): this;
  once<K extends keyof ConnectionEvents<In>>(event: K, listener: (...args: ConnectionEvents<In>[K]) => void): this;
  off<K extends keyof ConnectionEvents<In>>(event: K, listener: (...args: ConnectionEvents<In>[K]) => void): this;
}

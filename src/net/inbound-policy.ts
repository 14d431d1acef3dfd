import type { Clock } from '../util/clock';
import { RateLimiter } from './rate-limit';

/** Invalid frames forgiven per second: a client's occasional mistake, never a stream of them. */
const INVALID_REFILL_PER_SEC = 1;

/** The limits InboundPolicy enforces (a subset of ConnectionLimits). */
export interface InboundLimits {
  /** Frames per second (token bucket refill); 0 turns the rate limit off. */
  readonly rateLimitPerSec: number;
  readonly rateBurst: number;
  /** Invalid frames tolerated in a burst; forgiven at one per second. */
  readonly maxInvalidFrames: number;
}

/**
 * How one connection's inbound frames are policed (docs/protocol.md limits,
 * docs/security.md "Invalid frames and floods"). Every frame counts against
 * the rate limit — valid, invalid and pings alike (the owner's exempt acks
 * aside): a request over it is answered `rate_limited`, a ping over it gets
 * no pong. Invalid frames also have their own small bucket that only time
 * refills, so a valid frame in between does not wash a run of invalid ones
 * away: past it the connection is closed (`too_many_invalid`).
 */
export class InboundPolicy {
  private readonly frames: RateLimiter | null;
  private readonly invalids: RateLimiter;

  constructor(limits: InboundLimits, clock: Clock) {
    this.frames = limits.rateLimitPerSec > 0 ? new RateLimiter(limits.rateLimitPerSec, limits.rateBurst, clock) : null;
    this.invalids = new RateLimiter(INVALID_REFILL_PER_SEC, limits.maxInvalidFrames, clock);
  }

  /** A valid frame that is not exempt: true to handle it, false to answer `rate_limited`. */
  frame(): boolean {
    return this.frames === null || this.frames.take();
  }

  /** A ping: answered while within the rate limit, else ignored. */
  ping(): boolean {
    return this.frame();
  }

  /** An invalid (but not fatal) frame: true to answer it with its error, false to close the connection. */
  invalid(): boolean {
    this.frame(); // it costs a token like any other frame
    return this.invalids.take();
  }
}

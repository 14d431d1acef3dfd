import type { FramedConnection } from '../net/framed-connection';
import { RateLimiter } from '../net/rate-limit';
import type { DirectFrame } from '../protocol/frames';
import type { Limits } from '../protocol/limits';
import type { Clock, TimerHandle } from '../util/clock';

/** One end of a direct (client ↔ client) link. */
export type DirectConnection = FramedConnection<DirectFrame, DirectFrame>;

/** Bad verdicts in a row (`bad_signature`, `unknown_sender`, over the verify budget while unproven) that close a link. */
export const MAX_LINK_STRIKES = 3;

/** Why the listener closes a link (sent as the error frame before the close). */
export type LinkCloseCode = 'server_full' | 'idle_timeout' | 'too_many_invalid' | 'rate_limited';

/** What the listener knows about one link another client opened to it. */
export interface InboundLink {
  readonly conn: DirectConnection;
  readonly openedAt: number;
  /** Direct messages this link may send (`directRatePerSec`, `directRateBurst`); null = unlimited. */
  readonly bucket: RateLimiter | null;
  /** When a dm on this link last verified; null until one did (the link is unproven). */
  lastAcceptedAt: number | null;
  /** Bad verdicts in a row. */
  strikes: number;
  /** `rate_limited` refusals by the link's bucket in a row. */
  refusals: number;
  /** Dms admitted and still being checked. */
  inFlight: number;
  /** Set once the link is to be closed: its new frames are ignored, and it closes when none is in flight. */
  condemned: LinkCloseCode | null;
}

/**
 * The direct links other clients hold open to this client's listener
 * (docs/security.md "Listener limits"): at most `maxDirectLinks` — a newcomer
 * past it sheds the link least worth keeping (one that never delivered a
 * message, oldest first; else the one idle longest), so idle or junk links
 * never lock a real sender out; an unproven link is closed
 * `directGreetingTimeoutMs` after it opened (`idle_timeout`; 0 = no deadline);
 * and a link that sends junk signatures or ignores rate refusals is closed.
 */
export class InboundLinks {
  private readonly links = new Set<InboundLink>();
  /** Links closed by us whose peer has not closed its end yet (for at most the connection's end grace). */
  private readonly closing = new Set<DirectConnection>();
  private timer: TimerHandle | null = null;

  constructor(
    private readonly limits: Limits,
    private readonly clock: Clock,
  ) {}

  /** Tracks a new link, shedding another first when at the cap. Null when it was refused (cap of 0). */
  add(conn: DirectConnection): InboundLink | null {
    if (this.limits.maxDirectLinks <= 0) {
      conn.close('server_full');
      return null;
    }
    while (this.links.size >= this.limits.maxDirectLinks) this.shed();
    const link: InboundLink = {
      conn,
      openedAt: this.clock.now(),
      bucket: directBucket(this.limits, this.clock),
      lastAcceptedAt: null,
      strikes: 0,
      refusals: 0,
      inFlight: 0,
      condemned: null,
    };
    this.links.add(link);
    conn.on('close', () => this.links.delete(link));
    if (this.limits.directGreetingTimeoutMs > 0)
      this.timer ??= this.clock.setInterval(() => this.sweep(), sweepPeriod(this.limits));
    return link;
  }

  /**
   * Takes a token from the link's bucket for one dm (checked before anything
   * costly). False when it is empty; after `directRateBurst` refusals in a
   * row the link ignores them and is condemned (`rate_limited`), so a flood
   * costs a burst's worth of frames, not all it sends.
   */
  admit(link: InboundLink): boolean {
    if (link.bucket === null || link.bucket.take()) {
      link.refusals = 0;
      return true;
    }
    if (++link.refusals >= Math.max(1, this.limits.directRateBurst)) this.condemn(link, 'rate_limited');
    return false;
  }

  /** A dm admitted on `link` is being checked; `settled` when its verdict was sent. */
  begin(link: InboundLink): void {
    link.inFlight++;
  }

  settled(link: InboundLink): void {
    if (--link.inFlight === 0 && link.condemned !== null) this.drop(link, link.condemned);
  }

  /** A dm on `link` verified: it is proven, and its strikes are forgiven. */
  accepted(link: InboundLink): void {
    link.lastAcceptedAt = this.clock.now();
    link.strikes = 0;
  }

  /** Counts a bad verdict; at MAX_LINK_STRIKES the link is condemned (`too_many_invalid`). */
  strike(link: InboundLink): void {
    if (++link.strikes >= MAX_LINK_STRIKES) this.condemn(link, 'too_many_invalid');
  }

  get size(): number {
    return this.links.size;
  }

  /** Closes every link and resolves once all are gone (the listener is closing). */
  async closeAll(): Promise<void> {
    this.stop();
    for (const conn of this.closing) conn.destroy(); // closed already; no reason to wait for those peers
    await Promise.all([...this.links].map((link) => link.conn.closeAndWait()));
  }

  private stop(): void {
    if (this.timer !== null) this.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** Marks the link for closing; it closes now, or once the dms in flight on it have their verdicts. */
  private condemn(link: InboundLink, code: LinkCloseCode): void {
    if (link.condemned !== null) return;
    link.condemned = code;
    if (link.inFlight === 0) this.drop(link, code);
  }

  /** Closes unproven links past the greeting deadline; stops the timer when no link is left. */
  private sweep(): void {
    const deadline = this.clock.now() - this.limits.directGreetingTimeoutMs;
    for (const link of [...this.links]) {
      if (link.lastAcceptedAt === null && link.openedAt <= deadline) this.drop(link, 'idle_timeout');
    }
    if (this.links.size === 0) this.stop();
  }

  /** Closes the link least worth keeping: unproven ones first (oldest first), then the longest idle. */
  private shed(): void {
    let victim: InboundLink | null = null;
    for (const link of this.links) {
      if (victim === null || worth(link) < worth(victim)) victim = link;
    }
    if (victim !== null) this.drop(victim, 'server_full');
  }

  /**
   * Closes at once (so a cap check right after sees the room) and stops
   * reading it: a peer that keeps writing into a link we closed is not read
   * any more, so its bytes cost us nothing while the close completes.
   */
  private drop(link: InboundLink, code: LinkCloseCode): void {
    const { conn } = link;
    this.links.delete(link);
    link.condemned ??= code;
    conn.close(code);
    conn.pause();
    if (!conn.closed) {
      this.closing.add(conn);
      conn.once('close', () => this.closing.delete(conn));
    }
  }
}

/** A token bucket of `directRatePerSec` (burst `directRateBurst`); null when the rate is 0 (no limit). */
export function directBucket(limits: Limits, clock: Clock): RateLimiter | null {
  return limits.directRatePerSec > 0 ? new RateLimiter(limits.directRatePerSec, limits.directRateBurst, clock) : null;
}

/** Order for shedding: unproven links rank below every proven one; then older ranks lower. */
function worth(link: InboundLink): number {
  return link.lastAcceptedAt === null ? link.openedAt - Number.MAX_SAFE_INTEGER / 2 : link.lastAcceptedAt;
}

/** The greeting deadline is checked four times per period, at most once a second. */
function sweepPeriod(limits: Limits): number {
  return Math.max(10, Math.min(1_000, Math.floor(limits.directGreetingTimeoutMs / 4)));
}

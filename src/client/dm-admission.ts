import { RateLimiter } from '../net/rate-limit';
import type { Limits } from '../protocol/limits';
import { foldName } from '../protocol/names';
import type { Clock } from '../util/clock';
import { directBucket } from './inbound-links';

/** Sender names whose buckets are kept; past it the oldest is forgotten (a fresh bucket is full). */
const MAX_SENDER_BUCKETS = 1_024;

/**
 * Who may make this client spend a signature check (docs/security.md
 * "Listener limits"). Both checks run before the Ed25519 verify:
 * - per claimed sender name, a token bucket (`directRatePerSec`,
 *   `directRateBurst`); the token taken for a dm whose signature then fails
 *   is given back, so someone claiming to be bob with bad signatures cannot
 *   use up bob's budget;
 * - links that have not yet delivered a message share one verify budget
 *   (`directVerifyPerSec`, burst 2 s worth), so a flood of bad signatures over
 *   fresh links costs at most that many checks a second. Proven links (a real
 *   sender's pooled link) never wait for it.
 */
export class DmAdmission {
  private readonly senders = new Map<string, RateLimiter>();
  private readonly verifyBudget: RateLimiter | null;

  constructor(
    private readonly limits: Limits,
    private readonly clock: Clock,
  ) {
    const rate = limits.directVerifyPerSec;
    this.verifyBudget = rate > 0 ? new RateLimiter(rate, 2 * rate, clock) : null;
  }

  /** True when a dm claiming `from` may be verified now: takes a token of its sender and, on an unproven link, of the verify budget. */
  mayVerify(from: string, proven: boolean): boolean {
    const sender = this.bucketOf(from);
    if (sender !== null && !sender.take()) return false;
    if (proven || this.verifyBudget === null || this.verifyBudget.take()) return true;
    sender?.refund();
    return false;
  }

  /** The dm claiming `from` did not verify: it was not from `from`, so its token goes back. */
  failed(from: string): void {
    this.senders.get(foldName(from))?.refund();
  }

  /** One bucket per name in any case (docs/usage.md "Names"): `Mallory` and `MALLORY` share hers. */
  private bucketOf(from: string): RateLimiter | null {
    const name = foldName(from);
    let bucket = this.senders.get(name);
    if (bucket === undefined) {
      const fresh = directBucket(this.limits, this.clock);
      if (fresh === null) return null;
      bucket = fresh;
      this.senders.set(name, bucket);
      if (this.senders.size > MAX_SENDER_BUCKETS) {
        const oldest = this.senders.keys().next();
        if (!oldest.done) this.senders.delete(oldest.value);
      }
    }
    return bucket;
  }
}

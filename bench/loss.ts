import type { ReceiverLedger, SenderSequence } from './stats';

/**
 * Loss accounting for the group scenarios, per (receiver, sender) pair. Pure,
 * so test/unit/bench-loss.test.ts can drive every rule. What a receiver is
 * owed is decided by the sender's own log of which message numbers the
 * server accepted (a `reply`), never by what other receivers happened to get:
 * nothing is clamped, and a delivery of a message that was not accepted
 * cannot make up for a lost one.
 */

/** Outcome of one send_group, by the message number written in its text. */
const SendState = { InFlight: 1, Accepted: 2, Rejected: 3 } as const;

/** One sender's record of its message numbers 0, 1, 2 … and what became of each. */
export class SendLog {
  private states = new Uint8Array(64);
  private count = 0;
  private acceptedTotal = 0;
  /** acceptedBefore[k] = accepted numbers below k; rebuilt lazily after changes. */
  private prefix: Uint32Array | null = null;

  /** Message numbers handed out so far (sent or queued). */
  get sent(): number {
    return this.count;
  }

  get accepted(): number {
    return this.acceptedTotal;
  }

  /** Marks message `n` as written to the socket. */
  noteSent(n: number): void {
    if (n >= this.states.length) this.grow(n);
    this.states[n] = SendState.InFlight;
    if (n >= this.count) this.count = n + 1;
    this.prefix = null;
  }

  /** The server replied to message `n`: it was published to the group. */
  noteAccepted(n: number): void {
    if (this.states[n] === SendState.Accepted) return;
    this.states[n] = SendState.Accepted;
    this.acceptedTotal++;
    this.prefix = null;
  }

  /** The server refused message `n` (an error), or the connection closed before any answer. */
  noteRejected(n: number): void {
    if (this.states[n] === SendState.Accepted) this.acceptedTotal--;
    this.states[n] = SendState.Rejected;
    this.prefix = null;
  }

  isAccepted(n: number): boolean {
    return n >= 0 && n < this.count && this.states[n] === SendState.Accepted;
  }

  /** Sent messages with neither a reply nor an error. */
  get unanswered(): number {
    let open = 0;
    for (let n = 0; n < this.count; n++) if (this.states[n] === SendState.InFlight) open++;
    return open;
  }

  /** Accepted message numbers below `k`. */
  acceptedBelow(k: number): number {
    const prefix = (this.prefix ??= this.buildPrefix());
    return prefix[Math.max(0, Math.min(k, this.count))]!;
  }

  private buildPrefix(): Uint32Array {
    const prefix = new Uint32Array(this.count + 1);
    for (let n = 0; n < this.count; n++) prefix[n + 1] = prefix[n]! + (this.states[n] === SendState.Accepted ? 1 : 0);
    return prefix;
  }

  private grow(n: number): void {
    let size = this.states.length;
    while (size <= n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.states);
    this.states = next;
  }
}

/** What the loss accounting needs to know about one group member. */
export interface MemberRecord {
  readonly index: number;
  /** Removed from the group or disconnected during the run: it is no longer owed later messages. */
  readonly left: boolean;
  readonly sends: SendLog;
  readonly ledger: ReceiverLedger;
}

/** One member's share of the loss (as receiver or as sender). */
export interface MemberLoss {
  readonly index: number;
  readonly lost: number;
}

export interface LossReport {
  /** Accepted messages owed to members that stayed, summed over (receiver, sender ≠ receiver). */
  readonly expected: number;
  /** Of those, distinct messages the receivers got. */
  readonly delivered: number;
  /** expected − delivered: messages a member that stayed never got. */
  readonly lost: number;
  /** The same for members that were removed or disconnected, reported apart. */
  readonly expectedAtLeft: number;
  readonly deliveredToLeft: number;
  readonly lostToRemoved: number;
  /** Distinct deliveries of messages the sender never saw accepted (the reply was lost, or an error came). */
  readonly deliveredUnaccepted: number;
  /** Members that stayed and missed something, with how much (largest first, at most MAX_LISTED). */
  readonly lostByReceiver: readonly MemberLoss[];
  /** Senders some staying member missed messages of, with how many (largest first, at most MAX_LISTED). */
  readonly lostBySender: readonly MemberLoss[];
  readonly receiversWithLoss: number;
  readonly sendersWithLoss: number;
}

/** Per-member loss lists are cut to this many entries (the counts above are complete). */
export const MAX_LISTED = 10;

/** Counts, for every (receiver, sender) pair, the accepted messages the receiver did and did not get. */
export function lossReport(members: readonly MemberRecord[]): LossReport {
  let expected = 0,
    delivered = 0,
    expectedAtLeft = 0,
    deliveredToLeft = 0,
    unaccepted = 0;
  const byReceiver = new Map<number, number>();
  const bySender = new Map<number, number>();
  for (const receiver of members) {
    for (const sender of members) {
      if (sender === receiver) continue;
      const owed = sender.sends.accepted;
      const seq = receiver.ledger.from(sender.index);
      const got = seq === undefined ? 0 : acceptedReceived(seq, sender.sends);
      if (seq !== undefined) unaccepted += distinctReceived(seq) - got;
      if (receiver.left) {
        expectedAtLeft += owed;
        deliveredToLeft += got;
        continue;
      }
      expected += owed;
      delivered += got;
      if (got < owed) {
        byReceiver.set(receiver.index, (byReceiver.get(receiver.index) ?? 0) + owed - got);
        bySender.set(sender.index, (bySender.get(sender.index) ?? 0) + owed - got);
      }
    }
  }
  return {
    expected,
    delivered,
    lost: expected - delivered,
    expectedAtLeft,
    deliveredToLeft,
    lostToRemoved: expectedAtLeft - deliveredToLeft,
    deliveredUnaccepted: unaccepted,
    lostByReceiver: worst(byReceiver),
    lostBySender: worst(bySender),
    receiversWithLoss: byReceiver.size,
    sendersWithLoss: bySender.size,
  };
}

/** Accepted messages of `sends` that `seq` holds: those below its high mark minus its accepted gaps. */
function acceptedReceived(seq: SenderSequence, sends: SendLog): number {
  let got = sends.acceptedBelow(seq.expectedNext);
  for (const n of seq.missingNumbers()) if (sends.isAccepted(n)) got--;
  return got;
}

function distinctReceived(seq: SenderSequence): number {
  return seq.expectedNext - seq.gaps;
}

function worst(losses: ReadonlyMap<number, number>): MemberLoss[] {
  return [...losses]
    .map(([index, lost]) => ({ index, lost }))
    .sort((a, b) => b.lost - a.lost || a.index - b.index)
    .slice(0, MAX_LISTED);
}

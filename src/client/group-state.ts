import type { Clock, TimerHandle } from '../util/clock';

/** Sends one cumulative `group_ack{group, seq}`. */
export type GroupAckSender = (group: string, seq: number) => void;

/**
 * Group-mode bookkeeping on the client: the current group, the highest `seq`
 * seen per group (so each `(group, seq)` is shown once, docs/protocol.md
 * "Group delivery" step 4), and batched cumulative acks: every frame read in
 * one turn is acked by a single `group_ack` per group, sent on a zero-delay
 * timer so it leaves well inside the server's ack timeout.
 */
export class GroupState {
  private currentGroup: string | null = null;
  private readonly highest = new Map<string, number>();
  private readonly unacked = new Map<string, number>();
  private flushTimer: TimerHandle | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly sendAck: GroupAckSender,
  ) {}

  /** The group this client is in, or null in normal mode. */
  get current(): string | null {
    return this.currentGroup;
  }

  /** Enters (`group`) or leaves (null) group mode. */
  setCurrent(group: string | null): void {
    this.currentGroup = group;
  }

  /**
   * Records a `group_msg` and schedules its ack. Returns true when it is new
   * and should be shown; a repeated or older seq is acked again but not shown.
   */
  receive(group: string, seq: number): boolean {
    const seen = this.highest.get(group) ?? -1;
    const fresh = seq > seen;
    if (fresh) this.highest.set(group, seq);
    const ack = Math.max(seq, this.unacked.get(group) ?? -1);
    this.unacked.set(group, ack);
    this.flushTimer ??= this.clock.setTimeout(() => this.flush(), 0);
    return fresh;
  }

  /** Sends the pending cumulative acks now (one per group). */
  flush(): void {
    this.cancelTimer();
    const batch = [...this.unacked];
    this.unacked.clear();
    for (const [group, seq] of batch) this.sendAck(group, seq);
  }

  /**
   * A new server connection: acks owed to the old connection are dropped. The
   * seen marks stay: a group's seq keeps counting across connections and
   * server restarts (docs/protocol.md "Group history"), and a re-join asks for
   * what came after them.
   */
  resetSession(): void {
    this.unacked.clear();
    this.cancelTimer();
  }

  /** The highest seq of `group` this client has seen (or was told it joined at), if any. */
  lastSeen(group: string): number | undefined {
    return this.highest.get(group);
  }

  /** The group's messages up to `seq` were shown (or predate joining): later ones are new. */
  noteSeen(group: string, seq: number): void {
    if (seq > (this.highest.get(group) ?? -1)) this.highest.set(group, seq);
  }

  /** `group` was deleted: a new group of that name numbers its messages afresh. */
  forget(group: string): void {
    this.highest.delete(group);
  }

  /** Cancels the pending flush timer. */
  close(): void {
    this.unacked.clear();
    this.cancelTimer();
  }

  private cancelTimer(): void {
    if (this.flushTimer !== null) this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }
}

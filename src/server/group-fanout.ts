import { encodeFrame } from '../protocol/codec';
import type { Clock, TimerHandle } from '../util/clock';
import { AckWindow } from './ack-window';
import type { Session } from './session';

/** What the fan-out needs from the server around it. */
export interface FanoutHost {
  /** Current members of `group` (an immutable, copy-on-write snapshot). */
  membersOf(group: string): readonly string[] | undefined;
  /** The online session registered as `name`. */
  sessionOf(name: string): Session | undefined;
  /** A counter bumped whenever the name → session map changes. */
  sessionsEpoch(): number;
  /** `name` did not ack a message of `group` in time: remove it (SPEC §4). */
  onUnresponsive(name: string, group: string): void;
}

interface Recipient {
  readonly name: string;
  readonly session: Session;
  readonly window: AckWindow;
}

/** Per-group delivery state: sequence, recipients with ack windows, one timer, flow control. */
interface Channel {
  readonly group: string;
  seq: number;
  readonly members: Map<string, Recipient>;
  recipients: readonly Recipient[];
  source: readonly string[] | null;
  sourceEpoch: number;
  timer: TimerHandle | null;
  /** Recipients whose outbound queue is over maxOutboundBytes; each leaves on 'drain' or close. */
  readonly congested: Set<Session>;
  /** Recipients whose unacked backlog is too long or too old; each leaves from `ack()` (or removal). */
  readonly backlogged: Set<Session>;
  readonly pausedSenders: Set<Session>;
}

/** Flow-control thresholds of the unacked backlog (docs/architecture.md "Flow control and memory bounds"). */
export interface BacklogLimits {
  /** A recipient with more unacked messages than this is congested; released under half. */
  readonly maxUnacked: number;
  /**
   * Unacked deliveries a whole group may have in flight: in a large group the
   * per-member bound is this ÷ members (at least 16), so in-flight memory and
   * the time to catch up after a hold do not grow with group size.
   */
  readonly maxGroupUnacked: number;
  /** A recipient whose oldest unacked message is older than this (ms) is congested; released under half. */
  readonly maxUnackedAgeMs: number;
}

/**
 * Default backlog bounds: 2,048 messages per member (≈ 200 KiB of 16 B texts),
 * 262,144 per group, ackTimeoutMs / 4. Measured (docs/benchmarks.md): 1,024 /
 * 131,072 held 100 members at window 8 often enough to cost ~15 % of throughput.
 */
export function defaultBacklogLimits(ackTimeoutMs: number): BacklogLimits {
  return { maxUnacked: 2048, maxGroupUnacked: 262_144, maxUnackedAgeMs: Math.max(1, Math.floor(ackTimeoutMs / 4)) };
}

/**
 * Group message fan-out (SPEC §4, docs/protocol.md "Group delivery"). Each
 * message gets the group's next seq, is encoded once, and is queued to every
 * other member from a synchronous snapshot. Acks are cumulative; each member
 * has an AckWindow of outstanding (seq, sentAt), and each group has at most one
 * timer, armed at the earliest deadline. A member over its deadline is reported
 * once through `onUnresponsive`. Flow control: while any recipient of a group
 * is congested, senders to that group stop being read until it drains or goes.
 * A recipient is congested when its outbound queue is over maxOutboundBytes
 * (until 'drain') or when its unacked backlog is over BacklogLimits (until an
 * ack brings it under half). Acks are end to end, so the second sees every
 * buffer on the way, the kernel's socket buffers included — which on loopback
 * hold several MiB before the outbound queue moves. A held sender's requests
 * wait, but its connection is still read, so its acks keep arriving.
 */
export class GroupFanout {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly host: FanoutHost,
    private readonly clock: Clock,
    private readonly ackTimeoutMs: number,
    /** A recipient with more than this queued counts as congested (FramedConnection's limit). */
    private readonly maxOutboundBytes: number,
    private readonly backlog: BacklogLimits = defaultBacklogLimits(ackTimeoutMs),
  ) {}

  /** Sends `text` from `from` to every other member of `group`; returns its seq. */
  publish(group: string, from: Session & { name: string }, text: string): number {
    const ch = this.channel(group);
    const seq = ++ch.seq;
    const bytes = encodeFrame({ type: 'group_msg', group, seq, from: from.name, text });
    const now = this.clock.now();
    let sent = false;
    for (const r of this.recipientsOf(ch)) {
      if (r.session === from || r.window.dead || r.session.conn.closed) continue;
      r.session.conn.sendEncoded(bytes);
      r.window.push(seq, now);
      sent = true;
      // Our queue counts too: a whole turn of fan-out may sit there before the flush.
      if (r.session.conn.outboundBytes > this.maxOutboundBytes) this.noteCongested(ch, r.session);
      if (this.overBacklog(ch, r, now, 1)) this.noteBacklogged(ch, r.session);
    }
    if (sent && ch.timer === null) this.arm(ch, this.ackTimeoutMs);
    if (this.blocked(ch) && !ch.pausedSenders.has(from)) {
      ch.pausedSenders.add(from); // its next requests wait; its acks are still read
      from.pause('flow');
    }
    return seq;
  }

  /** Cumulative ack from `name` for every message of `group` up to `seq`. */
  ack(group: string, name: string, seq: number): void {
    const ch = this.channels.get(group);
    const r = ch?.members.get(name);
    if (!ch || !r) return;
    r.window.ackUpTo(seq);
    // Hysteresis: released once the backlog is under half of either bound.
    if (ch.backlogged.has(r.session) && !this.overBacklog(ch, r, this.clock.now(), 0.5)) {
      ch.backlogged.delete(r.session);
      this.resumeIfClear(ch);
    }
  }

  /** `name` left `group`: forget its outstanding deliveries and any flow-control hold. */
  forget(group: string, name: string): void {
    const ch = this.channels.get(group);
    if (!ch) return;
    const r = ch.members.get(name);
    ch.members.delete(name);
    ch.source = null;
    if (!r) return;
    if (ch.pausedSenders.delete(r.session)) r.session.resume('flow');
    this.release(ch, r.session);
  }

  /** Deliveries sent and not yet acked, over every group and member still tracked (stats only: O(members)). */
  unackedDeliveries(): number {
    let total = 0;
    for (const ch of this.channels.values()) for (const r of ch.members.values()) if (!r.window.dead) total += r.window.outstanding;
    return total;
  }

  /** Stops every timer (server shutdown). */
  close(): void {
    for (const ch of this.channels.values()) {
      if (ch.timer !== null) this.clock.clearTimeout(ch.timer);
      ch.timer = null;
    }
  }

  private channel(group: string): Channel {
    let ch = this.channels.get(group);
    if (!ch) {
      ch = {
        group, seq: 0, members: new Map(), recipients: [], source: null, sourceEpoch: -1,
        timer: null, congested: new Set(), backlogged: new Set(), pausedSenders: new Set(),
      };
      this.channels.set(group, ch);
    }
    return ch;
  }

  /** The recipients, rebuilt only when the member snapshot or the session map changed. */
  private recipientsOf(ch: Channel): readonly Recipient[] {
    const names = this.host.membersOf(ch.group) ?? [];
    if (names === ch.source && this.host.sessionsEpoch() === ch.sourceEpoch) return ch.recipients;
    const next = new Map<string, Recipient>();
    for (const name of names) {
      const session = this.host.sessionOf(name);
      if (!session) continue;
      const old = ch.members.get(name);
      next.set(name, old && old.session === session ? old : { name, session, window: new AckWindow() });
    }
    ch.members.clear();
    for (const [name, r] of next) ch.members.set(name, r);
    ch.recipients = [...next.values()];
    ch.source = names;
    ch.sourceEpoch = this.host.sessionsEpoch();
    return ch.recipients;
  }

  private arm(ch: Channel, ms: number): void {
    ch.timer = this.clock.setTimeout(() => this.check(ch), Math.max(1, ms));
  }

  /** Timer: report members past their deadline, re-arm at the next earliest one. */
  private check(ch: Channel): void {
    ch.timer = null;
    const now = this.clock.now();
    let next = Infinity;
    const late: Recipient[] = [];
    for (const r of ch.members.values()) {
      if (r.window.dead || r.session.conn.closed) continue;
      const sentAt = r.window.oldestSentAt();
      if (sentAt === undefined) continue;
      const since = this.excused(r.session) ? now : Math.max(sentAt, r.session.resumedAt);
      const deadline = since + this.ackTimeoutMs;
      if (deadline <= now) late.push(r);
      else next = Math.min(next, deadline);
    }
    if (next !== Infinity) this.arm(ch, next - now);
    for (const r of late) {
      r.window.dead = true; // SPEC §4: no further deliveries, reported once
      this.release(ch, r.session);
      this.host.onUnresponsive(r.name, ch.group);
    }
  }

  private noteCongested(ch: Channel, session: Session): void {
    if (ch.congested.has(session)) return;
    const was = this.blocked(ch);
    ch.congested.add(session);
    if (!was) this.holdMembers(ch);
    const drained = (): void => {
      session.conn.off('drain', drained);
      session.conn.off('close', closed);
      if (ch.congested.delete(session)) this.resumeIfClear(ch); // its backlog, if any, still holds
    };
    const closed = (): void => {
      drained();
      this.release(ch, session);
    };
    session.conn.on('drain', drained);
    session.conn.on('close', closed);
    // After this turn's flush: if the bytes went straight to the kernel there will be no 'drain'.
    setImmediate(() => {
      if (!session.conn.congested) drained();
    });
  }

  /**
   * True when `r`'s unacked backlog is over `scale` × the bounds. Its age runs
   * on the same fair clock as the ack deadline (check): not while we are not
   * reading from it, and only from when we resumed.
   */
  private overBacklog(ch: Channel, r: Recipient, now: number, scale: number): boolean {
    const perGroup = Math.max(16, Math.floor(this.backlog.maxGroupUnacked / Math.max(1, ch.recipients.length)));
    if (r.window.outstanding > Math.min(this.backlog.maxUnacked, perGroup) * scale) return true;
    const sentAt = r.window.oldestSentAt();
    if (sentAt === undefined || this.excused(r.session)) return false;
    return now - Math.max(sentAt, r.session.resumedAt) > this.backlog.maxUnackedAgeMs * scale;
  }

  /** `session`'s backlog is too long: the group's senders are held back until it acks. */
  private noteBacklogged(ch: Channel, session: Session): void {
    if (ch.backlogged.has(session)) return;
    const was = this.blocked(ch);
    ch.backlogged.add(session);
    if (!was) this.holdMembers(ch);
  }

  /**
   * The group just became blocked: every member is held at once, not at its
   * next message — with hundreds of members, one more message from each is
   * hundreds of thousands of deliveries.
   */
  private holdMembers(ch: Channel): void {
    for (const r of ch.recipients) {
      if (r.window.dead || ch.pausedSenders.has(r.session)) continue;
      ch.pausedSenders.add(r.session);
      r.session.pause('flow');
    }
  }

  /**
   * Its acks are not late while we are not reading from it: its own queue
   * of requests is long and the server has not got to it. Unless flow
   * control holds that queue: then it is long because the member kept
   * sending far past its replies, and its acks count.
   */
  private excused(session: Session): boolean {
    return session.paused && !session.held;
  }

  private blocked(ch: Channel): boolean {
    return ch.congested.size > 0 || ch.backlogged.size > 0;
  }

  /** A congested recipient drained, or a recipient went away; when none is left, senders are read again. */
  private release(ch: Channel, session: Session): void {
    const was = ch.congested.delete(session);
    if (ch.backlogged.delete(session) || was) this.resumeIfClear(ch);
  }

  private resumeIfClear(ch: Channel): void {
    if (this.blocked(ch)) return;
    const senders = [...ch.pausedSenders];
    ch.pausedSenders.clear();
    for (const sender of senders) sender.resume('flow');
  }
}

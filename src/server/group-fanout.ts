import { encodeFrame, type EncodedFrame } from '../protocol/codec';
import type { HistoryEntry, ServerToClientFrame } from '../protocol/frames';
import type { Clock, TimerHandle } from '../util/clock';
import { AckWindow } from './ack-window';
import type { Session } from './session';
import type { SharedFrame } from '../net/connection-types';

/**
 * A frame for every recipient: encoded once, when the first socket needs its
 * bytes — a group whose members are all in-process gateway sessions
 * (SessionLink) never encodes it.
 */
class GroupBytes implements SharedFrame<ServerToClientFrame> {
  private encoded: EncodedFrame<ServerToClientFrame> | null = null;

  constructor(readonly frame: ServerToClientFrame) {}

  get bytes(): EncodedFrame<ServerToClientFrame> {
    return (this.encoded ??= encodeFrame<ServerToClientFrame>(this.frame));
  }
}

function encodeGroupMessage(group: string, seq: number, from: string, text: string): GroupBytes {
  return new GroupBytes({ type: 'group_msg', group, seq, from, text });
}

/** A session with a name: a group member. */
type Member = Session & { readonly name: string };

/** Why the fan-out gave up on a member. */
export type DropReason = 'unresponsive' | 'slow';

/** What the fan-out tells the server around it. */
export interface FanoutHost {
  /**
   * `session` did not ack a message of `group` in time ('unresponsive'), or
   * fell too far behind the group ('slow'): remove it (docs/usage.md, group mode).
   */
  onUnresponsive(session: Member, group: string, reason: DropReason): void;
  /** `count` group messages were queued to members (metrics). */
  onDelivered?(count: number): void;
  /** A member's cumulative ack covered deliveries, the oldest sent `latencyMs` ago (metrics). */
  onAcked?(latencyMs: number): void;
}

interface Recipient {
  readonly name: string;
  readonly session: Member;
  readonly window: AckWindow;
  /** The highest seq sent to it: a message reaching it twice (history and live) goes once. */
  lastSent: number;
  /** While it catches up from the history: live messages wait here, in seq order (null once live). */
  held: Array<{ readonly seq: number; readonly bytes: GroupBytes }> | null;
}

/** Per-group delivery state: sequence, recipients with ack windows, one timer, flow control. */
interface Channel {
  readonly group: string;
  seq: number;
  readonly members: Map<string, Recipient>;
  /** The members as an array for the hot loop; rebuilt (copy-on-write) when one joins or leaves. */
  recipients: readonly Recipient[];
  timer: TimerHandle | null;
  /** When `timer` is due: a check that runs far later than this ran after a stall of this process. */
  due: number;
  /** Recipients whose outbound queue is over maxOutboundBytes; each leaves on 'drain' or close. */
  readonly congested: Set<Session>;
  /** Recipients whose unacked backlog is over the soft bound; each leaves from `ack()` (or removal). */
  readonly backlogged: Set<Session>;
  readonly pausedSenders: Set<Session>;
}

/** A check later than ackTimeoutMs ÷ this means the process stalled (see `check`). */
const STALL_FRACTION = 4;

/** Bounds of a member's unacked backlog (docs/architecture.md "Flow control and memory bounds"). */
export interface BacklogLimits {
  /** A member with more unacked messages than this is removed as slow; past half of it, it is behind. */
  readonly maxUnacked: number;
  /**
   * Unacked deliveries a whole group may have in flight: in a large group the
   * per-member bound is this ÷ members (at least 16), so in-flight memory
   * does not grow with group size.
   */
  readonly maxGroupUnacked: number;
}

/**
 * Default backlog bounds: 2,048 messages per member (≈ 200 KiB of 16 B
 * texts), 262,144 per group.
 */
export function defaultBacklogLimits(): BacklogLimits {
  return { maxUnacked: 2048, maxGroupUnacked: 262_144 };
}

/**
 * Group message fan-out (docs/protocol.md "Group delivery"). Each message
 * gets the group's next seq, is encoded once, and is queued to every other
 * member. Acks are cumulative; each member has an AckWindow of outstanding
 * (seq, sentAt), and each group has at most one timer, armed at the earliest
 * deadline. A member over its deadline is reported once through
 * `onUnresponsive`.
 *
 * Flow control is per member, so no one member paces the others
 * (docs/architecture.md "Flow control and memory bounds"): a member is
 * *behind* while its outbound queue is over maxOutboundBytes (until 'drain')
 * or its unacked backlog is over half the bound (until an ack brings it under
 * a quarter); a member past the whole bound is removed as slow. Senders are
 * held back only while more than half of the other members are behind — the
 * senders, not one reader, are then what is too fast. A held sender's requests
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
    private readonly backlog: BacklogLimits = defaultBacklogLimits(),
  ) {}

  /**
   * Sends `text` from `from` to every other member of `group`; returns its
   * seq — the store's (`seq`, one order per group across restarts) or, when
   * none is given, the group's next. `from` is the sender's session when it
   * is connected here (flow control may hold it back), or only its name (a
   * message from another node of a cluster, docs/scaling.md).
   */
  publish(group: string, from: Member | string, text: string, seq?: number): number {
    const ch = this.channel(group);
    // Never back: a cluster node may have seeded the seq (a join) past a message still on its way here.
    const msgSeq = seq ?? ch.seq + 1;
    ch.seq = Math.max(ch.seq, msgSeq);
    const fromName = typeof from === 'string' ? from : from.name;
    const bytes = encodeGroupMessage(group, msgSeq, fromName, text);
    const now = this.clock.now();
    let sent = 0;
    for (const r of ch.recipients) {
      if (r.name === fromName || r.window.dead || !r.session.conn.open) continue;
      if (r.held !== null) this.hold(ch, r, msgSeq, bytes);
      else if (this.deliver(ch, r, msgSeq, bytes, now)) sent++;
    }
    if (sent > 0) this.host.onDelivered?.(sent);
    if (sent > 0 && ch.timer === null) this.arm(ch, this.ackTimeoutMs);
    if (typeof from !== 'string' && this.blocked(ch) && !ch.pausedSenders.has(from)) {
      ch.pausedSenders.add(from); // its next requests wait; its acks are still read
      from.pause('flow');
    }
    return msgSeq;
  }

  /** Queues one delivery to `r` and applies the per-member bounds; false if `r` was dropped as slow. */
  private deliver(ch: Channel, r: Recipient, seq: number, bytes: GroupBytes, now: number): boolean {
    if (seq <= r.lastSent) return false; // it had this one already (its history, or a repeat)
    r.lastSent = seq;
    r.session.conn.sendShared(bytes);
    r.window.push(seq, now);
    // Our queue counts too: a whole turn of fan-out may sit there before the flush.
    if (r.session.conn.outboundBytes > this.maxOutboundBytes) this.noteCongested(ch, r.session);
    const unacked = r.window.outstanding;
    if (unacked > this.memberBound(ch)) this.drop(ch, r, 'slow');
    else if (unacked > this.memberBound(ch) / 2) this.noteBacklogged(ch, r.session);
    return true;
  }

  /** `r` is catching up: a live message waits until then (bounded like its backlog). */
  private hold(ch: Channel, r: Recipient, seq: number, bytes: GroupBytes): void {
    r.held!.push({ seq, bytes });
    if (r.held!.length > this.memberBound(ch)) this.drop(ch, r, 'slow');
  }

  /**
   * `name` caught up: sends it the history it missed (`backlog`, in seq
   * order, only what precedes the live messages held meanwhile), then the
   * held live messages, and from now on delivers live. Messages up to
   * `shownUpTo` were shown with the join reply: they are not sent again.
   */
  goLive(group: string, name: string, backlog: readonly HistoryEntry[], shownUpTo = 0): void {
    const ch = this.channels.get(group);
    const r = ch?.members.get(name);
    if (!ch || !r || r.held === null) return;
    const held = r.held;
    r.held = null;
    r.lastSent = Math.max(r.lastSent, shownUpTo);
    if (r.window.dead || !r.session.conn.open) return;
    const now = this.clock.now();
    const firstHeld = held[0]?.seq ?? Infinity;
    const before = r.window.outstanding;
    for (const entry of backlog) {
      if (entry.seq >= firstHeld) break;
      const bytes = encodeGroupMessage(group, entry.seq, entry.from, entry.text);
      this.deliver(ch, r, entry.seq, bytes, now);
    }
    for (const { seq, bytes } of held) if (!r.window.dead) this.deliver(ch, r, seq, bytes, now);
    if (r.window.outstanding > before) this.host.onDelivered?.(r.window.outstanding - before);
    if (r.window.outstanding > 0 && ch.timer === null) this.arm(ch, this.ackTimeoutMs);
  }

  /** Cumulative ack from `name` for every message of `group` up to `seq`. */
  ack(group: string, name: string, seq: number): void {
    const ch = this.channels.get(group);
    const r = ch?.members.get(name);
    if (!ch || !r) return;
    const oldest = r.window.oldestSentAt();
    const before = r.window.outstanding;
    r.window.ackUpTo(seq);
    if (oldest !== undefined && r.window.outstanding < before) this.host.onAcked?.(this.clock.now() - oldest);
    // Hysteresis: behind past half the bound, caught up again under a quarter.
    if (ch.backlogged.has(r.session) && r.window.outstanding <= this.memberBound(ch) / 4) {
      ch.backlogged.delete(r.session);
      this.resumeIfClear(ch);
    }
  }

  /**
   * `session` joined `group`: it receives every message published from now
   * on — at once, or, with `catchUp`, held until `goLive` sends it what it
   * missed first. Returns the seq of the last message published before it.
   */
  add(group: string, session: Member, catchUp = false): number {
    const ch = this.channel(group);
    const old = ch.members.get(session.name);
    if (old?.session === session) return ch.seq;
    if (old) this.forget(group, session.name);
    const held = catchUp ? [] : null;
    ch.members.set(session.name, { name: session.name, session, window: new AckWindow(), lastSent: 0, held });
    ch.recipients = [...ch.members.values()];
    return ch.seq;
  }

  /**
   * The store's last seq of `group`, read before its first join on this
   * server: after a restart nothing was published yet, and without it every
   * stored message would look newer than the joining member (no history).
   * Never moves the seq back.
   */
  seedSeq(group: string, seq: number): void {
    const ch = this.channel(group);
    ch.seq = Math.max(ch.seq, seq);
  }

  /** The seq of the last message published to `group` (0 if none yet). */
  lastSeq(group: string): number {
    return this.channels.get(group)?.seq ?? 0;
  }

  /** The groups with at least one member here. */
  groupsWithMembers(): string[] {
    return [...this.channels.values()].filter((ch) => ch.members.size > 0).map((ch) => ch.group);
  }

  /** `group` was deleted: forgets its channel (its members were already forgotten). */
  dropGroup(group: string): void {
    const ch = this.channels.get(group);
    if (!ch) return;
    for (const name of [...ch.members.keys()]) this.forget(group, name);
    if (ch.timer !== null) this.clock.clearTimeout(ch.timer);
    this.channels.delete(group);
  }

  /** `name` left `group`: forget its outstanding deliveries and any flow-control hold. */
  forget(group: string, name: string): void {
    const ch = this.channels.get(group);
    const r = ch?.members.get(name);
    if (!ch || !r) return;
    ch.members.delete(name);
    ch.recipients = [...ch.members.values()];
    if (ch.pausedSenders.delete(r.session)) r.session.resume('flow');
    this.release(ch, r.session);
  }

  /**
   * Sends `frame`, encoded once, to every member of `group` but `except`
   * (presence notices, docs/protocol.md `presence`). Not acked or tracked:
   * a member that misses one because its connection closed re-learns the
   * members from `list_members`.
   */
  announce(group: string, except: string, frame: ServerToClientFrame): void {
    const ch = this.channels.get(group);
    if (ch === undefined || ch.recipients.length === 0) return;
    const shared = new GroupBytes(frame);
    for (const r of ch.recipients) if (r.name !== except && r.session.conn.open) r.session.conn.sendShared(shared);
  }

  /** Deliveries sent and not yet acked, over every group and member still tracked (stats only: O(members)). */
  unackedDeliveries(): number {
    let total = 0;
    for (const ch of this.channels.values())
      for (const r of ch.members.values()) if (!r.window.dead) total += r.window.outstanding;
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
        group,
        seq: 0,
        members: new Map(),
        recipients: [],
        timer: null,
        due: 0,
        congested: new Set(),
        backlogged: new Set(),
        pausedSenders: new Set(),
      };
      this.channels.set(group, ch);
    }
    return ch;
  }

  private arm(ch: Channel, ms: number): void {
    ch.due = this.clock.now() + Math.max(1, ms);
    ch.timer = this.clock.setTimeout(() => this.check(ch), Math.max(1, ms));
  }

  /**
   * Timer: report members past their deadline, re-arm at the next earliest
   * one. A deadline counts the member's lag, not this process's: when the
   * timer runs far past its time, the process stalled (a long turn, a GC
   * pause, a starved CPU), and deliveries made before the stall may still
   * be waiting for the end of the turn to be written, their acks unread.
   * Then nobody is judged now; the check runs again once the stalled work
   * is done, as long after as the stall lasted.
   */
  private check(ch: Channel): void {
    ch.timer = null;
    const now = this.clock.now();
    const stalled = now - ch.due;
    let next = Infinity;
    const late: Recipient[] = [];
    for (const r of ch.members.values()) {
      if (r.window.dead || !r.session.conn.open) continue;
      const sentAt = r.window.oldestSentAt();
      if (sentAt === undefined) continue;
      const since = this.excused(r.session) ? now : Math.max(sentAt, r.session.resumedAt);
      const deadline = since + this.ackTimeoutMs;
      if (deadline <= now) late.push(r);
      else next = Math.min(next, deadline);
    }
    if (late.length > 0 && stalled > this.ackTimeoutMs / STALL_FRACTION)
      return this.arm(ch, Math.min(stalled, this.ackTimeoutMs));
    if (next !== Infinity) this.arm(ch, next - now);
    for (const r of late) this.drop(ch, r, 'unresponsive');
  }

  /** Gives up on `r`: no further deliveries, reported once (docs/usage.md: removed from the group). */
  private drop(ch: Channel, r: Recipient, reason: DropReason): void {
    if (r.window.dead) return;
    r.window.dead = true;
    this.release(ch, r.session);
    this.host.onUnresponsive(r.session, ch.group, reason);
  }

  /** The most unacked messages one member of `ch` may have: the per-member bound, shrunk in large groups. */
  private memberBound(ch: Channel): number {
    const perGroup = Math.max(16, Math.floor(this.backlog.maxGroupUnacked / Math.max(1, ch.recipients.length)));
    return Math.min(this.backlog.maxUnacked, perGroup);
  }

  private noteCongested(ch: Channel, session: Session): void {
    if (ch.congested.has(session)) return;
    const was = this.blocked(ch);
    ch.congested.add(session);
    if (!was && this.blocked(ch)) this.holdMembers(ch);
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

  /** `session` is behind on acks: it counts towards holding the group's senders. */
  private noteBacklogged(ch: Channel, session: Session): void {
    if (ch.backlogged.has(session)) return;
    const was = this.blocked(ch);
    ch.backlogged.add(session);
    if (!was && this.blocked(ch)) this.holdMembers(ch);
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

  /** More than half of the members other than one sender are behind: the senders are too fast. */
  private blocked(ch: Channel): boolean {
    let behind = ch.congested.size;
    for (const session of ch.backlogged) if (!ch.congested.has(session)) behind++;
    return behind * 2 > ch.recipients.length - 1;
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

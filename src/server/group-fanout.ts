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
  readonly congested: Set<Session>;
  readonly pausedSenders: Set<Session>;
}

/**
 * Group message fan-out (SPEC §4, docs/protocol.md "Group delivery"). Each
 * message gets the group's next seq, is encoded once, and is queued to every
 * other member from a synchronous snapshot. Acks are cumulative; each member
 * has an AckWindow of outstanding (seq, sentAt), and each group has at most one
 * timer, armed at the earliest deadline. A member over its deadline is reported
 * once through `onUnresponsive`. Flow control: while any recipient of a group
 * is congested, senders to that group stop being read until it drains or goes.
 */
export class GroupFanout {
  private readonly channels = new Map<string, Channel>();

  constructor(
    private readonly host: FanoutHost,
    private readonly clock: Clock,
    private readonly ackTimeoutMs: number,
    /** A recipient with more than this queued counts as congested (FramedConnection's limit). */
    private readonly maxOutboundBytes: number,
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
    }
    if (sent && ch.timer === null) this.arm(ch, this.ackTimeoutMs);
    if (ch.congested.size > 0 && !ch.congested.has(from)) {
      ch.pausedSenders.add(from);
      from.pause('flow');
    }
    return seq;
  }

  /** Cumulative ack from `name` for every message of `group` up to `seq`. */
  ack(group: string, name: string, seq: number): void {
    this.channels.get(group)?.members.get(name)?.window.ackUpTo(seq);
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
        timer: null, congested: new Set(), pausedSenders: new Set(),
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
      // Its acks are not late while we are not reading from it (flow control, backlog).
      const since = r.session.paused ? now : Math.max(sentAt, r.session.resumedAt);
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
    ch.congested.add(session);
    const done = (): void => {
      session.conn.off('drain', done);
      session.conn.off('close', done);
      this.release(ch, session);
    };
    session.conn.on('drain', done);
    session.conn.on('close', done);
    // After this turn's flush: if the bytes went straight to the kernel there will be no 'drain'.
    setImmediate(() => {
      if (!session.conn.congested) done();
    });
  }

  /** A congested recipient drained or went away; when none is left, senders are read again. */
  private release(ch: Channel, session: Session): void {
    if (!ch.congested.delete(session) || ch.congested.size > 0) return;
    for (const sender of ch.pausedSenders) sender.resume('flow');
    ch.pausedSenders.clear();
  }
}

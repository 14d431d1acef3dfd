import type { HistoryEntry } from '../protocol/frames';
import { foldName } from '../protocol/names';
import type { ChatStore, JoinResult } from '../store/chat-store';
import type { EmitEvent, LeaveReason } from './events';
import type { GroupFanout } from './group-fanout';
import type { Session } from './session';

/** A session with a name (registered). */
type Member = Session & { readonly name: string };

/** Messages a join shows (docs/usage.md "Group history"). */
export const SHOWN_ON_JOIN = 10;

/** What a successful join gives: the messages to show, and the call that starts live delivery. */
export type Joined =
  | {
      readonly ok: true;
      readonly group: string;
      /** The seq of the group's last message when it joined (0: none yet). */
      readonly seq: number;
      readonly history: readonly HistoryEntry[];
      readonly goLive: () => void;
    }
  | Extract<JoinResult, { ok: false }>;

/**
 * The one owner of group membership on this server (docs/architecture.md
 * "Membership"). Every way into a group (join) and out of one — leave_group,
 * joining another group, dereg, a closed connection, removal as
 * unresponsive — goes through here, and every exit ends in `left`: the store
 * says who left what, the fan-out forgets the member, the session's group is
 * cleared, and one `groupLeft` event says why. A session is in one group,
 * unless it joins with `keep` (a relay session such as an IRC connection,
 * docs/protocol.md "Several groups"): then in each group it joined, each
 * with its own fan-out membership and acks.
 */
export class Membership {
  constructor(
    private readonly store: ChatStore,
    private readonly fanout: GroupFanout,
    private readonly emit: EmitEvent,
    /** Most messages a catch-up after a reconnect delivers (the history limit). */
    private readonly historyLimit: number,
  ) {}

  /**
   * Puts `session` in `group` (any case; the result names it as shown),
   * taking it out of its current group first unless `keep`; the other members are told
   * (docs/protocol.md `presence`). Without `since` it gets the group's last
   * messages to show; with `since` (a re-join after a reconnect) it gets
   * every message after that seq, up to the history limit, delivered as
   * ordinary group messages before the live ones (docs/protocol.md "Group
   * history"). Live messages wait until `goLive` is called — after the
   * reply, so they never overtake it.
   */
  async join(session: Member, requested: string, since?: number, keep = false): Promise<Joined> {
    // Nothing published here yet (e.g. just restarted): the stored messages are all older than this join.
    // Read before the join, so nothing can happen between the store's join and the fan-out's.
    const stored = this.fanout.lastSeq(requested) === 0 ? await this.store.history(requested, { limit: 1 }) : [];
    const result = await this.store.join(session.name, requested, keep);
    if (!result.ok) return result;
    const group = result.group ?? requested;
    if (result.left !== null) {
      const others = new Set([result.left, ...session.groups].filter((g) => foldName(g) !== foldName(group)));
      for (const other of others) this.left(session, session.name, other, 'switched');
    }
    if (stored.length > 0) this.fanout.seedSeq(group, stored[0]!.seq);
    let upTo = this.fanout.lastSeq(group);
    if (session.memberOf(group) === null) {
      session.addGroup(group);
      upTo = this.fanout.add(group, session, true);
      this.fanout.announce(group, session.name, { type: 'presence', group, name: session.name, state: 'joined' });
    }
    this.emit('groupJoined', session.name, group);
    const query = since === undefined ? { limit: SHOWN_ON_JOIN } : { after: since, limit: this.historyLimit };
    // Read after the member was added: every later message reaches it live (held until goLive), and one
    // it reads here and also receives live — stored, not yet fanned out — goes once (GroupFanout.lastSent).
    const entries = await this.store.history(group, query);
    const name = session.name;
    const backlog = since === undefined ? [] : entries;
    const shown = since === undefined ? entries : [];
    const shownUpTo = shown.at(-1)?.seq ?? 0;
    const goLive = (): void => this.fanout.goLive(group, name, backlog, shownUpTo);
    return { ok: true, group, seq: Math.max(upTo, shownUpTo), history: shown, goLive };
  }

  /** `group` was deleted by its creator: each of its members here is told and back in normal mode. */
  groupDeleted(group: string, members: readonly Session[]): void {
    for (const session of members) {
      session.dropGroup(group);
      session.conn.send({ type: 'group_deleted', group });
    }
    this.fanout.dropGroup(group);
  }

  /** `leave_group`: the group it left (`from`, or else the one it joined last), or null if it was not in it. */
  async leave(session: Member, from?: string): Promise<string | null> {
    const group = from === undefined ? session.group : session.memberOf(from);
    if (group === null) return null;
    const result = await this.store.leave(session.name, group);
    if (!result.ok) return null;
    this.left(session, session.name, result.group, 'left');
    return result.group;
  }

  /** The member did not ack in time, or fell too far behind: out of `group` (if still there), and told so. */
  async removeUnresponsive(session: Member, group: string, reason: 'unresponsive' | 'slow'): Promise<void> {
    const result = await this.store.leave(session.name, group);
    if (!result.ok) return;
    this.left(session, session.name, group, reason);
    session.conn.send({ type: 'removed', group });
  }

  /**
   * The store already took `name`, disconnecting, out of `groups` in the
   * same step that marked it offline (ChatStore.disconnect); the session has
   * no name any more.
   */
  disconnected(session: Session, name: string, groups: readonly string[]): void {
    for (const group of groups) this.left(session, name, group, 'offline');
  }

  /** The single exit every removal ends in; the members left behind are told (docs/protocol.md `presence`). */
  private left(session: Session, name: string, group: string, reason: LeaveReason): void {
    this.fanout.forget(group, name);
    this.fanout.announce(group, name, { type: 'presence', group, name, state: 'left' });
    session.dropGroup(group);
    this.emit('groupLeft', name, group, reason);
  }
}

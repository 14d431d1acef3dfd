import type { ChatStore, JoinResult } from '../store/chat-store';
import type { EmitEvent, LeaveReason } from './events';
import type { GroupFanout } from './group-fanout';
import type { Session } from './session';

/** A session with a name (registered). */
type Member = Session & { readonly name: string };

/**
 * The one owner of group membership on this server (docs/architecture.md
 * "Membership"). Every way into a group (join) and out of one — leave_group,
 * joining another group, dereg, a closed connection, removal as
 * unresponsive — goes through here, and every exit ends in `left`: the store
 * says who left what, the fan-out forgets the member, the session's group is
 * cleared, and one `groupLeft` event says why.
 */
export class Membership {
  constructor(
    private readonly store: ChatStore,
    private readonly fanout: GroupFanout,
    private readonly emit: EmitEvent,
  ) {}

  /**
   * Puts `session` in `group` (any case; the result names it as shown),
   * taking it out of its current group first. The other members are told
   * (docs/protocol.md `presence`).
   */
  async join(session: Member, requested: string): Promise<JoinResult> {
    const result = await this.store.join(session.name, requested);
    if (!result.ok) return result;
    const group = result.group ?? requested;
    if (result.left !== null) this.left(session, session.name, result.left, 'switched');
    if (session.group !== group) {
      session.setGroup(group);
      this.fanout.add(group, session);
      this.fanout.announce(group, session.name, { type: 'presence', group, name: session.name, state: 'joined' });
    }
    this.emit('groupJoined', session.name, group);
    return result;
  }

  /** `leave_group`: the group it left, or null if it was in none. */
  async leave(session: Member): Promise<string | null> {
    const result = await this.store.leave(session.name);
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
   * The store already took `name`, disconnecting, out of `group` in the same
   * step that marked it offline (ChatStore.disconnect); the session has no
   * name any more.
   */
  disconnected(session: Session, name: string, group: string | null): void {
    if (group !== null) this.left(session, name, group, 'offline');
  }

  /** The single exit every removal ends in; the members left behind are told (docs/protocol.md `presence`). */
  private left(session: Session, name: string, group: string, reason: LeaveReason): void {
    this.fanout.forget(group, name);
    this.fanout.announce(group, name, { type: 'presence', group, name, state: 'left' });
    if (session.group === group) session.setGroup(null);
    this.emit('groupLeft', name, group, reason);
  }
}

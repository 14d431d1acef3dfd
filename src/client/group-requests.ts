import { newId } from '../protocol/ids';
import type { Limits } from '../protocol/limits';
import { isValidName } from '../protocol/names';
import * as R from './client-results';
import type { GroupState } from './group-state';
import type { ServerLink } from './server-link';

/**
 * The group requests of ChatClient (docs/events.md): each sends one request
 * and maps the server's answer to a typed result, keeping the client's group
 * state (current group, last seq seen) in step with what the server said.
 */
export class GroupRequests {
  constructor(
    private readonly link: ServerLink,
    private readonly groups: GroupState,
    private readonly limits: Limits,
    /** The server says the client is in no group although it thought so: it was removed. */
    private readonly lostMembership: (group: string) => 'not_in_group',
  ) {}

  /** Creates a group (docs/usage.md "Client" create_group). */
  async create(group: string): Promise<R.CreateGroupResult> {
    if (!isValidName(group)) return 'invalid_name'; // docs/usage.md "Command-line mistakes": group names follow the name rule
    const outcome = await this.link.request({ type: 'create_group', id: newId(), group });
    if (outcome.type === 'reply') return 'created';
    if (outcome.type === 'error' && outcome.code === 'group_exists') return 'exists';
    return R.toFailure(outcome);
  }

  /** Lists the server's groups in creation order. */
  async list(): Promise<R.ListGroupsResult> {
    const outcome = await this.link.request({ type: 'list_groups', id: newId() });
    return outcome.type === 'reply' ? { groups: outcome.groups ?? [] } : R.toFailure(outcome);
  }

  /**
   * Joins a group and enters group mode (docs/usage.md "Client" join_group). `currentGroup`
   * is then the group as the server shows it (any case may be asked for).
   */
  async join(group: string): Promise<R.JoinGroupResult> {
    if (!isValidName(group)) return 'invalid_name';
    const outcome = await this.link.request({ type: 'join_group', id: newId(), group });
    if (outcome.type === 'reply') {
      const joined = outcome.group ?? group;
      this.groups.setCurrent(joined);
      // What it missed from here on is caught up after a reconnect (docs/protocol.md "Group history").
      this.groups.noteSeen(joined, outcome.seq ?? 0);
      return { joined, history: outcome.history ?? [] };
    }
    if (outcome.type === 'error' && outcome.code === 'no_such_group') return 'no_such_group';
    return R.toFailure(outcome);
  }

  /** The last `n` messages of the current group (docs/usage.md `history`). */
  async history(n: number): Promise<R.HistoryResult> {
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'history', id: newId(), n });
    if (outcome.type === 'reply') return { group, history: outcome.history ?? [] };
    if (outcome.type === 'error' && outcome.code === 'not_in_group') return this.lostMembership(group);
    return R.toFailure(outcome);
  }

  /** Deletes a group this client created (docs/usage.md `delete_group`). */
  async remove(group: string): Promise<R.DeleteGroupResult> {
    if (!isValidName(group)) return 'invalid_name';
    const outcome = await this.link.request({ type: 'delete_group', id: newId(), group });
    if (outcome.type === 'reply') return 'deleted';
    if (outcome.type === 'error' && outcome.code === 'no_such_group') return 'no_such_group';
    if (outcome.type === 'error' && outcome.code === 'not_creator') return { creator: outcome.who ?? '?' };
    return R.toFailure(outcome);
  }

  /**
   * Leaves the current group. A server that no longer counts us as a member
   * still ends group mode. `'not_in_group'` if we were in none, or were removed
   * while the request was out (`removedFromGroup` was emitted then).
   */
  async leave(): Promise<R.LeaveGroupResult> {
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'leave_group', id: newId() });
    if (outcome.type === 'reply' || (outcome.type === 'error' && outcome.code === 'not_in_group')) {
      if (this.groups.current !== group) return 'not_in_group';
      this.groups.setCurrent(null);
      return { left: group };
    }
    return R.toFailure(outcome);
  }

  /** Lists the members of the current group in join order. */
  async members(): Promise<R.ListMembersResult> {
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'list_members', id: newId() });
    if (outcome.type === 'reply') return { group, members: outcome.members ?? [] };
    if (outcome.type === 'error' && outcome.code === 'not_in_group') return this.lostMembership(group);
    return R.toFailure(outcome);
  }

  /** Sends a message to the current group; 'received' once the server accepted it (docs/usage.md "Server"). */
  async send(text: string): Promise<R.SendGroupResult> {
    if (text.length > this.limits.maxMessageLength) return 'too_long'; // docs/protocol.md "Limits"
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'send_group', id: newId(), text });
    if (outcome.type === 'reply') return 'received';
    if (outcome.type === 'error' && outcome.code === 'message_too_long') return 'too_long';
    if (outcome.type === 'error' && outcome.code === 'not_in_group') return this.lostMembership(group);
    return R.toFailure(outcome);
  }
}

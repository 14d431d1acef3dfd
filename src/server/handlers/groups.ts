import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

type Req<T extends ServerRequest['type']> = FrameOf<ServerRequest, T>;

/** `create_group`: a new empty group, or `group_exists`. */
export async function handleCreateGroup(ctx: ServerContext, s: RegisteredSession, f: Req<'create_group'>): Promise<Outcome> {
  const result = await ctx.groups.create(f.group);
  if (!result.ok) {
    ctx.emit('groupCreateFailed', s.name, f.group);
    return fail(f.id, result.code);
  }
  ctx.emit('groupCreated', s.name, f.group);
  return ok(f.id);
}

/** `list_groups`: every group in creation order. */
export function handleListGroups(ctx: ServerContext, s: RegisteredSession, f: Req<'list_groups'>): Outcome {
  const groups = [...ctx.groups.groupNames()];
  ctx.emit('groupsListed', s.name, groups);
  return ok(f.id, { groups });
}

/** `join_group`: leaves the current group first (SPEC §4: at most one group). */
export async function handleJoinGroup(ctx: ServerContext, s: RegisteredSession, f: Req<'join_group'>): Promise<Outcome> {
  const result = await ctx.groups.join(s.name, f.group);
  if (!result.ok) {
    ctx.emit('groupJoinFailed', s.name, f.group);
    return fail(f.id, result.code);
  }
  if (result.left !== null) {
    ctx.fanout.forget(result.left, s.name);
    ctx.emit('groupLeft', s.name, result.left);
  }
  ctx.emit('groupJoined', s.name, f.group);
  return ok(f.id, { group: f.group });
}

/** `leave_group`: or `not_in_group`. */
export async function handleLeaveGroup(ctx: ServerContext, s: RegisteredSession, f: Req<'leave_group'>): Promise<Outcome> {
  const group = await ctx.leaveGroup(s.name);
  return group === null ? fail(f.id, 'not_in_group') : ok(f.id, { group });
}

/** `list_members`: members of the caller's group in join order. */
export function handleListMembers(ctx: ServerContext, s: RegisteredSession, f: Req<'list_members'>): Outcome {
  const group = ctx.groups.groupOf(s.name);
  if (group === undefined) return fail(f.id, 'not_in_group');
  const members = [...(ctx.groups.membersOf(group) ?? [])];
  ctx.emit('membersListed', s.name, group, members);
  return ok(f.id, { members });
}

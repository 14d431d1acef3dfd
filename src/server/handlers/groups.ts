import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { MAX_JOINED_GROUPS } from '../../protocol/limits';
import { fail, failAbout, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

type Req<T extends ServerRequest['type']> = FrameOf<ServerRequest, T>;

/** `create_group`: a new empty group, or `group_exists` / `too_many_groups` / `group_quota`. */
export async function handleCreateGroup(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'create_group'>,
): Promise<Outcome> {
  // docs/protocol.md limits: groups in all and per creator are bounded.
  const quota = { maxGroups: ctx.limits.maxGroups, maxPerCreator: ctx.limits.maxGroupsPerClient };
  const result = await ctx.store.createGroup(f.group, s.name, quota);
  if (!result.ok) {
    if (result.code === 'group_exists') ctx.emit('groupCreateFailed', s.name, f.group);
    return fail(f.id, result.code);
  }
  ctx.emit('groupCreated', s.name, f.group);
  return ok(f.id);
}

/** `list_groups`: every group in creation order (the store's snapshot, not a copy: its encoding is cached). */
export async function handleListGroups(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'list_groups'>,
): Promise<Outcome> {
  const groups = await ctx.store.groups();
  ctx.emit('groupsListed', s.name, groups);
  return ok(f.id, { groups });
}

/**
 * `join_group`: leaves the current group first (docs/usage.md: at most one
 * group), unless `keep` (docs/protocol.md "Several groups"). The reply carries the group's last messages, or — with `since`,
 * a re-join after a reconnect — the missed ones follow it as group messages.
 */
export async function handleJoinGroup(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'join_group'>,
): Promise<Outcome> {
  const keep = f.keep === true;
  if (keep && s.memberOf(f.group) === null && s.groups.length >= MAX_JOINED_GROUPS)
    return fail(f.id, 'too_many_joined');
  const result = await ctx.membership.join(s, f.group, f.since, keep);
  if (!result.ok) {
    ctx.emit('groupJoinFailed', s.name, f.group);
    return fail(f.id, result.code);
  }
  // docs/usage.md "Names": the group as shown.
  const history = result.history.length > 0 ? { history: result.history } : {};
  const seq = result.seq > 0 ? { seq: result.seq } : {};
  return ok(f.id, { group: result.group, ...seq, ...history }, result.goLive);
}

/** The caller's group `named` (any case), or without a name the one it joined last; null if it is not in it. */
export function groupOf(s: RegisteredSession, named: string | undefined): string | null {
  return named === undefined ? s.group : s.memberOf(named);
}

/** `history`: `n` messages of the caller's group inside the bounds given (the last ones by default), oldest first. */
export async function handleHistory(ctx: ServerContext, s: RegisteredSession, f: Req<'history'>): Promise<Outcome> {
  const group = groupOf(s, f.group);
  if (group === null) return fail(f.id, 'not_in_group');
  const query = {
    limit: f.n,
    ...(f.after !== undefined && { after: f.after }),
    ...(f.before !== undefined && { before: f.before }),
    ...(f.afterTs !== undefined && { afterAt: f.afterTs }),
    ...(f.beforeTs !== undefined && { beforeAt: f.beforeTs }),
    ...(f.oldest === true && { oldest: true }),
  };
  return ok(f.id, { history: await ctx.store.history(group, query) });
}

/** `delete_group`: only its creator may; its members here are told and leave group mode. */
export async function handleDeleteGroup(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'delete_group'>,
): Promise<Outcome> {
  const result = await ctx.store.deleteGroup(f.group, s.name);
  if (!result.ok)
    return result.code === 'not_creator' ? failAbout(f.id, 'not_creator', result.creator) : fail(f.id, result.code);
  ctx.membership.groupDeleted(f.group, ctx.sessionsOf(result.members));
  ctx.emit('groupDeleted', s.name, f.group);
  return ok(f.id);
}

/** `leave_group`: or `not_in_group`. */
export async function handleLeaveGroup(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'leave_group'>,
): Promise<Outcome> {
  const group = await ctx.membership.leave(s, f.group);
  return group === null ? fail(f.id, 'not_in_group') : ok(f.id, { group });
}

/** `list_members`: members of the caller's group in join order. */
export async function handleListMembers(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'list_members'>,
): Promise<Outcome> {
  const group = groupOf(s, f.group);
  const members = group === null ? undefined : await ctx.store.membersOf(group);
  if (group === null || members === undefined) return fail(f.id, 'not_in_group');
  ctx.emit('membersListed', s.name, group, members);
  return ok(f.id, { members });
}

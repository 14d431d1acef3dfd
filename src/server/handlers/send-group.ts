import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { groupOf } from './groups';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

/**
 * `send_group`, the hot path: checks, appends the message to the group's
 * history (which gives it its seq and makes it durable), replies, then fans
 * out — so `[Message received by Server.]` never promises a message a crash
 * could lose (docs/usage.md "Durable state").
 */
export async function handleSendGroup(
  ctx: ServerContext,
  s: RegisteredSession,
  f: FrameOf<ServerRequest, 'send_group'>,
): Promise<Outcome> {
  const group = groupOf(s, f.group);
  if (group === null) return fail(f.id, 'not_in_group');
  if (f.text.length > ctx.limits.maxMessageLength) return fail(f.id, 'message_too_long'); // docs/protocol.md limits
  const seq = await ctx.store.appendMessage(group, { from: s.name, text: f.text, at: ctx.now() });
  if (seq === null) return fail(f.id, 'not_in_group'); // the group was deleted meanwhile
  ctx.emit('groupMessage', s.name, group, f.text);
  // In a cluster the store's feed delivers it, on every node alike (cluster-sync.ts).
  if (ctx.clustered) return ok(f.id);
  return ok(f.id, {}, () => {
    ctx.fanout.publish(group, s, f.text, seq);
  });
}

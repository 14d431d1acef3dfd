import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

/**
 * `send_group`, the hot path: synchronous (no mutex round trip). Checks,
 * reports, replies at once, then fans out from the membership snapshot.
 */
export function handleSendGroup(ctx: ServerContext, s: RegisteredSession, f: FrameOf<ServerRequest, 'send_group'>): Outcome {
  const group = ctx.groups.groupOf(s.name);
  if (group === undefined) return fail(f.id, 'not_in_group');
  if (f.text.length > ctx.limits.maxMessageLength) return fail(f.id, 'message_too_long'); // SPEC §7
  ctx.emit('groupMessage', s.name, group, f.text);
  // SPEC §4: ack the sender as soon as the message is accepted, then fan out.
  return ok(f.id, {}, () => {
    ctx.fanout.publish(group, s, f.text);
  });
}

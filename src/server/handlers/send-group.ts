import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

/**
 * `send_group`, the hot path: synchronous (no store round trip; the session
 * knows its group). Checks, reports, replies at once, then fans out.
 */
export function handleSendGroup(ctx: ServerContext, s: RegisteredSession, f: FrameOf<ServerRequest, 'send_group'>): Outcome {
  const group = s.group;
  if (group === null) return fail(f.id, 'not_in_group');
  if (f.text.length > ctx.limits.maxMessageLength) return fail(f.id, 'message_too_long'); // docs/protocol.md limits
  ctx.emit('groupMessage', s.name, group, f.text);
  // docs/protocol.md "Group delivery": ack the sender as soon as the message is accepted, then fan out.
  return ok(f.id, {}, () => {
    ctx.fanout.publish(group, s, f.text);
  });
}

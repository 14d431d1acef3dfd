import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

type Req<T extends ServerRequest['type']> = FrameOf<ServerRequest, T>;

/** `lookup`: the entry of a name with an account, online or not (a sender needs its key). */
export async function handleLookup(ctx: ServerContext, _s: RegisteredSession, f: Req<'lookup'>): Promise<Outcome> {
  const entry = await ctx.store.lookup(f.name);
  return entry === null ? fail(f.id, 'unknown_client') : ok(f.id, { entry });
}

/**
 * `save_message`: keeps a signed private message for an offline receiver
 * (docs/usage.md "Saved messages"). The message must be the caller's own,
 * and short enough; a full mailbox refuses it.
 */
export async function handleSaveMessage(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'save_message'>,
): Promise<Outcome> {
  const { message } = f;
  if (message.from !== s.name || message.id !== f.id) return fail(f.id, 'not_self');
  if (message.text.length > ctx.limits.maxMessageLength) return fail(f.id, 'message_too_long');
  const result = await ctx.store.saveMessage(message, ctx.limits.mailboxLimit);
  return result === 'saved' ? ok(f.id) : fail(f.id, result);
}

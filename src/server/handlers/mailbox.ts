import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { sameName } from '../../protocol/names';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

type Req<T extends ServerRequest['type']> = FrameOf<ServerRequest, T>;

/** `lookup`: the entry of a name with an account, online or not (a sender needs its key). */
export async function handleLookup(ctx: ServerContext, _s: RegisteredSession, f: Req<'lookup'>): Promise<Outcome> {
  const entry = await ctx.store.lookup(f.name);
  return entry === null ? fail(f.id, 'unknown_client') : ok(f.id, { entry });
}

/** The most ciphertext a text of `maxLength` characters seals to: 4 UTF-8 bytes a character, and the 16-byte tag. */
export function sealedBytesLimit(maxLength: number): number {
  return 4 * maxLength + 16;
}

/**
 * `save_message`: keeps a sealed and signed private message for an offline receiver
 * (docs/usage.md "Saved messages"). The message must be the caller's own,
 * and short enough; a full mailbox refuses it.
 */
export async function handleSaveMessage(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'save_message'>,
): Promise<Outcome> {
  const { message } = f;
  if (!sameName(message.from, s.name) || message.id !== f.id) return fail(f.id, 'not_self');
  // The server cannot read the text: it bounds the ciphertext by what the longest text could take.
  if (Buffer.byteLength(message.ct, 'base64') > sealedBytesLimit(ctx.limits.maxMessageLength))
    return fail(f.id, 'message_too_long');
  const result = await ctx.store.saveMessage(message, ctx.limits.mailboxLimit);
  return result === 'saved' ? ok(f.id) : fail(f.id, result);
}

import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { sameName } from '../../protocol/names';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

/** Table entries with port 0 are sessions that cannot be dialled (IRC, browser pages): private messages reach them by relay. */
export const RELAY_PORT = 0;

/**
 * `relay_dm`: a private message through the server (docs/protocol.md
 * "Relayed private messages"). A sealed envelope (`enc`) is passed on as is,
 * once its `from` is the sender and its `to` the addressee — the server
 * cannot read it. Readable text only when the sender or the receiver is an
 * IRC session, which has no encryption key (docs/security.md "The IRC
 * exception"). The reply waits for the receiver's `relayed_ack`, so the
 * sender's "received" means the receiver has it (or its refusal code).
 */
export async function handleRelayDm(
  ctx: ServerContext,
  s: RegisteredSession,
  f: FrameOf<ServerRequest, 'relay_dm'>,
): Promise<Outcome> {
  const { body } = f;
  if ('text' in body && body.text.length > ctx.limits.maxMessageLength) return fail(f.id, 'message_too_long');
  const [to, me] = await Promise.all([ctx.store.lookup(f.to), ctx.store.lookup(s.name)]);
  if (to === null) return fail(f.id, 'unknown_client');
  if ('enc' in body) {
    if (!sameName(body.enc.from, s.name) || body.enc.id !== f.id) return fail(f.id, 'not_self');
    if (!sameName(body.enc.to, to.name)) return fail(f.id, 'wrong_recipient');
  } else if (to.ekey !== undefined && me?.ekey !== undefined) return fail(f.id, 'e2e_required');
  const receiver = to.online ? ctx.sessionsOf([to.name])[0] : undefined;
  if (receiver === undefined || !receiver.conn.open) return fail(f.id, 'receiver_offline');
  const acked = ctx.relayAcks.wait(receiver.id, f.id, ctx.limits.ackTimeoutMs); // as a direct dm_ack
  receiver.conn.send({ type: 'relayed_dm', id: f.id, from: s.name, ts: ctx.now(), body });
  const verdict = await acked;
  if (verdict === true) return ok(f.id);
  return fail(f.id, verdict === false ? 'no_ack' : verdict);
}

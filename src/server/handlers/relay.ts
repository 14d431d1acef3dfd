import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

/** Table entries with port 0 are sessions that cannot be dialled (IRC): private messages reach them by relay. */
export const RELAY_PORT = 0;

/**
 * `relay_dm`: a private message through the server (docs/protocol.md
 * "Relayed private messages"). Readable text only when the sender or the
 * receiver is a relay session (docs/security.md "The IRC exception"). The
 * reply waits for the receiver's `relayed_ack`, so the sender's
 * "received" means the receiver has it.
 */
export async function handleRelayDm(
  ctx: ServerContext,
  s: RegisteredSession,
  f: FrameOf<ServerRequest, 'relay_dm'>,
): Promise<Outcome> {
  if (f.body.text.length > ctx.limits.maxMessageLength) return fail(f.id, 'message_too_long');
  const [to, me] = await Promise.all([ctx.store.lookup(f.to), ctx.store.lookup(s.name)]);
  if (to === null) return fail(f.id, 'unknown_client');
  if (to.port !== RELAY_PORT && me?.port !== RELAY_PORT) return fail(f.id, 'e2e_required');
  const receiver = to.online ? ctx.sessionsOf([to.name])[0] : undefined;
  if (receiver === undefined || !receiver.conn.open) return fail(f.id, 'receiver_offline');
  const acked = ctx.relayAcks.wait(receiver.id, f.id, ctx.limits.ackTimeoutMs); // as a direct dm_ack
  receiver.conn.send({ type: 'relayed_dm', id: f.id, from: s.name, ts: ctx.now(), body: f.body });
  return (await acked) ? ok(f.id) : fail(f.id, 'no_ack');
}

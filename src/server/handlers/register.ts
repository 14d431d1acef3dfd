import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { PROTOCOL_VERSION } from '../../protocol/limits';
import { normalizeAddress } from '../../net/listen';
import { fail, ok, type Outcome, type ServerContext } from '../context';
import type { Session } from '../session';

/**
 * `register`: claims a name for this connection. Reply first, then the full
 * table to this client (chunked and paced, docs/protocol.md `table`); every
 * other online client gets the change as a delta.
 */
export async function handleRegister(
  ctx: ServerContext,
  session: Session,
  frame: FrameOf<ServerRequest, 'register'>,
): Promise<Outcome> {
  if (frame.v !== PROTOCOL_VERSION) return fail(frame.id, 'unsupported_version'); // protocol.md: fatal
  const host = frame.host ?? normalizeAddress(session.conn.remoteAddress);
  const result = await ctx.clients.register({ name: frame.name, host, port: frame.port, key: frame.key }, session.id);
  if (!result.ok) return fail(frame.id, result.code); // SPEC §4: names unique among online clients
  if (!session.conn.open) {
    await ctx.clients.goOffline(frame.name, session.id);
    return fail(frame.id, 'internal_error');
  }
  ctx.bind(session, frame.name);
  ctx.emit('tableUpdated');
  return ok(frame.id, {}, () => {
    ctx.tables.noteChanged(result.entry); // SPEC §4: push every change to every online client
    // Covers that change, so no delta follows; this connection's next request waits until it is out.
    return ctx.tables.sendFull(session, ctx.clients.snapshot());
  });
}

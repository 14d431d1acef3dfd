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
  if (!ctx.admitRegistration(session)) return fail(frame.id, 'rate_limited'); // docs/security.md: per address
  const host = frame.host ?? normalizeAddress(session.conn.remoteAddress);
  const result = await ctx.store.register({ name: frame.name, host, port: frame.port, key: frame.key }, session.id);
  if (!result.ok) return fail(frame.id, result.code); // docs/usage.md: names unique among online clients
  ctx.bind(session, result.entry.name); // docs/usage.md "Names": the name as first registered
  if (!session.conn.open) {
    // Closed while the store registered it: it goes offline as any closed connection does.
    await ctx.goOffline(session);
    return fail(frame.id, 'internal_error');
  }
  ctx.emit('tableUpdated');
  ctx.tables.noteChanged(result.entry); // docs/protocol.md `table`: every change goes to every online client
  // The full table covers that change, so no delta of it follows; later changes follow it.
  ctx.tables.startFull(session);
  const clients = await ctx.store.clients();
  // This connection's next request waits until the table is out.
  return ok(frame.id, {}, () => ctx.tables.sendFull(session, clients));
}

import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { PROTOCOL_VERSION } from '../../protocol/limits';
import { registrationBytes, verifySignature } from '../../protocol/signing';
import { verifyEncryptionKey } from '../../protocol/dm-envelope';
import { normalizeAddress } from '../../net/listen';
import type { Registration, RegisterResult } from '../../store/chat-store';
import { fail, ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';
import type { Session } from '../session';

type Req<T extends ServerRequest['type']> = FrameOf<ServerRequest, T>;

/**
 * `register`: claims a name for this connection, proving it holds the key
 * the name is bound to (docs/security.md "Accounts"). Reply first, then the
 * full table to this client (chunked and paced, docs/protocol.md `table`),
 * then its saved messages; every other online client gets the change as a
 * delta.
 */
export async function handleRegister(ctx: ServerContext, session: Session, frame: Req<'register'>): Promise<Outcome> {
  if (frame.v !== PROTOCOL_VERSION) return fail(frame.id, 'unsupported_version'); // protocol.md: fatal
  if (!verifySignature(frame.key, registrationBytes(session.challenge, frame.name, frame.key), frame.sig)) {
    return fail(frame.id, 'bad_signature');
  }
  if (!publishedKeyHolds(frame)) return fail(frame.id, 'bad_signature'); // docs/protocol.md `register`
  if (!ctx.admitRegistration(session)) return fail(frame.id, 'rate_limited'); // docs/security.md: per address
  const host = frame.host ?? normalizeAddress(session.conn.remoteAddress);
  const { ekey, ekeySig } = frame;
  const reg = {
    name: frame.name,
    host,
    port: frame.port,
    key: frame.key,
    ...(ekey && ekeySig ? { ekey, ekeySig } : {}),
  };
  const result = await claim(ctx, session, reg);
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
  const waiting = await ctx.store.mailbox(frame.name); // the reply says how many follow the table
  const registered = session as RegisteredSession;
  const saved = waiting.length > 0 ? { saved: waiting.length } : {};
  // This connection's next request waits until the table and the saved messages are out.
  return ok(frame.id, saved, () =>
    ctx.tables.sendFull(session, clients).then(() => ctx.deliverSaved(registered, waiting)),
  );
}

/**
 * `ekey` and `ekeySig` come both or neither, and the signature is `key`'s
 * over the name and `ekey` (dm-envelope.ts `ekeySigningBytes`): the server
 * keeps and hands out only keys their owner published.
 */
function publishedKeyHolds(frame: Req<'register'>): boolean {
  const { ekey, ekeySig } = frame;
  if (ekey === undefined && ekeySig === undefined) return true;
  if (ekey === undefined || ekeySig === undefined) return false;
  return verifyEncryptionKey(frame.key, frame.name, ekey, ekeySig);
}

/**
 * The store's registration; when the name's owner registers again while a
 * stale session of it is still open (the network dropped and the server has
 * not noticed yet), that session is replaced instead of refusing the owner.
 */
async function claim(ctx: ServerContext, session: Session, reg: Registration): Promise<RegisterResult> {
  const result = await ctx.store.register(reg, session.id);
  if (result.ok || result.code !== 'name_in_use' || result.holder === session.id) return result;
  if (!(await ctx.replaceIfStale(result.holder))) return result;
  return ctx.store.register(reg, session.id);
}

/** `delete_account`: forgets the caller's name, key and saved messages (the dispatcher checked it names itself). */
export async function handleDeleteAccount(
  ctx: ServerContext,
  s: RegisteredSession,
  f: Req<'delete_account'>,
): Promise<Outcome> {
  const result = await ctx.store.deleteAccount(s.name, s.id);
  if (!result.ok) return fail(f.id, result.code);
  ctx.accountDeleted(s, result.leftGroups);
  return ok(f.id);
}

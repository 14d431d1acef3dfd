import { ERR } from '../../protocol/irc/numerics';
import { ERROR_CODES } from '../../protocol/errors';
import { newId } from '../../protocol/ids';
import { isValidName } from '../../protocol/names';
import { entryEncryption } from '../../client/entry-keys';
import type { IrcSession } from './irc-session';

/**
 * PRIVMSG/NOTICE to a nick (docs/irc.md "Private messages"): relayed through
 * the server (`relay_dm`) to an online receiver, which acks once it has it;
 * for an offline account, sealed for its published key and signed with the
 * session's key like a chatapp client's saved message. Errors go back as numerics, never for a
 * NOTICE (RFC 2812: no automatic reply to a notice).
 */
export function sendPrivate(session: IrcSession, target: string, text: string, notice: boolean): void {
  const refuse = (code: string, why: string): void => (notice ? undefined : session.numeric(code, target, why));
  if (!isValidName(target)) return refuse(ERR.NOSUCHNICK, 'No such nick/channel');
  if (text.length > session.config.limits.maxMessageLength)
    return refuse(ERR.CANNOTSENDTOCHAN, ERROR_CODES.message_too_long);
  // Not awaited: private messages pipeline like channel ones; the core answers in order.
  void relay(session, target, text).then((code) => {
    if (code === null) return echo(session, target, text, notice);
    if (code === 'unknown_client') return refuse(ERR.NOSUCHNICK, 'No such nick/channel');
    refuse(ERR.CANNOTSENDTOCHAN, ERROR_CODES[code]);
  });
}

async function relay(session: IrcSession, to: string, text: string): Promise<keyof typeof ERROR_CODES | null> {
  const outcome = await session.link.request({ type: 'relay_dm', to, body: { text } });
  if (outcome.ok) return null;
  if (outcome.code !== 'receiver_offline') return outcome.code;
  return save(session, to, text);
}

/** The receiver is offline: the server keeps the message until it is back (docs/usage.md "Saved messages"). */
async function save(session: IrcSession, to: string, text: string): Promise<keyof typeof ERROR_CODES | null> {
  const { key, registeredName } = session.state;
  if (key === null || registeredName === null) return 'not_registered';
  const found = await session.link.request({ type: 'lookup', name: to });
  if (!found.ok) return found.code;
  const entry = found.reply.entry;
  const encryption = entry === undefined ? 'none' : entryEncryption(entry);
  // No published key (another IRC account) or a forged one: nothing to seal for, and nothing kept readable.
  if (entry === undefined || typeof encryption === 'string') return 'receiver_offline';
  const id = newId();
  const header = { id, from: registeredName, to: entry.name, ts: session.config.clock.now() };
  const outcome = await session.link.request(
    { type: 'save_message', message: key.seal(header, encryption.ekey, text) },
    id,
  );
  return outcome.ok ? null : outcome.code;
}

function echo(session: IrcSession, target: string, text: string, notice: boolean): void {
  if (!session.state.caps.has('echo-message')) return;
  for (const line of session.state.splitText(session.mask, notice ? 'NOTICE' : 'PRIVMSG', target, text))
    session.send(line);
}

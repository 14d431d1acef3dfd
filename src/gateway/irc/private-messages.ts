import { ERR } from '../../protocol/irc/numerics';
import { isValidName } from '../../protocol/names';
import type { IrcSession } from './irc-session';

/**
 * PRIVMSG/NOTICE to a nick. Private messages between an IRC user and anyone
 * else need the server relay (docs/irc.md "Private messages"), which is not
 * built yet: the sender is told plainly instead of the message vanishing.
 */
export function sendPrivate(session: IrcSession, target: string, _text: string, notice: boolean): void {
  if (notice) return;
  if (!isValidName(target)) return session.numeric(ERR.NOSUCHNICK, target, 'No such nick/channel');
  session.fromServer('NOTICE', session.nick, `Private messages to ${target} are not relayed yet; use a channel`);
}

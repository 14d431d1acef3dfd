import { ircMessage, type IrcMessage } from '../../protocol/irc/message';
import { ERR, RPL } from '../../protocol/irc/numerics';
import { groupOfChannel } from '../../protocol/irc/casemap';
import { sameName } from '../../protocol/names';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import { sendMotd } from './welcome';

function ping(session: IrcSession, message: IrcMessage): void {
  session.send(ircMessage(session.config.serverName, 'PONG', [session.config.serverName, message.params[0] ?? '']));
}

async function quit(session: IrcSession, message: IrcMessage): Promise<void> {
  await session.quit(`Quit: ${message.params[0] ?? 'Client Quit'}`);
}

function away(session: IrcSession, message: IrcMessage): void {
  const text = message.params[0] ?? '';
  session.state.away = text === '' ? null : text;
  if (text === '') session.numeric(RPL.UNAWAY, 'You are no longer marked as being away');
  else session.numeric(RPL.NOWAWAY, 'You have been marked as being away');
}

/** MODE queries are answered; nothing can be changed (there are no operators or channel modes to set). */
function mode(session: IrcSession, message: IrcMessage): void {
  const [target = '', change] = message.params;
  const group = groupOfChannel(target);
  if (group === null) {
    if (!sameName(target, session.nick)) return session.numeric('502', "Can't change mode for other users");
    if (change !== undefined && change !== '+i') return session.numeric(ERR.UMODEUNKNOWNFLAG, 'Unknown MODE flag');
    return session.numeric(RPL.UMODEIS, '+i');
  }
  if (change === undefined) return session.numeric(RPL.CHANNELMODEIS, target, '+nt');
  if (/^\+?b$/.test(change)) return session.numeric(RPL.ENDOFBANLIST, target, 'End of channel ban list');
  session.numeric(ERR.CHANOPRIVSNEEDED, target, "You're not channel operator");
}

export const SESSION_COMMANDS: Record<string, IrcCommand> = {
  PING: { minParams: 1, registered: false, run: ping },
  PONG: { minParams: 0, registered: false, run: () => undefined },
  QUIT: { minParams: 0, registered: false, run: quit },
  MOTD: { minParams: 0, registered: true, run: sendMotd },
  AWAY: { minParams: 0, registered: true, run: away },
  MODE: { minParams: 1, registered: true, run: mode },
  TAGMSG: { minParams: 1, registered: true, run: () => undefined },
};

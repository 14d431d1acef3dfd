import { RPL } from '../../protocol/irc/numerics';
import { CASEMAPPING } from '../../protocol/irc/casemap';
import { MAX_JOINED_GROUPS } from '../../protocol/limits';
import type { IrcSession } from './irc-session';

/** Names are at most 32 characters (docs/usage.md "Names"); a channel adds its `#`. */
const NICKLEN = 32;
/** Most messages one CHATHISTORY request returns (docs/irc.md "History"). */
export const CHATHISTORY_MAX = 100;

/** The ISUPPORT tokens (docs/irc.md "ISUPPORT"). */
export function isupportTokens(): string[] {
  return [
    `CASEMAPPING=${CASEMAPPING}`,
    'CHANTYPES=#',
    `NICKLEN=${NICKLEN}`,
    `CHANNELLEN=${NICKLEN + 1}`,
    `CHANLIMIT=#:${MAX_JOINED_GROUPS}`,
    'MAXTARGETS=1',
    `CHATHISTORY=${CHATHISTORY_MAX}`,
    'NETWORK=chatapp',
    'PREFIX=',
    'CHANMODES=,,,nt',
  ];
}

/** 001–005 and the MOTD: what a client waits for before it counts as connected. */
export function sendWelcome(session: IrcSession): void {
  const server = session.config.serverName;
  session.numeric(RPL.WELCOME, `Welcome to the chatapp IRC gateway, ${session.mask}`);
  session.numeric(RPL.YOURHOST, `Your host is ${server}, running chatapp`);
  session.numeric(RPL.CREATED, `This server was created ${new Date(session.config.createdAt).toISOString()}`);
  session.numeric(RPL.MYINFO, server, 'chatapp', 'i', 'nt');
  session.numeric(RPL.ISUPPORT, ...isupportTokens(), 'are supported by this server');
  sendMotd(session);
}

/** The message of the day. */
export function sendMotd(session: IrcSession): void {
  session.numeric(RPL.MOTDSTART, `- ${session.config.serverName} Message of the day -`);
  session.numeric(RPL.MOTD, '- Groups are channels: /join #<group>.');
  session.numeric(RPL.ENDOFMOTD, 'End of /MOTD command.');
}

import { foldName, isValidName } from '../../protocol/names';
import { channelOf, groupOfChannel } from '../../protocol/irc/casemap';
import type { IrcMessage } from '../../protocol/irc/message';
import { ERR, RPL } from '../../protocol/irc/numerics';
import { ERROR_CODES } from '../../protocol/errors';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import { sendPrivate } from './private-messages';

/** The group of `channel` (as shown) when the user is in it, else null. */
function joinedGroup(session: IrcSession, channel: string): string | null {
  return session.state.channel(groupOfChannel(channel));
}

/** PRIVMSG/NOTICE: to a joined channel a group message, to a nick a relayed private message. */
function privmsg(session: IrcSession, message: IrcMessage): void {
  const notice = message.command === 'NOTICE';
  const [target = '', text = ''] = message.params;
  if (text === '') return notice ? undefined : session.numeric('412', 'No text to send');
  if (groupOfChannel(target) === null) return sendPrivate(session, target, text, notice);
  const group = joinedGroup(session, target);
  if (group === null)
    return notice ? undefined : session.numeric(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel (join it first)');
  if (text.length > session.config.limits.maxMessageLength) {
    return notice ? undefined : session.numeric(ERR.CANNOTSENDTOCHAN, target, ERROR_CODES.message_too_long);
  }
  // Not awaited: group messages pipeline; the core answers in order, so echoes keep the order sent.
  void session.link.request({ type: 'send_group', text, group }).then((outcome) => {
    if (!outcome.ok)
      return notice ? undefined : session.numeric(ERR.CANNOTSENDTOCHAN, target, ERROR_CODES[outcome.code]);
    if (session.state.caps.has('echo-message')) {
      for (const line of session.state.splitText(session.mask, message.command, channelOf(group), text))
        session.send(line);
    }
  });
}

/** NAMES #g: the members of a channel the user is in (RPL_NAMREPLY lines, then RPL_ENDOFNAMES). */
export async function names(session: IrcSession, message: IrcMessage): Promise<void> {
  const channel = message.params[0] ?? '*';
  const group = joinedGroup(session, channel);
  if (group !== null) {
    const outcome = await session.link.request({ type: 'list_members', group });
    const members = outcome.ok ? (outcome.reply.members ?? []) : [];
    for (const line of batches(members, 400)) session.numeric(RPL.NAMREPLY, '=', channelOf(group), line);
  }
  session.numeric(RPL.ENDOFNAMES, group === null ? channel : channelOf(group), 'End of /NAMES list.');
}

/** Joins names with spaces into lines of at most `max` characters. */
function batches(items: readonly string[], max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && line.length + 1 + item.length > max) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? item : `${line} ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** LIST: every group; user counts for the channels the user is in (the core lists members of those only). */
async function list(session: IrcSession): Promise<void> {
  const outcome = await session.link.request({ type: 'list_groups' });
  session.numeric(RPL.LISTSTART, 'Channel', 'Users  Name');
  const counts = new Map<string, number>();
  for (const group of session.state.channels) {
    const members = await session.link.request({ type: 'list_members', group });
    if (members.ok) counts.set(foldName(group), members.reply.members?.length ?? 0);
  }
  for (const group of outcome.ok ? (outcome.reply.groups ?? []) : [])
    session.numeric(RPL.LIST, channelOf(group), String(counts.get(foldName(group)) ?? 0), '');
  session.numeric(RPL.LISTEND, 'End of /LIST');
}

async function who(session: IrcSession, message: IrcMessage): Promise<void> {
  const mask = message.params[0] ?? '*';
  const group = joinedGroup(session, mask);
  const server = session.config.serverName;
  const row = (channel: string, name: string): void =>
    session.numeric(RPL.WHOREPLY, channel, name, 'chatapp', server, name, 'H', `0 ${name}`);
  if (group !== null) {
    const outcome = await session.link.request({ type: 'list_members', group });
    for (const member of outcome.ok ? (outcome.reply.members ?? []) : []) row(channelOf(group), member);
  } else if (isValidName(mask)) {
    const outcome = await session.link.request({ type: 'lookup', name: mask });
    if (outcome.ok && outcome.reply.entry?.online === true) row('*', outcome.reply.entry.name);
  }
  session.numeric(RPL.ENDOFWHO, mask, 'End of /WHO list.');
}

function topic(session: IrcSession, message: IrcMessage): void {
  const [channel = '', text] = message.params;
  const group = joinedGroup(session, channel);
  if (group === null) return session.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
  if (text !== undefined) return session.numeric(ERR.CHANOPRIVSNEEDED, channel, 'Topics cannot be set here');
  session.numeric(RPL.NOTOPIC, channelOf(group), 'No topic is set');
}

export const CHANNEL_COMMANDS: Record<string, IrcCommand> = {
  PRIVMSG: { minParams: 1, registered: true, run: privmsg },
  NOTICE: { minParams: 1, registered: true, run: privmsg },
  NAMES: { minParams: 0, registered: true, run: names },
  LIST: { minParams: 0, registered: true, run: list },
  WHO: { minParams: 0, registered: true, run: who },
  TOPIC: { minParams: 1, registered: true, run: topic },
};

import { isValidName, sameName } from '../../protocol/names';
import { channelOf, groupOfChannel } from '../../protocol/irc/casemap';
import { ircMessage, type IrcMessage } from '../../protocol/irc/message';
import { ERR, RPL } from '../../protocol/irc/numerics';
import { ERROR_CODES } from '../../protocol/errors';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import { sendPrivate } from './private-messages';

/** The group of `channel` when it is the session's current channel, else null. */
function currentGroup(session: IrcSession, channel: string): string | null {
  const group = groupOfChannel(channel);
  const current = session.state.channel;
  return group !== null && current !== null && sameName(group, current) ? current : null;
}

/** JOIN #g: joins the group, creating it when missing; the previous channel is parted (one at a time). */
async function join(session: IrcSession, message: IrcMessage): Promise<void> {
  const first = message.params[0] ?? '';
  if (first === '0') return partCurrent(session, 'Left all channels');
  const channels = first.split(',').filter((c) => c !== '');
  const channel = channels[channels.length - 1] ?? '';
  if (channels.length > 1)
    session.numeric(ERR.TOOMANYCHANNELS, channels[0] ?? '', 'One channel at a time: joining the last one');
  const group = groupOfChannel(channel);
  if (group === null || !isValidName(group)) return session.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  if (currentGroup(session, channel) !== null) return;
  let outcome = await session.link.request({ type: 'join_group', group });
  if (!outcome.ok && outcome.code === 'no_such_group') {
    const created = await session.link.request({ type: 'create_group', group });
    if (!created.ok && created.code !== 'group_exists')
      return session.numeric(ERR.TOOMANYCHANNELS, channel, ERROR_CODES[created.code]);
    outcome = await session.link.request({ type: 'join_group', group });
  }
  if (!outcome.ok) return session.numeric(ERR.NOSUCHCHANNEL, channel, ERROR_CODES[outcome.code]);
  const previous = session.state.channel;
  if (previous !== null)
    session.send(
      ircMessage(session.mask, 'PART', [channelOf(previous), `Joined ${channelOf(outcome.reply.group ?? group)}`]),
    );
  const shown = outcome.reply.group ?? group;
  session.state.channel = shown;
  session.send(ircMessage(session.mask, 'JOIN', [channelOf(shown)], session.state.tags()));
  await names(session, ircMessage(null, 'NAMES', [channelOf(shown)]));
}

async function partCurrent(session: IrcSession, reason: string): Promise<void> {
  const group = session.state.channel;
  if (group === null) return;
  await session.link.request({ type: 'leave_group' });
  session.state.channel = null;
  session.send(ircMessage(session.mask, 'PART', [channelOf(group), reason]));
}

async function part(session: IrcSession, message: IrcMessage): Promise<void> {
  for (const channel of (message.params[0] ?? '').split(',')) {
    if (currentGroup(session, channel) === null)
      session.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
    else await partCurrent(session, message.params[1] ?? 'Leaving');
  }
}

/** PRIVMSG/NOTICE: to the current channel a group message, to a nick a relayed private message. */
function privmsg(session: IrcSession, message: IrcMessage): void {
  const notice = message.command === 'NOTICE';
  const [target = '', text = ''] = message.params;
  if (text === '') return notice ? undefined : session.numeric('412', 'No text to send');
  if (groupOfChannel(target) === null) return sendPrivate(session, target, text, notice);
  const group = currentGroup(session, target);
  if (group === null)
    return notice ? undefined : session.numeric(ERR.CANNOTSENDTOCHAN, target, 'Cannot send to channel (join it first)');
  if (text.length > session.config.limits.maxMessageLength) {
    return notice ? undefined : session.numeric(ERR.CANNOTSENDTOCHAN, target, ERROR_CODES.message_too_long);
  }
  // Not awaited: group messages pipeline; the core answers in order, so echoes keep the order sent.
  void session.link.request({ type: 'send_group', text }).then((outcome) => {
    if (!outcome.ok)
      return notice ? undefined : session.numeric(ERR.CANNOTSENDTOCHAN, target, ERROR_CODES[outcome.code]);
    if (session.state.caps.has('echo-message')) {
      for (const line of session.state.splitText(session.mask, message.command, channelOf(group), text))
        session.send(line);
    }
  });
}

async function names(session: IrcSession, message: IrcMessage): Promise<void> {
  const channel = message.params[0] ?? '*';
  const group = currentGroup(session, channel);
  if (group !== null) {
    const outcome = await session.link.request({ type: 'list_members' });
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

async function list(session: IrcSession): Promise<void> {
  const outcome = await session.link.request({ type: 'list_groups' });
  session.numeric(RPL.LISTSTART, 'Channel', 'Users  Name');
  let count: number | null = null;
  if (session.state.channel !== null) {
    const members = await session.link.request({ type: 'list_members' });
    count = members.ok ? (members.reply.members?.length ?? 0) : null;
  }
  for (const group of outcome.ok ? (outcome.reply.groups ?? []) : []) {
    const users =
      count !== null && session.state.channel !== null && sameName(group, session.state.channel) ? count : 0;
    session.numeric(RPL.LIST, channelOf(group), String(users), '');
  }
  session.numeric(RPL.LISTEND, 'End of /LIST');
}

async function who(session: IrcSession, message: IrcMessage): Promise<void> {
  const mask = message.params[0] ?? '*';
  const group = currentGroup(session, mask);
  const server = session.config.serverName;
  const row = (channel: string, name: string): void =>
    session.numeric(RPL.WHOREPLY, channel, name, 'chatapp', server, name, 'H', `0 ${name}`);
  if (group !== null) {
    const outcome = await session.link.request({ type: 'list_members' });
    for (const member of outcome.ok ? (outcome.reply.members ?? []) : []) row(channelOf(group), member);
  } else if (isValidName(mask)) {
    const outcome = await session.link.request({ type: 'lookup', name: mask });
    if (outcome.ok && outcome.reply.entry?.online === true) row('*', outcome.reply.entry.name);
  }
  session.numeric(RPL.ENDOFWHO, mask, 'End of /WHO list.');
}

function topic(session: IrcSession, message: IrcMessage): void {
  const [channel = '', text] = message.params;
  const group = currentGroup(session, channel);
  if (group === null) return session.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
  if (text !== undefined) return session.numeric(ERR.CHANOPRIVSNEEDED, channel, 'Topics cannot be set here');
  session.numeric(RPL.NOTOPIC, channelOf(group), 'No topic is set');
}

export const CHANNEL_COMMANDS: Record<string, IrcCommand> = {
  JOIN: { minParams: 1, registered: true, run: join },
  PART: { minParams: 1, registered: true, run: part },
  PRIVMSG: { minParams: 1, registered: true, run: privmsg },
  NOTICE: { minParams: 1, registered: true, run: privmsg },
  NAMES: { minParams: 0, registered: true, run: names },
  LIST: { minParams: 0, registered: true, run: list },
  WHO: { minParams: 0, registered: true, run: who },
  TOPIC: { minParams: 1, registered: true, run: topic },
};

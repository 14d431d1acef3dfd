import { isValidName } from '../../protocol/names';
import { channelOf, groupOfChannel } from '../../protocol/irc/casemap';
import { ircMessage, type IrcMessage } from '../../protocol/irc/message';
import { ERR } from '../../protocol/irc/numerics';
import { ERROR_CODES } from '../../protocol/errors';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import { names } from './channel-commands';

/**
 * JOIN #a,#b: joins each group, creating a missing one; the user stays in
 * the channels it is in (docs/irc.md "Channels": the core keeps a relay
 * session in several groups when it joins with `keep`). `JOIN 0` parts all.
 */
async function join(session: IrcSession, message: IrcMessage): Promise<void> {
  const first = message.params[0] ?? '';
  if (first === '0') return partAll(session, 'Left all channels');
  for (const channel of first.split(',')) if (channel !== '') await joinOne(session, channel);
}

async function joinOne(session: IrcSession, channel: string): Promise<void> {
  const group = groupOfChannel(channel);
  if (group === null || !isValidName(group)) return session.numeric(ERR.NOSUCHCHANNEL, channel, 'No such channel');
  if (session.state.channel(group) !== null) return;
  let outcome = await session.link.request({ type: 'join_group', group, keep: true });
  if (!outcome.ok && outcome.code === 'no_such_group') {
    const created = await session.link.request({ type: 'create_group', group });
    if (!created.ok && created.code !== 'group_exists')
      return session.numeric(ERR.TOOMANYCHANNELS, channel, ERROR_CODES[created.code]);
    outcome = await session.link.request({ type: 'join_group', group, keep: true });
  }
  if (!outcome.ok && outcome.code === 'too_many_joined')
    return session.numeric(ERR.TOOMANYCHANNELS, channel, 'You have joined too many channels');
  if (!outcome.ok) return session.numeric(ERR.NOSUCHCHANNEL, channel, ERROR_CODES[outcome.code]);
  const shown = outcome.reply.group ?? group;
  session.state.enter(shown);
  session.send(ircMessage(session.mask, 'JOIN', [channelOf(shown)], session.state.tags()));
  await names(session, ircMessage(null, 'NAMES', [channelOf(shown)]));
}

/** Leaves one channel it is in: the core first, then the PART line. */
async function partOne(session: IrcSession, group: string, reason: string): Promise<void> {
  await session.link.request({ type: 'leave_group', group });
  if (session.state.exit(group) !== null) session.send(ircMessage(session.mask, 'PART', [channelOf(group), reason]));
}

async function partAll(session: IrcSession, reason: string): Promise<void> {
  for (const group of session.state.channels) await partOne(session, group, reason);
}

async function part(session: IrcSession, message: IrcMessage): Promise<void> {
  for (const channel of (message.params[0] ?? '').split(',')) {
    const group = session.state.channel(groupOfChannel(channel));
    if (group === null) session.numeric(ERR.NOTONCHANNEL, channel, "You're not on that channel");
    else await partOne(session, group, message.params[1] ?? 'Leaving');
  }
}

export const JOIN_COMMANDS: Record<string, IrcCommand> = {
  JOIN: { minParams: 1, registered: true, run: join },
  PART: { minParams: 1, registered: true, run: part },
};

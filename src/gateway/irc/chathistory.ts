import { channelOf, groupOfChannel } from '../../protocol/irc/casemap';
import { ircMessage, type IrcMessage } from '../../protocol/irc/message';
import type { HistoryEntry } from '../../protocol/frames';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import { CHATHISTORY_MAX } from './welcome';

/** A CHATHISTORY bound: `msgid=<seq>`, `timestamp=<ISO>` or `*`. */
type Bound = { readonly seq: number } | { readonly at: number } | null;

function parseBound(raw: string): Bound | undefined {
  if (raw === '*') return null;
  const [kind, value = ''] = raw.split('=', 2);
  if (kind === 'msgid' && /^\d+$/.test(value)) return { seq: Number(value) };
  const at = Date.parse(value);
  if (kind === 'timestamp' && !Number.isNaN(at)) return { at };
  return undefined;
}

/** True when `entry` is strictly after (`side` 1) or before (-1) the bound. */
function beyond(entry: HistoryEntry, bound: Bound, side: 1 | -1): boolean {
  if (bound === null) return true;
  const delta = 'seq' in bound ? entry.seq - bound.seq : entry.at - bound.at;
  return side === 1 ? delta > 0 : delta < 0;
}

/** The entries a subcommand selects from the window (oldest first), at most `limit`. */
function select(sub: string, window: readonly HistoryEntry[], a: Bound, b: Bound, limit: number): HistoryEntry[] {
  if (sub === 'LATEST') return window.filter((e) => beyond(e, a, 1)).slice(-limit);
  if (sub === 'BEFORE') return window.filter((e) => beyond(e, a, -1)).slice(-limit);
  if (sub === 'AFTER') return window.filter((e) => beyond(e, a, 1)).slice(0, limit);
  const [low, high] = a !== null && b !== null && key(a) > key(b) ? [b, a] : [a, b];
  return window.filter((e) => beyond(e, low, 1) && beyond(e, high, -1)).slice(0, limit);
}

function key(bound: Bound): number {
  if (bound === null) return 0;
  return 'seq' in bound ? bound.seq : bound.at;
}

function fail(session: IrcSession, code: string, ...context: string[]): void {
  session.fromServer('FAIL', 'CHATHISTORY', code, ...context, 'Cannot fetch history');
}

/**
 * IRCv3 draft/chathistory LATEST, BEFORE, AFTER, BETWEEN over the group's
 * history (docs/irc.md "History"): the window is the channel's last
 * CHATHISTORY_MAX messages, which the core serves to a member of the group.
 * msgids are the group's sequence numbers.
 */
async function chathistory(session: IrcSession, message: IrcMessage): Promise<void> {
  const [rawSub = '', target = '', first = '', second = '', third] = message.params;
  const sub = rawSub.toUpperCase();
  if (!['LATEST', 'BEFORE', 'AFTER', 'BETWEEN'].includes(sub)) return fail(session, 'INVALID_PARAMS', rawSub);
  const current = session.state.channel(groupOfChannel(target));
  if (current === null) return fail(session, 'INVALID_TARGET', sub, target);
  const a = parseBound(first);
  const b = sub === 'BETWEEN' ? parseBound(second) : null;
  const limit = Number(sub === 'BETWEEN' ? third : second);
  if (a === undefined || b === undefined || !Number.isInteger(limit) || limit < 1)
    return fail(session, 'INVALID_PARAMS', sub);
  const outcome = await session.link.request({ type: 'history', n: CHATHISTORY_MAX, group: current });
  const window = outcome.ok ? (outcome.reply.history ?? []) : [];
  sendBatch(session, channelOf(current), select(sub, window, a, b, Math.min(limit, CHATHISTORY_MAX)));
}

function sendBatch(session: IrcSession, channel: string, entries: readonly HistoryEntry[]): void {
  const batched = session.state.caps.has('batch');
  const ref = `h${session.config.clock.now().toString(36)}`;
  if (batched) session.fromServer('BATCH', `+${ref}`, 'chathistory', channel);
  for (const entry of entries) {
    const tags = new Map(session.state.tags(entry.at));
    tags.set('time', new Date(entry.at).toISOString());
    tags.set('msgid', String(entry.seq));
    if (batched) tags.set('batch', ref);
    session.send(ircMessage(`${entry.from}!${entry.from}@chatapp`, 'PRIVMSG', [channel, entry.text], tags));
  }
  if (batched) session.fromServer('BATCH', `-${ref}`);
}

export const HISTORY_COMMANDS: Record<string, IrcCommand> = {
  CHATHISTORY: { minParams: 3, registered: true, run: chathistory },
};

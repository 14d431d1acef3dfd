import { channelOf, groupOfChannel } from '../../protocol/irc/casemap';
import { ircMessage, type IrcMessage } from '../../protocol/irc/message';
import type { HistoryEntry } from '../../protocol/frames';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import type { CoreRequest } from './core-link';
import { CHATHISTORY_MAX } from './welcome';

/** A CHATHISTORY bound: `msgid=<seq>`, `timestamp=<ISO>` or `*`. */
type Bound = { readonly seq: number } | { readonly at: number } | null;

function parseBound(raw: string): Bound | undefined {
  if (raw === '*') return null;
  const [kind, value = ''] = raw.split('=', 2);
  if (kind === 'msgid' && /^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return { seq: Number(value) };
  const at = Date.parse(value);
  if (kind === 'timestamp' && !Number.isNaN(at)) return { at };
  return undefined;
}

type HistoryRequest = Extract<CoreRequest, { type: 'history' }>;

/** The query fields that keep messages strictly after (`side` 1) or before (-1) the bound. */
function side(bound: Bound, dir: 1 | -1): Partial<HistoryRequest> {
  if (bound === null) return {};
  if ('seq' in bound) return dir === 1 ? { after: bound.seq } : { before: Math.max(bound.seq, 1) };
  return dir === 1 ? { afterTs: bound.at } : { beforeTs: bound.at };
}

/** Which end a bound sits at, to order BETWEEN's two bounds (a msgid and a timestamp are not compared). */
function position(bound: Bound): number {
  if (bound === null) return 0;
  return 'seq' in bound ? bound.seq : bound.at;
}

/**
 * The core query of a subcommand (draft/chathistory): LATEST the newest
 * (after the bound, if any), BEFORE the newest before it, AFTER the oldest
 * after it, BETWEEN those strictly between, nearest the first bound.
 */
function query(sub: string, a: Bound, b: Bound): Partial<HistoryRequest> {
  if (sub === 'LATEST') return side(a, 1);
  if (sub === 'BEFORE') return side(a, -1);
  if (sub === 'AFTER') return { ...side(a, 1), oldest: true };
  const sameKind = a !== null && b !== null && 'seq' in a === 'seq' in b;
  const descending = sameKind && position(a) > position(b);
  return descending ? { ...side(b, 1), ...side(a, -1) } : { ...side(a, 1), ...side(b, -1), oldest: true };
}

function fail(session: IrcSession, code: string, ...context: string[]): void {
  session.fromServer('FAIL', 'CHATHISTORY', code, ...context, 'Cannot fetch history');
}

/**
 * IRCv3 draft/chathistory LATEST, BEFORE, AFTER, BETWEEN over the group's
 * whole kept history (docs/irc.md "History"), for any channel the user is
 * in: each request is one bounded `history` query to the core, at most
 * CHATHISTORY_MAX messages, so a client pages back as far as the history
 * goes. msgids are the group's sequence numbers.
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
  const n = Math.min(limit, CHATHISTORY_MAX);
  const outcome = await session.link.request({ type: 'history', n, group: current, ...query(sub, a, b) });
  sendBatch(session, channelOf(current), outcome.ok ? (outcome.reply.history ?? []) : []);
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

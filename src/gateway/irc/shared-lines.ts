import { channelOf } from '../../protocol/irc/casemap';
import { serializeMessage } from '../../protocol/irc/message';
import type { FrameOf, ServerToClientFrame } from '../../protocol/frames';
import type { IrcState } from './irc-state';

type GroupMessage = FrameOf<ServerToClientFrame, 'group_msg'>;

/**
 * A group message's IRC lines, formatted once per message and tag variant
 * (with or without `time`, with or without `msgid`) and shared by every
 * member that receives it — as an IRC server formats a channel line once.
 * The core hands every member of a group the same frame object
 * (SessionLink), so the cache is keyed on it and dies with it; a member's
 * `time` tag is the moment the first member's copy was formatted, which is
 * the same event-loop turn.
 */
const cache = new WeakMap<GroupMessage, Map<number, Buffer>>();

/** The lines (each ending in CR LF) that show `frame` to a client in `state`'s channel. */
export function groupMessageLines(state: IrcState, frame: GroupMessage): Buffer {
  const variant = (state.caps.has('server-time') ? 1 : 0) + (state.caps.has('message-tags') ? 2 : 0);
  let variants = cache.get(frame);
  const hit = variants?.get(variant);
  if (hit !== undefined) return hit;
  const source = `${frame.from}!${frame.from}@chatapp`;
  const lines = state.splitText(source, 'PRIVMSG', channelOf(frame.group), frame.text, frame.seq);
  const bytes = Buffer.from(lines.map((line) => `${serializeMessage(line)}\r\n`).join(''), 'utf8');
  if (variants === undefined) {
    variants = new Map<number, Buffer>();
    cache.set(frame, variants);
  }
  variants.set(variant, bytes);
  return bytes;
}

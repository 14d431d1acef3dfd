import { ircMessage, MAX_LINE_BYTES, type IrcMessage } from '../../protocol/irc/message';
import { foldName } from '../../protocol/names';
import type { Clock } from '../../util/clock';
import type { AccountKey } from './account-key';
import { RenameBook } from './rename-book';

/** The IRCv3 capabilities the gateway offers (docs/irc.md "Capabilities"). */
export const CAPABILITIES = [
  'server-time',
  'message-tags',
  'echo-message',
  'sasl',
  'batch',
  'draft/chathistory',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** A SASL PLAIN exchange in progress. */
export type SaslStep = 'idle' | 'waiting';

/**
 * What one IRC connection has told the gateway so far: registration
 * parameters, negotiated capabilities, its channels. Plain data plus the
 * helpers that depend on it (tags by capability, line splitting).
 */
export class IrcState {
  nick: string | null = null;
  user: string | null = null;
  realname = '';
  password: string | null = null;
  readonly caps = new Set<Capability>();
  /** True between CAP LS/REQ and CAP END: registration waits (IRCv3 capability negotiation). */
  negotiating = false;
  sasl: SaslStep = 'idle';
  /** Base64 chunks of an AUTHENTICATE payload (400-byte pieces). */
  saslBuffer = '';
  /** The name the core registered for this connection, once it did. */
  registeredName: string | null = null;
  /** The key the core registered this session with (it signs messages saved for offline receivers). */
  key: AccountKey | null = null;
  /** True when the current name has a guest key: its account is forgotten when the session leaves the name. */
  guest = false;
  /** The name logged in with a password (SASL or PASS) and its key: a NICK back to it uses that key. */
  account: { readonly name: string; readonly key: AccountKey } | null = null;
  /** Presence the core will send for NICK changes this user has already seen as NICK lines. */
  readonly renames = new RenameBook();
  /** The last group seq shown per channel (folded group), so no message is shown twice. */
  private readonly shownSeq = new Map<string, number>();
  /** True once the welcome burst was sent. */
  welcomed = false;
  /** The groups of the channels it is in (folded → as shown), in join order; the core bounds how many. */
  private readonly joined = new Map<string, string>();
  away: string | null = null;

  constructor(private readonly clock: Clock) {}

  /** `group` as shown if the user is in its channel (any case), else null. */
  channel(group: string | null): string | null {
    return group === null ? null : (this.joined.get(foldName(group)) ?? null);
  }

  /** The groups of every channel it is in, in join order. */
  get channels(): readonly string[] {
    return [...this.joined.values()];
  }

  /** It is in `group`'s channel now (the core said so). */
  enter(group: string): void {
    this.joined.set(foldName(group), group);
  }

  /** It is out of `group`'s channel (PART, KICK, a deleted group). Returns the group as shown, if it was in it. */
  exit(group: string): string | null {
    const shown = this.channel(group);
    this.joined.delete(foldName(group));
    this.shownSeq.delete(foldName(group));
    this.renames.forgetGroup(group);
    return shown;
  }

  /** True the first time message `seq` of `group` is to be shown (false for a copy already shown). */
  firstDelivery(group: string, seq: number): boolean {
    const key = foldName(group);
    if (seq <= (this.shownSeq.get(key) ?? 0)) return false;
    this.shownSeq.set(key, seq);
    return true;
  }

  /** Tags for a line this client receives: `time` with server-time, `msgid` (the group seq) with message-tags. */
  tags(at?: number, msgid?: number): ReadonlyMap<string, string> {
    const tags = new Map<string, string>();
    if (this.caps.has('server-time')) tags.set('time', new Date(at ?? this.clock.now()).toISOString());
    if (msgid !== undefined && this.caps.has('message-tags')) tags.set('msgid', String(msgid));
    return tags;
  }

  /** A message from `source` with the tags this client asked for. */
  taggedFrom(sourceName: string, command: string, params: readonly string[], at?: number): IrcMessage {
    return ircMessage(`${sourceName}!${sourceName}@chatapp`, command, params, this.tags(at));
  }

  /**
   * `text` to `target` as one or more lines that each fit in 512 bytes
   * (docs/irc.md "Lines": a long chatapp message arrives split, never cut).
   */
  splitText(source: string, command: string, target: string, text: string, msgid?: number): IrcMessage[] {
    const budget = MAX_LINE_BYTES - Buffer.byteLength(`:${source} ${command} ${target} :\r\n`);
    const tags = this.tags(undefined, msgid);
    return chunkByBytes(text, Math.max(budget, 64)).map((part) => ircMessage(source, command, [target, part], tags));
  }
}

/** Splits `text` into pieces of at most `max` UTF-8 bytes, never inside a character. */
export function chunkByBytes(text: string, max: number): string[] {
  if (Buffer.byteLength(text) <= max) return [text];
  const pieces: string[] = [];
  let current = '';
  let bytes = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > max) {
      pieces.push(current);
      current = '';
      bytes = 0;
    }
    current += ch;
    bytes += size;
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

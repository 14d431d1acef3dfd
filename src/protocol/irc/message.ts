/**
 * IRC message lines (RFC 1459/2812 with IRCv3 message tags), as pure code
 * (docs/irc.md "Lines"). A line is `[@tags ][:source ]COMMAND params...`;
 * the last parameter may be a trailing one (`:` prefixed, may hold spaces).
 */

/** One IRC message. Tag values are unescaped; a tag without a value has ''. */
export interface IrcMessage {
  readonly tags: ReadonlyMap<string, string>;
  readonly source: string | null;
  readonly command: string;
  readonly params: readonly string[];
}

/** Most bytes of a line without its tags, CR LF included (RFC 1459). */
export const MAX_LINE_BYTES = 512;
/** Most bytes of the tags part, `@` and the space after it included (IRCv3 message-tags). */
export const MAX_TAGS_BYTES = 8191;
/** Most parameters a message carries (RFC 2812). */
export const MAX_PARAMS = 15;

const ESCAPES: Readonly<Record<string, string>> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

/** IRCv3 tag value unescaping; an unknown escape drops its backslash, a lone final backslash is dropped. */
export function unescapeTagValue(value: string): string {
  return value.replace(/\\(.?)/gs, (_m, c: string) => (c === '' ? '' : (ESCAPES[c] ?? c)));
}

/** IRCv3 tag value escaping (inverse of unescapeTagValue). */
export function escapeTagValue(value: string): string {
  return value.replace(/[; \\\r\n]/g, (c) => {
    if (c === ';') return '\\:';
    if (c === ' ') return '\\s';
    if (c === '\\') return '\\\\';
    return c === '\r' ? '\\r' : '\\n';
  });
}

/** Takes the next space-delimited word of `line` from `at`; returns it and where the rest begins. */
function word(line: string, at: number): [string, number] {
  const end = line.indexOf(' ', at);
  if (end === -1) return [line.slice(at), line.length];
  let next = end;
  while (line[next] === ' ') next++;
  return [line.slice(at, end), next];
}

function parseTags(raw: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const item of raw.split(';')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    if (key !== '') tags.set(key, eq === -1 ? '' : unescapeTagValue(item.slice(eq + 1)));
  }
  return tags;
}

/**
 * Parses one line (without its CR LF). Null for a line with no command.
 * Never throws: any string gives a message or null.
 */
export function parseMessage(input: string): IrcMessage | null {
  let at = 0;
  while (input[at] === ' ') at++;
  let tags = new Map<string, string>();
  let source: string | null = null;
  if (input[at] === '@') {
    const [raw, next] = word(input, at + 1);
    tags = parseTags(raw);
    at = next;
  }
  if (input[at] === ':') {
    const [raw, next] = word(input, at + 1);
    source = raw;
    at = next;
  }
  const [command, afterCommand] = word(input, at);
  if (command === '') return null;
  return { tags, source, command: command.toUpperCase(), params: parseParams(input, afterCommand) };
}

function parseParams(input: string, from: number): string[] {
  const params: string[] = [];
  let at = from;
  while (at < input.length) {
    if (input[at] === ':' || params.length === MAX_PARAMS - 1) {
      params.push(input[at] === ':' ? input.slice(at + 1) : input.slice(at));
      break;
    }
    const [param, next] = word(input, at);
    if (param !== '') params.push(param);
    at = next;
  }
  return params;
}

/** True when `param` can be sent as a middle (non-final) parameter. */
function isMiddle(param: string): boolean {
  return param !== '' && !param.startsWith(':') && !param.includes(' ');
}

/**
 * Commands whose last parameter is text: sent as trailing (`:text`) even
 * when one word, as servers do and as simple clients and bots expect.
 */
const TEXT_LAST: ReadonlySet<string> = new Set(['PRIVMSG', 'NOTICE', 'PART', 'KICK', 'QUIT', 'TOPIC']);

/**
 * Serializes a message as one line without CR LF. The last parameter is sent
 * as trailing when it needs to be (empty, spaces, leading `:`). CR, LF and
 * NUL in parameters would split or cut the line, so they become spaces.
 */
export function serializeMessage(message: IrcMessage): string {
  const parts: string[] = [];
  if (message.tags.size > 0) {
    const tags = [...message.tags].map(([k, v]) => (v === '' ? k : `${k}=${escapeTagValue(v)}`));
    parts.push(`@${tags.join(';')}`);
  }
  if (message.source !== null) parts.push(`:${message.source}`);
  parts.push(message.command);
  const params = message.params.map((p) => p.replace(/[\r\n\0]/g, ' '));
  const textLast = params.length >= 2 && TEXT_LAST.has(message.command);
  params.forEach((param, i) => {
    const last = i === params.length - 1;
    parts.push(last && (textLast || !isMiddle(param)) ? `:${param}` : param);
  });
  return parts.join(' ');
}

/** Builds a message from its parts (no tags unless given). */
export function ircMessage(
  source: string | null,
  command: string,
  params: readonly string[],
  tags: ReadonlyMap<string, string> = new Map(),
): IrcMessage {
  return { tags, source, command, params };
}

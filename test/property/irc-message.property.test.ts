import fc from 'fast-check';
import {
  escapeTagValue,
  MAX_PARAMS,
  parseMessage,
  serializeMessage,
  unescapeTagValue,
  type IrcMessage,
} from '../../src/protocol/irc/message';
import { IrcLineReader, MAX_TOTAL_LINE_BYTES } from '../../src/protocol/irc/line-reader';

const chars = (alphabet: string, min: number, max: number): fc.Arbitrary<string> =>
  fc.string({ unit: fc.constantFrom(...alphabet.split('')), minLength: min, maxLength: max });

const WORD = 'abcXYZ019-_.[]{}|\\^!@#$%&*+=/?<>,~`"\'';
/** Any text without the bytes that end or cut a line. */
const lineSafe = fc.string({ maxLength: 30 }).map((s) => s.replace(/[\r\n\0]/g, ''));
const middle = chars(WORD + ':', 1, 12).filter((p) => !p.startsWith(':'));
const tagKey = chars('abcdefghijklmnopqrstuvwxyz0123456789-/.+', 1, 12);
const tagValue = fc.string({ maxLength: 20 });

const messageArb: fc.Arbitrary<IrcMessage> = fc
  .record({
    tags: fc.uniqueArray(fc.tuple(tagKey, tagValue), { maxLength: 4, selector: ([k]) => k }),
    source: fc.option(chars(WORD.replace(/[@:]/g, '') + '!@', 1, 20), { nil: null }),
    command: fc.oneof(chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ', 1, 10), chars('0123456789', 3, 3)),
    middles: fc.array(middle, { maxLength: MAX_PARAMS - 1 }),
    trailing: fc.option(lineSafe, { nil: undefined }),
  })
  .map(({ tags, source, command, middles, trailing }) => ({
    tags: new Map(tags),
    source,
    command,
    params: trailing === undefined ? middles : [...middles, trailing],
  }));

const plain = (m: IrcMessage) => ({ ...m, tags: [...m.tags] });

describe('IRC message parse/serialize', () => {
  test('parse(serialize(m)) gives back m', () => {
    fc.assert(fc.property(messageArb, (m) => expect(plain(parseMessage(serializeMessage(m))!)).toEqual(plain(m))));
  });

  test('tag values survive escaping', () => {
    fc.assert(fc.property(fc.string(), (v) => expect(unescapeTagValue(escapeTagValue(v))).toBe(v)));
  });

  test('any string parses or gives null, never throws, and a parsed command is upper case', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        const m = parseMessage(s);
        if (m !== null) expect(m.command).toBe(m.command.toUpperCase());
      }),
    );
  });

  test('a serialized line never carries CR, LF or NUL, whatever the parameters hold', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { minLength: 1, maxLength: 5 }), (params) => {
        expect(serializeMessage({ tags: new Map(), source: null, command: 'PRIVMSG', params })).not.toMatch(/[\r\n\0]/);
      }),
    );
  });

  test('known lines parse as the RFCs and IRCv3 say', () => {
    expect(plain(parseMessage('@a=b\\sc;d :nick!u@h privmsg #chan :hello  world ')!)).toEqual({
      tags: [
        ['a', 'b c'],
        ['d', ''],
      ],
      source: 'nick!u@h',
      command: 'PRIVMSG',
      params: ['#chan', 'hello  world '],
    });
    expect(parseMessage('NICK   alice   ')!.params).toEqual(['alice']);
    expect(parseMessage('USER a 0 * :Real Name')!.params).toEqual(['a', '0', '*', 'Real Name']);
    expect(parseMessage('   ')).toBeNull();
    expect(parseMessage(':onlysource')).toBeNull();
    expect(unescapeTagValue('a\\')).toBe('a');
    expect(unescapeTagValue('\\b')).toBe('b');
  });
});

describe('IrcLineReader', () => {
  const lines = (reader: IrcLineReader, chunks: Buffer[]) => chunks.flatMap((c) => reader.push(c));

  test('any split of a byte stream gives the same events, and the buffer stays bounded', () => {
    const stream = fc
      .array(
        fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constantFrom('\r\n', '\n', '\r', 'PRIVMSG #a :hi\r\n', '\0')),
        {
          maxLength: 30,
        },
      )
      .map((parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const whole = lines(new IrcLineReader(64), [bytes]);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...points].map((p, i) => bytes.subarray(p, points[i] ?? bytes.length));
        const reader = new IrcLineReader(64);
        expect(lines(reader, chunks)).toEqual(whole);
        expect(reader.bufferedBytes).toBeLessThanOrEqual(64);
      }),
    );
  });

  test('CR, LF and CR LF end lines; empty lines vanish; NUL cuts its line; bad UTF-8 becomes U+FFFD', () => {
    const reader = new IrcLineReader();
    expect(reader.push(Buffer.from('A\rB\nC\r\n\r\n\nD\0E\r\n'))).toEqual([
      { kind: 'line', text: 'A' },
      { kind: 'line', text: 'B' },
      { kind: 'line', text: 'C' },
      { kind: 'line', text: 'D' },
    ]);
    expect(reader.push(Buffer.from([0x41, 0xff, 0x0a]))).toEqual([{ kind: 'line', text: 'A\ufffd' }]);
  });

  test('an over-long line is reported once and dropped whole; the next line is read', () => {
    const reader = new IrcLineReader();
    const long = Buffer.alloc(MAX_TOTAL_LINE_BYTES + 10, 0x61);
    expect(reader.push(long)).toEqual([]);
    expect(reader.bufferedBytes).toBe(0);
    expect(reader.push(Buffer.from('\r\nPING x\r\n'))).toEqual([
      { kind: 'too_long' },
      { kind: 'line', text: 'PING x' },
    ]);
  });
});

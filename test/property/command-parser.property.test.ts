import fc from 'fast-check';
import { parseCommand, type Command, type Mode } from '../../src/cli/command-parser';
import { hintFor } from '../../src/cli/command-hints';
import { nameArb } from './frame-arbitraries';

const modeArb = fc.constantFrom<Mode>('normal', 'group');
const COMMAND_WORDS = [
  'send',
  'send_group',
  'dereg',
  'create_group',
  'join_group',
  'list_groups',
  'list_members',
  'leave_group',
  'who',
  'help',
];
/** Lines that look like commands often enough to reach every branch. */
const lineArb = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc
    .tuple(
      fc.constantFrom(...COMMAND_WORDS, ''),
      fc.constantFrom(' ', '  ', '\t', ''),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.constantFrom('', '\r', ' ', '\u00a0'),
    )
    .map(([w, sep, rest, end]) => `${w}${sep}${rest}${end}`),
  fc.string({ maxLength: 10_000 }),
);
const textArb = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 80 })
  .filter((t) => t.trim() !== '' && !t.includes('\n') && !t.endsWith('\r'));

const NORMAL_KINDS = new Set(['send', 'create_group', 'list_groups', 'join_group']);
const GROUP_KINDS = new Set(['send_group', 'list_members', 'leave_group']);
const EVERY_KIND = new Set([
  ...NORMAL_KINDS,
  ...GROUP_KINDS,
  'dereg',
  'who',
  'help',
  'empty',
  'invalid',
  'invalid_group_name',
]);

describe('parseCommand properties (docs/usage.md "Client")', () => {
  it('never throws on any typed line, and never returns a command of the other mode', () => {
    fc.assert(
      fc.property(lineArb, modeArb, (line, mode) => {
        const command: Command = parseCommand(line, mode);
        expect(EVERY_KIND.has(command.kind)).toBe(true);
        expect((mode === 'group' ? NORMAL_KINDS : GROUP_KINDS).has(command.kind)).toBe(false);
        if (line.trim() === '') expect(command).toEqual({ kind: 'empty' });
      }),
      { numRuns: 2000 },
    );
  });

  it('send <name> <message> keeps the name and the message text exactly', () => {
    fc.assert(
      fc.property(nameArb, textArb, (name, text) => {
        expect(parseCommand(`send ${name} ${text}`, 'normal')).toEqual({ kind: 'send', name, text });
        expect(parseCommand(`send ${name} ${text}`, 'group')).toEqual({ kind: 'invalid' });
      }),
    );
  });

  it('send_group <message> keeps the text exactly, in group mode only', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        expect(parseCommand(`send_group ${text}`, 'group')).toEqual({ kind: 'send_group', text });
        expect(parseCommand(`send_group ${text}`, 'normal')).toEqual({ kind: 'invalid' });
      }),
    );
  });

  it('create_group/join_group accept exactly the valid names and report any other single word as an invalid group name', () => {
    const wordArb = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 40 })
      .filter((w) => !/\s/.test(w) && w.trim() === w);
    fc.assert(
      fc.property(fc.oneof(nameArb, wordArb), fc.constantFrom('create_group', 'join_group'), (group, kind) => {
        const valid = /^[A-Za-z0-9_.-]{1,32}$/.test(group);
        expect(parseCommand(`${kind} ${group}`, 'normal')).toEqual(
          valid ? { kind, group } : { kind: 'invalid_group_name', group },
        );
      }),
      { numRuns: 500 },
    );
  });

  it('commands without arguments refuse extra words, and commands with arguments refuse none', () => {
    fc.assert(
      fc.property(nameArb, (word) => {
        expect(parseCommand(`list_groups ${word}`, 'normal')).toEqual({ kind: 'invalid' });
        expect(parseCommand(`leave_group ${word}`, 'group')).toEqual({ kind: 'invalid' });
        expect(parseCommand(`dereg ${word} ${word}`, 'normal')).toEqual({ kind: 'invalid' });
        expect(parseCommand(`dereg ${word}`, 'group')).toEqual({ kind: 'dereg', name: word });
      }),
    );
    for (const [line, mode] of [
      ['send', 'normal'],
      ['send bob', 'normal'],
      ['send bob ', 'normal'],
      ['dereg', 'normal'],
      ['create_group', 'normal'],
      ['send_group', 'group'],
      ['send_group   ', 'group'],
    ] as const) {
      expect(parseCommand(line, mode)).toEqual({ kind: 'invalid' });
    }
  });

  it('a refused line gets at most one hint, and a mode hint only for a command word of the other mode', () => {
    fc.assert(
      fc.property(lineArb, modeArb, (line, mode) => {
        if (parseCommand(line, mode).kind !== 'invalid') return;
        const hint = hintFor(line, mode);
        const word = line.trim().split(/\s+/)[0] ?? '';
        const other = mode === 'normal' ? GROUP_KINDS : NORMAL_KINDS;
        if (hint !== null && hint.kind !== 'usage') expect(other.has(word)).toBe(true);
        if (other.has(word)) expect(hint?.kind).toBe(mode === 'normal' ? 'only_in_group' : 'not_in_group_mode');
      }),
      { numRuns: 2000 },
    );
  });
});

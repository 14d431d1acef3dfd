import { isValidName } from '../protocol/names';

/**
 * Pure parser for what a client user types (docs/usage.md "Client"): one line in, one typed
 * command out, aware of the mode. A command valid only in the other mode, an
 * unknown command, or missing/extra arguments give `invalid`; a bad group name
 * gives `invalid_group_name`. Message text is the rest of the line after the
 * single space that follows the command (and name), preserved exactly.
 */

export type Mode = 'normal' | 'group';

export type Command =
  | { readonly kind: 'send'; readonly name: string; readonly text: string }
  | { readonly kind: 'dereg'; readonly name: string }
  | { readonly kind: 'create_group'; readonly group: string }
  | { readonly kind: 'list_groups' }
  | { readonly kind: 'join_group'; readonly group: string }
  | { readonly kind: 'send_group'; readonly text: string }
  | { readonly kind: 'list_members' }
  | { readonly kind: 'leave_group' }
  | { readonly kind: 'who' }
  | { readonly kind: 'history'; readonly n: number }
  | { readonly kind: 'delete_group'; readonly group: string }
  | { readonly kind: 'delete_account'; readonly name: string }
  | { readonly kind: 'help' }
  | { readonly kind: 'empty' }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'invalid_group_name'; readonly group: string };

/** Commands valid in each mode, in the order `help` lists them. */
export const COMMAND_HELP: Readonly<Record<Mode, readonly string[]>> = {
  normal: [
    'send <name> <message>',
    'dereg <name>',
    'create_group <group>',
    'list_groups',
    'join_group <group>',
    'delete_group <group>',
    'delete_account <name>',
    'who',
    'help',
  ],
  group: ['send_group <message>', 'list_members', 'history [n]', 'leave_group', 'dereg <name>', 'who', 'help'],
};

const NORMAL_ONLY = new Set(['send', 'create_group', 'list_groups', 'join_group', 'delete_group', 'delete_account']);
const GROUP_ONLY = new Set(['send_group', 'list_members', 'leave_group', 'history']);

/** `history` shows 10 messages unless told otherwise, at most 100 (docs/usage.md "Group history"). */
export const HISTORY_DEFAULT = 10;
export const HISTORY_MAX = 100;

const INVALID: Command = { kind: 'invalid' };

/** Splits off the first space-delimited word; `rest` is everything after the one space that ends it. */
function splitWord(text: string): { word: string; rest: string | null } {
  const space = text.indexOf(' ');
  return space === -1 ? { word: text, rest: null } : { word: text.slice(0, space), rest: text.slice(space + 1) };
}

/** Parses one typed line in `mode`. Leading whitespace and a trailing `\r` are ignored. */
export function parseCommand(line: string, mode: Mode): Command {
  const input = line.replace(/\r$/, '').replace(/^[ \t]+/, '');
  if (input.trim() === '') return { kind: 'empty' }; // docs/usage.md "Client": empty lines are ignored
  const { word, rest } = splitWord(input);
  if ((mode === 'group' && NORMAL_ONLY.has(word)) || (mode === 'normal' && GROUP_ONLY.has(word))) return INVALID;
  switch (word) {
    case 'send':
      return parseSend(rest);
    case 'send_group':
      return hasText(rest) ? { kind: 'send_group', text: rest } : INVALID;
    case 'dereg':
      return oneArgument(rest, (name) => ({ kind: 'dereg', name }));
    case 'create_group':
    case 'join_group':
    case 'delete_group':
      return oneArgument(rest, (group) => groupCommand(word, group));
    case 'delete_account':
      return oneArgument(rest, (name) => ({ kind: 'delete_account', name }));
    case 'history':
      return parseHistory(rest);
    case 'list_groups':
    case 'list_members':
    case 'leave_group':
    case 'who':
    case 'help':
      return noArguments(rest) ? { kind: word } : INVALID;
    default:
      return INVALID; // docs/usage.md "Client": unknown command
  }
}

function parseSend(rest: string | null): Command {
  if (rest === null) return INVALID;
  const { word: name, rest: text } = splitWord(rest.replace(/^ +/, ''));
  if (name === '' || !hasText(text)) return INVALID; // docs/usage.md "Client": missing arguments
  return { kind: 'send', name, text };
}

/** `history [n]`: 1 ≤ n ≤ 100, default 10. */
function parseHistory(rest: string | null): Command {
  if (noArguments(rest)) return { kind: 'history', n: HISTORY_DEFAULT };
  const arg = (rest ?? '').trim();
  if (!/^\d{1,3}$/.test(arg)) return INVALID;
  const n = Number(arg);
  return n >= 1 && n <= HISTORY_MAX ? { kind: 'history', n } : INVALID;
}

function groupCommand(kind: 'create_group' | 'join_group' | 'delete_group', group: string): Command {
  if (!isValidName(group)) return { kind: 'invalid_group_name', group }; // docs/usage.md "Command-line mistakes"
  return { kind, group };
}

function hasText(text: string | null): text is string {
  return text !== null && text.trim() !== '';
}

function noArguments(rest: string | null): boolean {
  return rest === null || rest.trim() === '';
}

/** Exactly one argument word (surrounding spaces tolerated). */
function oneArgument(rest: string | null, make: (arg: string) => Command): Command {
  const arg = (rest ?? '').trim();
  if (arg === '' || /\s/.test(arg)) return INVALID;
  return make(arg);
}

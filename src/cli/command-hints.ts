import { COMMAND_HELP, type Mode } from './command-parser';

/**
 * The one hint line that may follow `[Invalid command]` (docs/usage.md
 * "When a command is refused"). Pure: a refused line and the mode in, at
 * most one hint out.
 */
export type CommandHint =
  /** A known command given wrong arguments, or a near miss of one: its usage. */
  | { readonly kind: 'usage'; readonly usage: string }
  /** A normal-mode command typed in group mode. */
  | { readonly kind: 'not_in_group_mode'; readonly command: string }
  /** A group-mode command typed in normal mode. */
  | { readonly kind: 'only_in_group'; readonly command: string };

/** A typo this close to a command (edits) is taken for it; further off, no guess is made. */
const MAX_TYPO_DISTANCE = 2;

/** The command word of each usage line, per mode (`send <name> <message>` → `send`). */
function usages(mode: Mode): Map<string, string> {
  return new Map(COMMAND_HELP[mode].map((usage) => [usage.split(' ')[0] ?? usage, usage]));
}

/**
 * The hint for a line the parser refused in `mode`, or null: the other
 * mode's command gets the mode hint, a known command (or a close typo of
 * one in this mode) its usage, anything else none.
 */
export function hintFor(line: string, mode: Mode): CommandHint | null {
  const word = line.replace(/\r$/, '').trim().split(/\s+/)[0] ?? '';
  if (word === '') return null;
  const here = usages(mode);
  const known = here.get(word);
  if (known !== undefined) return { kind: 'usage', usage: known };
  if (usages(mode === 'normal' ? 'group' : 'normal').has(word)) {
    return mode === 'normal' ? { kind: 'only_in_group', command: word } : { kind: 'not_in_group_mode', command: word };
  }
  const guess = closest(word, [...here.keys()]);
  return guess === null ? null : { kind: 'usage', usage: here.get(guess) ?? guess };
}

/** The one candidate within MAX_TYPO_DISTANCE edits of `word` (case ignored), or null if none or a tie. */
function closest(word: string, candidates: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = MAX_TYPO_DISTANCE + 1;
  let tie = false;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance, tie] = [candidate, d, false];
    else if (d === bestDistance) tie = true;
  }
  // A short word is within two edits of too much (`ls` → `help`?): only guess for words of 4+ characters.
  return tie || word.length < 4 || bestDistance > MAX_TYPO_DISTANCE ? null : best;
}

/** Levenshtein distance (insert, delete, substitute), two rows of memory. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitute));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

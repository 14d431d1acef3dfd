import type { ClientEntry } from '../protocol/frames';
import { foldName } from '../protocol/names';
import type { CommandHint } from './command-hints';
import { clientLines, commonLines } from './lines';

/** The hint line after `[Invalid command]`, if any (docs/usage.md "When a command is refused"). */
export function hintLine(hint: CommandHint | null): string[] {
  if (hint === null) return [];
  switch (hint.kind) {
    case 'usage':
      return [commonLines.usage(hint.usage)];
    case 'not_in_group_mode':
      return [clientLines.notInGroupMode(hint.command)];
    case 'only_in_group':
      return [clientLines.onlyInGroup(hint.command)];
    default:
      return assertNever(hint);
  }
}

/** `who`: the header, then every online client sorted without regard to case (docs/usage.md). */
export function whoLines(clients: readonly ClientEntry[]): string[] {
  const names = clients.filter((c) => c.online).map((c) => c.name);
  names.sort((a, b) => compare(foldName(a), foldName(b)) || compare(a, b));
  return [clientLines.onlineClients(), ...names.map((name) => clientLines.item(name))];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function assertNever(value: never): never {
  throw new Error(`Unhandled hint: ${JSON.stringify(value)}`);
}

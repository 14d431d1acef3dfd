import { foldName } from '../../protocol/names';

/** Most presence notices a session holds back for NICK changes (oldest forgotten first). */
const MAX_HIDDEN = 1024;

/**
 * The presence notices a NICK change will cause, which an IRC user already
 * saw as one `NICK` line (docs/irc.md "Nick changes"): the core sees a rename
 * as the new name joining each shared group and the old one leaving it, and
 * this book swallows exactly those notices, each once. Bounded: a notice
 * that never comes (the user left the group first) is dropped with its group
 * or, past MAX_HIDDEN, oldest first.
 */
export class RenameBook {
  private readonly hidden = new Set<string>();

  /** `from` became `to` in `groups`: hide its `joined` of `to` and `left` of `from` in each. */
  expect(from: string, to: string, groups: readonly string[]): void {
    for (const group of groups) {
      this.add(key('joined', to, group));
      this.add(key('left', from, group));
    }
  }

  /** True (and forgotten) if this presence notice was expected from a rename. */
  consume(state: 'joined' | 'left', name: string, group: string): boolean {
    return this.hidden.delete(key(state, name, group));
  }

  /** The user is out of `group`: nothing of it will come any more. */
  forgetGroup(group: string): void {
    const suffix = `\n${foldName(group)}`;
    for (const entry of this.hidden) if (entry.endsWith(suffix)) this.hidden.delete(entry);
  }

  get size(): number {
    return this.hidden.size;
  }

  private add(entry: string): void {
    this.hidden.add(entry);
    if (this.hidden.size > MAX_HIDDEN) this.hidden.delete(this.hidden.values().next().value!);
  }
}

function key(state: string, name: string, group: string): string {
  return `${state}\n${foldName(name)}\n${foldName(group)}`;
}

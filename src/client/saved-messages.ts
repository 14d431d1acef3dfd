import fs from 'node:fs';
import path from 'node:path';
import type { DmEnvelope } from '../protocol/dm-envelope';
import { toError } from '../util/errors';

/** Opens a saved envelope signed by `senderKey`: its text, or null when it is forged, not ours or unreadable. */
export type SavedOpener = (message: DmEnvelope, senderKey: string) => string | null;

/** Saved-message ids remembered as shown: a hundred full mailboxes' worth (docs/usage.md `--mailbox-limit`). */
export const SAVED_SEEN_CAPACITY = 10_000;

/** A saved message as shown to the user. */
export interface ShownSaved {
  readonly id: string;
  readonly from: string;
  readonly text: string;
  /** When the sender sent it (its clock, ms). */
  readonly ts: number;
}

/** What to do with a `saved` frame: the messages to show now, and the ids to ack now. */
export interface SavedVerdict {
  readonly show: ShownSaved[];
  /** The shown ones, and this message at once if it is never to be shown (seen before, forged, not ours). */
  readonly ack: string[];
}

/**
 * The saved messages this client already showed (docs/protocol.md "Saved
 * messages"). The server deletes one only after the client's ack, and the
 * client acks one only when it shows it — so if either process dies between
 * arrival and showing, the server still has it and sends it again. After a
 * crash between showing and the server's delete, the client, which wrote the
 * id down before showing it, acks it again without showing it twice — also
 * across a restart of the client when a file is given (the CLI keeps it under
 * `$XDG_DATA_HOME/chatapp/saved/<name>.ids`). Bounded: the oldest ids go
 * first once there are more than `capacity`.
 */
export class SavedInbox {
  private readonly ids = new Set<string>();
  /** The saved messages the last registration announced, until all arrived. */
  private batch: { expected: number; seen: number; shown: ShownSaved[]; waiters: Array<() => void> } | null = null;
  private fileLines = 0;
  private file: string | null;

  constructor(
    private readonly open: SavedOpener,
    file: string | null,
    private readonly onFault: (error: Error) => void,
    private readonly capacity = SAVED_SEEN_CAPACITY,
  ) {
    this.file = file;
    if (file !== null) this.load(file);
  }

  /** Where the CLI keeps `name`'s shown saved ids. */
  static fileFor(dataDir: string, name: string): string {
    return path.join(dataDir, 'saved', `${name.toLowerCase()}.ids`);
  }

  /** The register reply said `count` saved messages follow the full table. Returns what was left of an earlier batch. */
  expect(count: number): ShownSaved[] {
    const left = this.end();
    if (count > 0) this.batch = { expected: count, seen: 0, shown: [], waiters: [] };
    return left;
  }

  /** Resolves once the announced batch has all arrived (or `end` was called: the connection was lost). */
  arrived(): Promise<void> {
    const batch = this.batch;
    return batch === null ? Promise.resolve() : new Promise((resolve) => batch.waiters.push(resolve));
  }

  /**
   * A `saved` frame. Returns the messages to show now, oldest first: the
   * whole announced batch once its last message arrived (nothing before),
   * or this one alone when none was announced. A message shown before, not
   * addressed to this client, or whose signature does not hold is never
   * shown (docs/security.md).
   */
  receive(message: DmEnvelope, senderKey: string): SavedVerdict {
    const fresh = this.check(message, senderKey);
    const refused = fresh === null ? [message.id] : [];
    const batch = this.batch;
    if (batch === null) {
      if (fresh !== null) this.remember(fresh.id); // written down before it is shown
      return this.verdict(fresh === null ? [] : [fresh], refused);
    }
    if (fresh !== null) batch.shown.push(fresh);
    return this.verdict(++batch.seen >= batch.expected ? this.end() : [], refused);
  }

  /** Ends the announced batch (complete, or the connection was lost): what arrived of it, to show now. */
  end(): ShownSaved[] {
    const batch = this.batch;
    if (batch === null) return [];
    this.batch = null;
    for (const resolve of batch.waiters) resolve();
    for (const message of batch.shown) this.remember(message.id); // written down before it is shown
    return batch.shown;
  }

  private verdict(show: ShownSaved[], refused: string[]): SavedVerdict {
    return { show, ack: [...refused, ...show.map((m) => m.id)] };
  }

  /** The message if it is to be shown: not shown before (nor waiting in this batch), and opened (ours, signed by its sender). */
  private check(message: DmEnvelope, senderKey: string): ShownSaved | null {
    if (this.ids.has(message.id) || this.batch?.shown.some((m) => m.id === message.id)) return null;
    const text = this.open(message, senderKey);
    if (text === null) return null;
    return { id: message.id, from: message.from, text, ts: message.ts };
  }

  private remember(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value!);
    if (this.file === null) return;
    try {
      if (this.fileLines >= this.capacity * 2) this.rewrite(this.file);
      else fs.appendFileSync(this.file, `${id}\n`, { mode: 0o600 });
      this.fileLines++;
    } catch (err) {
      this.giveUpFile(err);
    }
  }

  private load(file: string): void {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      const lines = fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      for (const id of lines.slice(-this.capacity)) this.ids.add(id);
      this.fileLines = lines.length;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.giveUpFile(err);
    }
  }

  private rewrite(file: string): void {
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, [...this.ids].map((id) => `${id}\n`).join(''), { mode: 0o600 });
    fs.renameSync(tmp, file);
    this.fileLines = this.ids.size;
  }

  private giveUpFile(err: unknown): void {
    this.file = null; // carry on in memory
    this.onFault(toError(err));
  }
}

import fs from 'node:fs';
import path from 'node:path';
import type { SignedMessage } from '../protocol/frames';
import { sameName } from '../protocol/names';
import { toError } from '../util/errors';
import { verifyDm } from './identity';

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

/**
 * The saved messages this client already showed (docs/protocol.md "Saved
 * messages"). The server deletes one only after the client's ack, so after a
 * crash between the two it sends it again: the client, which wrote the id
 * down before showing it, acks it again without showing it twice — also
 * across a restart of the client when a file is given (the CLI keeps it under
 * `$XDG_DATA_HOME/chatapp/saved/<name>.ids`). Bounded: the oldest ids go
 * first once there are more than `capacity`.
 */
export class SavedInbox {
  private readonly ids = new Set<string>();
  private fileLines = 0;
  private file: string | null;

  constructor(
    private readonly name: string,
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

  /**
   * A `saved` frame: the message to show, or null when it was shown before, is
   * not addressed to this client, or its signature does not hold (docs/security.md).
   */
  receive(message: SignedMessage, senderKey: string): ShownSaved | null {
    if (this.ids.has(message.id)) return null;
    if (!sameName(message.to, this.name) || !verifyDm(senderKey, message, message.sig)) return null;
    this.remember(message.id); // written down before it is shown
    return { id: message.id, from: message.from, text: message.text, ts: message.ts };
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
      const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
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

import fs from 'node:fs';
import path from 'node:path';
import { foldName, isValidName } from '../protocol/names';
import { PublicKey } from '../protocol/primitives';
import { toError } from '../util/errors';

/** Names pinned at most; past it the pin used longest ago is forgotten (docs/usage.md "Files"). */
export const KNOWN_CLIENTS_CAPACITY = 10_000;

/**
 * The identity keys of the names this client has exchanged private messages
 * with, kept in `$XDG_DATA_HOME/chatapp/known_clients` (docs/usage.md
 * "Files", docs/security.md "Trust on first use"): one line
 * `<name> <ed25519 key base64>` per name, mode 0600, bounded. A name is
 * pinned at its first exchange. When the server's table later shows another
 * key for a pinned name, `check` says so once and pins the new key: the user
 * is warned, and the conversation goes on (as Signal does). Malformed lines
 * are skipped; a file that cannot be written leaves the pins in memory.
 */
export class KnownClients {
  /** Folded name → the name as pinned and its key; insertion order is the eviction order. */
  private readonly pins = new Map<string, { readonly name: string; readonly key: string }>();
  private file: string | null;

  constructor(
    file: string | null,
    private readonly onFault: (error: Error) => void,
    private readonly capacity = KNOWN_CLIENTS_CAPACITY,
  ) {
    this.file = file;
    if (file !== null) this.load(file);
  }

  /** The key pinned for `name` (any case), if any. */
  keyOf(name: string): string | undefined {
    return this.pins.get(foldName(name))?.key;
  }

  /** A private message was exchanged with `name` under `key`: pins it if it was not. */
  exchanged(name: string, key: string): void {
    if (this.pins.has(foldName(name))) return;
    this.pin(name, key);
  }

  /**
   * The server lists `name` with `key`. True — once — when `name` is pinned
   * to another key; the new key is pinned, so the next check is quiet.
   */
  check(name: string, key: string): boolean {
    const pinned = this.keyOf(name);
    if (pinned === undefined || pinned === key) return false;
    this.pin(name, key);
    return true;
  }

  private pin(name: string, key: string): void {
    const folded = foldName(name);
    this.pins.delete(folded);
    this.pins.set(folded, { name, key });
    if (this.pins.size > this.capacity) this.pins.delete(this.pins.keys().next().value!);
    this.save();
  }

  private load(file: string): void {
    try {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const [name, key, extra] = line.trim().split(/\s+/);
        if (name === undefined || key === undefined || extra !== undefined) continue;
        if (!isValidName(name) || !PublicKey.safeParse(key).success) continue;
        this.pins.set(foldName(name), { name, key });
      }
      while (this.pins.size > this.capacity) this.pins.delete(this.pins.keys().next().value!);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.giveUpFile(err);
    }
  }

  /** Rewrites the whole file (a new pin is rare: a first exchange, or a changed key), atomically. */
  private save(): void {
    if (this.file === null) return;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      const text = [...this.pins.values()].map((p) => `${p.name} ${p.key}\n`).join('');
      fs.writeFileSync(tmp, text, { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (err) {
      this.giveUpFile(err);
    }
  }

  private giveUpFile(err: unknown): void {
    this.file = null; // carry on in memory
    this.onFault(toError(err));
  }
}

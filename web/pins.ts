import { PINS, getValue, putValue } from './idb.js';

/** Names pinned per page identity; past it the oldest pin is forgotten. */
const CAPACITY = 10_000;

/** What a key seen for a name means: first time, the pinned one, or another one (re-pinned). */
export type PinVerdict = 'new' | 'same' | 'changed';

/**
 * The identity keys of the names this page exchanged private messages with,
 * kept in IndexedDB like the terminal client's `known_clients` (docs/security.md
 * "Private messages in the browser page"): when the server's table later
 * shows another key for a pinned name, the page says so once — *the identity
 * of <name> has changed* — pins the new key and goes on, as Signal does.
 */
export class KnownKeys {
  private readonly keys = new Map<string, string>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly owner: string) {}

  /** The pins of the page identity `name` (any case), empty on first use. */
  static async load(name: string): Promise<KnownKeys> {
    const known = new KnownKeys(name.toLowerCase());
    const kept = (await getValue(PINS, known.owner)) as ReadonlyArray<readonly [string, string]> | undefined;
    for (const [peer, key] of kept ?? []) known.keys.set(peer, key);
    return known;
  }

  /** Compares `key` with the pin of `name`, pinning it when new or changed. */
  see(name: string, key: string): PinVerdict {
    const peer = name.toLowerCase();
    const pinned = this.keys.get(peer);
    if (pinned === key) return 'same';
    this.keys.delete(peer); // re-inserted last: the most recently pinned
    this.keys.set(peer, key);
    while (this.keys.size > CAPACITY) this.keys.delete(this.keys.keys().next().value as string);
    const snapshot = [...this.keys];
    this.saving = this.saving.then(() => putValue(PINS, this.owner, snapshot)).catch(() => undefined);
    return pinned === undefined ? 'new' : 'changed';
  }
}

import { Mutex } from 'async-mutex';
import type { ClientEntry } from '../protocol/frames';
import { foldName } from '../protocol/names';
import type { Owner, Registration, RegisterResult } from './chat-store';

/** Offline entries a client table keeps by default; older ones are forgotten (clients may keep them). */
export const MAX_OFFLINE_ENTRIES = 1_000;

/**
 * The client table (docs/architecture.md "Store"): name, host, listen port,
 * key, online flag. Each online name is owned by one connection (an opaque
 * owner token), so only that connection can take it offline. Its mutex is
 * taken by its public verbs only. Each verb decides its change, waits for
 * `persist` (a store that writes through to disk commits it there), and only
 * then applies it: readers never see an uncommitted change, and the mutex is
 * what keeps the decision true across that wait. Never writes sockets,
 * never prints.
 *
 * Names compare without regard to case (docs/usage.md "Names"): every map is
 * keyed by the folded name, and an entry keeps the spelling it was first
 * registered with for as long as the table keeps it.
 */
export class ClientTable {
  private readonly mutex = new Mutex();
  /** Folded name → entry. */
  private readonly entries = new Map<string, ClientEntry>();
  /** Folded name → the connection that holds it online. */
  private readonly owners = new Map<string, Owner>();
  /** Offline folded names, in the order they went offline (the oldest are forgotten past the cap). */
  private readonly offline = new Set<string>();

  constructor(
    private readonly persist: (change: ClientEntry) => Promise<void> = async () => undefined,
    /** Offline entries kept (docs/architecture.md "Store": the table is the online clients and the recently offline). */
    private readonly maxOffline = MAX_OFFLINE_ENTRIES,
  ) {}

  /** Registers `reg` for `owner`; an offline name may be taken again from any address. */
  register(reg: Registration, owner: Owner): Promise<RegisterResult> {
    return this.mutex.runExclusive(async (): Promise<RegisterResult> => {
      const key = foldName(reg.name);
      const known = this.entries.get(key);
      if (known?.online) return { ok: false, code: 'name_in_use' }; // usage.md: unique among online, any case
      // docs/usage.md "Names": shown as first registered.
      const entry: ClientEntry = { name: known?.name ?? reg.name, host: reg.host, port: reg.port, online: true, key: reg.key };
      await this.persist(entry);
      this.entries.set(key, entry);
      this.owners.set(key, owner);
      this.offline.delete(key);
      return { ok: true, entry };
    });
  }

  /** Marks `name` offline if `owner` still holds it; the new entry, or null if nothing changed. */
  async goOffline(name: string, owner: Owner): Promise<ClientEntry | null> {
    return (await this.goOfflineThen(name, owner, async () => undefined))?.entry ?? null;
  }

  /**
   * As goOffline, then runs `alsoInside` with the lock still held (lock
   * order: this table, then the group table), so nobody can register the
   * name again between the two steps. Null, and `alsoInside` is not run,
   * when nothing changed.
   */
  goOfflineThen<T>(name: string, owner: Owner, alsoInside: () => Promise<T>): Promise<{ entry: ClientEntry; inside: T } | null> {
    return this.mutex.runExclusive(async () => {
      const key = foldName(name);
      const current = this.entries.get(key);
      if (!current?.online || this.owners.get(key) !== owner) return null;
      const entry: ClientEntry = { ...current, online: false };
      await this.persist(entry);
      this.entries.set(key, entry);
      this.owners.delete(key);
      this.offline.add(key);
      if (this.offline.size > this.maxOffline) this.forgetOldestOffline();
      return { entry, inside: await alsoInside() };
    });
  }

  /** Drops the entry that went offline longest ago, so name churn cannot grow the table without bound. */
  private forgetOldestOffline(): void {
    const oldest = this.offline.values().next();
    if (oldest.done) return;
    this.offline.delete(oldest.value);
    this.entries.delete(oldest.value);
  }

  /** The entry for `name` in any case, if any (a readonly value: entries are replaced, never mutated). */
  get(name: string): ClientEntry | undefined {
    return this.entries.get(foldName(name));
  }

  /** Every entry, in first-registration order. */
  snapshot(): readonly ClientEntry[] {
    return [...this.entries.values()];
  }

  /** Number of online clients. */
  get onlineCount(): number {
    return this.owners.size;
  }
}

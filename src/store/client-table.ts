import { Mutex } from 'async-mutex';
import type { ClientEntry } from '../protocol/frames';
import type { Owner, Registration, RegisterResult } from './chat-store';

/** Offline entries a client table keeps by default; older ones are forgotten (clients may keep them). */
export const MAX_OFFLINE_ENTRIES = 1_000;

/** An account: a name bound to the key that first registered it (docs/security.md "Accounts"). */
export interface Account {
  readonly name: string;
  readonly key: string;
  readonly createdAt: number;
}

/** A change to the accounts, handed to the persistence hook inside the critical section. */
export type AccountChange =
  | { readonly kind: 'bound'; readonly account: Account }
  | { readonly kind: 'deleted'; readonly name: string };

/**
 * The client table (docs/architecture.md "Store"): the accounts (name → key,
 * durable) and the table entries (name, host, listen port, key, online flag)
 * of the online clients and the recently offline. Each online name is owned
 * by one connection (an opaque owner token), so only that connection can
 * take it offline. Its mutex is taken by its public verbs only. Each verb
 * decides its change, waits for `persist` (a durable store commits it
 * there), and only then applies it: readers never see an uncommitted
 * change, and the mutex is what keeps the decision true across that wait.
 * Never writes sockets, never prints.
 */
export class ClientTable {
  private readonly mutex = new Mutex();
  private readonly accounts = new Map<string, Account>();
  private readonly entries = new Map<string, ClientEntry>();
  private readonly owners = new Map<string, Owner>();
  /** Offline names, in the order they went offline (the oldest are forgotten past the cap). */
  private readonly offline = new Set<string>();

  constructor(
    private readonly persist: (change: AccountChange) => Promise<void> = async () => undefined,
    private readonly now: () => number = Date.now,
    /** Offline entries kept (docs/architecture.md "Store": the table is the online clients and the recently offline). */
    private readonly maxOffline = MAX_OFFLINE_ENTRIES,
    accounts: Iterable<Account> = [],
  ) {
    for (const account of accounts) this.accounts.set(account.name, account);
  }

  /** Registers `reg` for `owner`, binding the name to its key at first use (docs/security.md "Accounts"). */
  register(reg: Registration, owner: Owner): Promise<RegisterResult> {
    return this.mutex.runExclusive(async (): Promise<RegisterResult> => {
      const account = this.accounts.get(reg.name);
      if (account !== undefined && account.key !== reg.key) return { ok: false, code: 'name_owned' };
      const holder = this.owners.get(reg.name);
      if (holder !== undefined) return { ok: false, code: 'name_in_use', holder }; // usage.md: unique among online
      if (account === undefined) {
        const bound: Account = { name: reg.name, key: reg.key, createdAt: this.now() };
        await this.persist({ kind: 'bound', account: bound });
        this.accounts.set(reg.name, bound);
      }
      const entry: ClientEntry = { name: reg.name, host: reg.host, port: reg.port, online: true, key: reg.key };
      this.entries.set(reg.name, entry);
      this.owners.set(reg.name, owner);
      this.offline.delete(reg.name);
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
      const current = this.entries.get(name);
      if (!current?.online || this.owners.get(name) !== owner) return null;
      const entry: ClientEntry = { ...current, online: false };
      this.entries.set(name, entry);
      this.owners.delete(name);
      this.offline.add(name);
      if (this.offline.size > this.maxOffline) this.forgetOldestOffline();
      return { entry, inside: await alsoInside() };
    });
  }

  /**
   * Forgets the account of `name` if `owner` holds it online, then runs
   * `alsoInside` under the lock (as goOfflineThen). Null when `owner` does
   * not hold the name.
   */
  deleteAccountThen<T>(name: string, owner: Owner, alsoInside: () => Promise<T>): Promise<{ inside: T } | null> {
    return this.mutex.runExclusive(async () => {
      if (this.owners.get(name) !== owner) return null;
      await this.persist({ kind: 'deleted', name });
      this.accounts.delete(name);
      this.entries.delete(name);
      this.owners.delete(name);
      this.offline.delete(name);
      return { inside: await alsoInside() };
    });
  }

  /** Drops the entry that went offline longest ago, so name churn cannot grow the table without bound. */
  private forgetOldestOffline(): void {
    const oldest = this.offline.values().next();
    if (oldest.done) return;
    this.offline.delete(oldest.value);
    this.entries.delete(oldest.value);
  }

  /** The entry for `name`, if any (a readonly value: entries are replaced, never mutated). */
  get(name: string): ClientEntry | undefined {
    return this.entries.get(name);
  }

  /** The account of `name`, if any. */
  account(name: string): Account | undefined {
    return this.accounts.get(name);
  }

  /** Every entry, in first-registration order. */
  snapshot(): readonly ClientEntry[] {
    return [...this.entries.values()];
  }

  /** Number of online clients. */
  get onlineCount(): number {
    return this.owners.size;
  }

  /** Number of accounts. */
  get accountCount(): number {
    return this.accounts.size;
  }
}

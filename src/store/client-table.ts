import { Mutex } from 'async-mutex';
import type { ClientEntry } from '../protocol/frames';
import { foldName } from '../protocol/names';
import type { Owner, Registration, RegisterResult } from './chat-store';

/** Offline entries a client table keeps by default; older ones are forgotten (clients may keep them). */
export const MAX_OFFLINE_ENTRIES = 1_000;

/** An account: a name bound to the key that first registered it (docs/security.md "Accounts"). */
export interface Account {
  readonly name: string;
  readonly key: string;
  readonly createdAt: number;
  /** The last X25519 key the owner published, and its signature (docs/security.md "End-to-end encryption"). */
  readonly ekey?: string;
  readonly ekeySig?: string;
}

/** The `ekey`/`ekeySig` fields of an account or registration, for an entry: both, or none. */
export function encryptionOf(from: { readonly ekey?: string; readonly ekeySig?: string }): {
  ekey?: string;
  ekeySig?: string;
} {
  return from.ekey !== undefined && from.ekeySig !== undefined ? { ekey: from.ekey, ekeySig: from.ekeySig } : {};
}

/** A change to the accounts, handed to the persistence hook inside the critical section. */
export type AccountChange =
  { readonly kind: 'bound'; readonly account: Account } | { readonly kind: 'deleted'; readonly name: string };

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
 *
 * Names compare without regard to case (docs/usage.md "Names"): every map is
 * keyed by the folded name, and an account and its entry keep the spelling
 * the name was first registered with.
 */
export class ClientTable {
  private readonly mutex = new Mutex();
  /** Folded name → account. */
  private readonly accounts = new Map<string, Account>();
  /** Folded name → table entry. */
  private readonly entries = new Map<string, ClientEntry>();
  /** Folded name → the connection that holds it online. */
  private readonly owners = new Map<string, Owner>();
  /** Offline folded names, in the order they went offline (the oldest are forgotten past the cap). */
  private readonly offline = new Set<string>();

  constructor(
    private readonly persist: (change: AccountChange) => Promise<void> = async () => undefined,
    private readonly now: () => number = Date.now,
    /** Offline entries kept (docs/architecture.md "Store": the table is the online clients and the recently offline). */
    private readonly maxOffline = MAX_OFFLINE_ENTRIES,
    accounts: Iterable<Account> = [],
  ) {
    for (const account of accounts) this.accounts.set(foldName(account.name), account);
  }

  /** Registers `reg` for `owner`, binding the name to its key at first use (docs/security.md "Accounts"). */
  register(reg: Registration, owner: Owner): Promise<RegisterResult> {
    return this.mutex.runExclusive(async (): Promise<RegisterResult> => {
      const folded = foldName(reg.name);
      const account = this.accounts.get(folded);
      if (account !== undefined && account.key !== reg.key) return { ok: false, code: 'name_owned' };
      const holder = this.owners.get(folded);
      if (holder !== undefined) return { ok: false, code: 'name_in_use', holder }; // usage.md: unique among online, any case
      const updated = boundAccount(account, reg, this.now);
      if (updated !== account) {
        await this.persist({ kind: 'bound', account: updated });
        this.accounts.set(folded, updated);
      }
      // docs/usage.md "Names": shown as first registered.
      const entry: ClientEntry = {
        name: updated.name,
        host: reg.host,
        port: reg.port,
        online: true,
        key: reg.key,
        ...encryptionOf(reg),
      };
      this.entries.set(folded, entry);
      this.owners.set(folded, owner);
      this.offline.delete(folded);
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
  goOfflineThen<T>(
    name: string,
    owner: Owner,
    alsoInside: () => Promise<T>,
  ): Promise<{ entry: ClientEntry; inside: T } | null> {
    return this.mutex.runExclusive(async () => {
      const folded = foldName(name);
      const current = this.entries.get(folded);
      if (!current?.online || this.owners.get(folded) !== owner) return null;
      const entry: ClientEntry = { ...current, online: false };
      this.entries.set(folded, entry);
      this.owners.delete(folded);
      this.offline.add(folded);
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
      const folded = foldName(name);
      const account = this.accounts.get(folded);
      if (this.owners.get(folded) !== owner || account === undefined) return null;
      await this.persist({ kind: 'deleted', name: account.name });
      this.accounts.delete(folded);
      this.entries.delete(folded);
      this.owners.delete(folded);
      this.offline.delete(folded);
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

  /** The entry for `name` in any case, if any (a readonly value: entries are replaced, never mutated). */
  get(name: string): ClientEntry | undefined {
    return this.entries.get(foldName(name));
  }

  /** The account of `name` in any case, if any. */
  account(name: string): Account | undefined {
    return this.accounts.get(foldName(name));
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

/**
 * The account after `reg` registered: a new one at first use; the same one
 * with the encryption key `reg` published when it differs (a client may
 * publish a new one at any registration); or `account` itself, unchanged.
 */
function boundAccount(account: Account | undefined, reg: Registration, now: () => number): Account {
  const published = encryptionOf(reg);
  if (account === undefined) return { name: reg.name, key: reg.key, createdAt: now(), ...published };
  if (published.ekey === undefined || (published.ekey === account.ekey && published.ekeySig === account.ekeySig))
    return account;
  return { ...account, ...published };
}

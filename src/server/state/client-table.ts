import { Mutex } from 'async-mutex';
import type { ClientEntry } from '../../protocol/frames';

/**
 * Lock order (STYLE §7): when a verb needs both tables, take the client table
 * before the group table, and never hold either lock across socket I/O or an
 * ack wait. Every critical section mutates synchronously, so the synchronous
 * snapshots below always see a consistent state.
 */

/** What a client supplies when it registers. */
export interface Registration {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly key: string;
}

/** Result of `ClientTable.register`. */
export type RegisterResult =
  | { readonly ok: true; readonly entry: ClientEntry }
  | { readonly ok: false; readonly code: 'name_in_use' };

/**
 * SPEC §4 client table: name, host, listen port, key, online flag. Each online
 * name is owned by one connection (an opaque owner token), so only that
 * connection can take it offline. Never writes sockets, never prints.
 */
export class ClientTable {
  private readonly mutex = new Mutex();
  private readonly entries = new Map<string, ClientEntry>();
  private readonly owners = new Map<string, number>();

  /** Registers `reg` for `owner`; an offline name may be taken again from any address. */
  register(reg: Registration, owner: number): Promise<RegisterResult> {
    return this.mutex.runExclusive((): RegisterResult => {
      const current = this.entries.get(reg.name);
      if (current?.online) return { ok: false, code: 'name_in_use' }; // SPEC §4: unique among online
      const entry: ClientEntry = { name: reg.name, host: reg.host, port: reg.port, online: true, key: reg.key };
      this.entries.set(reg.name, entry);
      this.owners.set(reg.name, owner);
      return { ok: true, entry };
    });
  }

  /** Marks `name` offline if `owner` still holds it; returns the new entry, or null if nothing changed. */
  goOffline(name: string, owner: number): Promise<ClientEntry | null> {
    return this.mutex.runExclusive((): ClientEntry | null => {
      const current = this.entries.get(name);
      if (!current?.online || this.owners.get(name) !== owner) return null;
      const entry: ClientEntry = { ...current, online: false };
      this.entries.set(name, entry);
      this.owners.delete(name);
      return entry;
    });
  }

  /** The entry for `name`, if any (a readonly value: entries are replaced, never mutated). */
  get(name: string): ClientEntry | undefined {
    return this.entries.get(name);
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

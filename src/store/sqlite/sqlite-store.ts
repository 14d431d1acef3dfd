import type Database from 'better-sqlite3';
import type { DmEnvelope } from '../../protocol/dm-envelope';
import type { HistoryEntry } from '../../protocol/frames';
import type { HistoryQuery, NewGroupMessage, SavedMessage } from '../chat-store';
import { encryptionOf, type Account, type AccountChange } from '../client-table';
import type { GroupChange, GroupRecord } from '../group-table';
import type { HistoryLog } from '../history-log';
import type { Mailbox } from '../mailbox';
import { MemoryStore, type Persistence } from '../memory-store';
import { closeDataDir, openDataDir } from './data-dir';
import { TurnBatch } from './turn-batch';

/** How to open the database store. */
export interface SqliteStoreOptions {
  /** The data directory (docs/usage.md `--data`). */
  readonly dir: string;
  /** Messages kept per group. */
  readonly historyLimit: number;
  readonly now?: () => number;
}

/**
 * The default store: the tables of MemoryStore, loaded from and written
 * through to an embedded SQLite database in the data directory
 * (docs/architecture.md "Store"). Accounts and groups are read into memory
 * at start (small); the history and the mailboxes stay on disk and are read
 * when asked for, so a start does not grow with the history. Every write is
 * batched into one transaction per event-loop turn and resolves once
 * committed. Who is online and who is in which group are not kept: clients
 * come back and re-join by themselves.
 */
export function openSqliteStore(options: SqliteStoreOptions): MemoryStore {
  const db = openDataDir(options.dir);
  const batch = new TurnBatch(db);
  const accounts = (
    db.prepare('SELECT name, key, created_at AS createdAt, ekey, ekey_sig AS ekeySig FROM accounts').all() as Array<
      Omit<Account, 'ekey' | 'ekeySig'> & { ekey: string | null; ekeySig: string | null }
    >
  ).map(({ ekey, ekeySig, ...account }) => ({
    ...account,
    ...encryptionOf({ ekey: ekey ?? undefined, ekeySig: ekeySig ?? undefined }),
  }));
  const groups = db
    .prepare('SELECT name, creator, created_at AS createdAt FROM groups ORDER BY created_at, rowid')
    .all() as GroupRecord[];
  return new MemoryStore({
    persistence: new SqlitePersistence(db, batch),
    history: new SqliteHistory(db, batch, options.historyLimit),
    mailbox: new SqliteMailbox(db, batch, options.now ?? Date.now),
    accounts,
    groups,
    now: options.now,
    onClose: async () => {
      batch.commit();
      closeDataDir(db, options.dir);
    },
  });
}

/** Account and group changes, committed inside the tables' critical sections. */
class SqlitePersistence implements Persistence {
  private readonly insertAccount: Database.Statement;
  private readonly deleteAccount: Database.Statement;
  private readonly deleteMailbox: Database.Statement;
  private readonly insertGroup: Database.Statement;
  private readonly deleteGroup: Database.Statement;
  private readonly deleteHistory: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly batch: TurnBatch,
  ) {
    this.insertAccount = db.prepare(
      'INSERT OR REPLACE INTO accounts (name, key, created_at, ekey, ekey_sig) VALUES (?, ?, ?, ?, ?)',
    );
    this.deleteAccount = db.prepare('DELETE FROM accounts WHERE name = ?');
    this.deleteMailbox = db.prepare('DELETE FROM mailbox WHERE recipient = ?');
    this.insertGroup = db.prepare('INSERT INTO groups (name, creator, created_at, last_seq) VALUES (?, ?, ?, 0)');
    this.deleteGroup = db.prepare('DELETE FROM groups WHERE name = ?');
    this.deleteHistory = db.prepare('DELETE FROM history WHERE grp = ?');
  }

  account(change: AccountChange): Promise<void> {
    if (change.kind === 'bound') {
      const { name, key, createdAt, ekey, ekeySig } = change.account;
      return this.batch.run(() => this.insertAccount.run(name, key, createdAt, ekey ?? null, ekeySig ?? null));
    }
    return this.batch.run(() => {
      this.deleteAccount.run(change.name);
      this.deleteMailbox.run(change.name);
    });
  }

  group(change: GroupChange): Promise<void> {
    switch (change.kind) {
      case 'created': {
        const { name, creator, createdAt } = change.group;
        return this.batch.run(() => this.insertGroup.run(name, creator, createdAt));
      }
      case 'deleted':
        return this.batch.run(() => {
          this.deleteGroup.run(change.group);
          this.deleteHistory.run(change.group);
        });
      case 'joined':
      case 'left':
        return Promise.resolve(); // membership does not survive a restart (docs/usage.md)
    }
  }
}

/** Group histories in the database; each group's seq is kept beside it, so it never goes back. */
class SqliteHistory implements HistoryLog {
  private readonly lastSeqs = new Map<string, number>();
  private readonly readSeq: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly setSeq: Database.Statement;
  private readonly trim: Database.Statement;
  private readonly newest: Database.Statement;
  private readonly newestAfter: Database.Statement;
  /** Inside all four bounds, newest first / oldest first (CHATHISTORY paging, docs/irc.md "History"). */
  private readonly boundedNewest: Database.Statement;
  private readonly boundedOldest: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly batch: TurnBatch,
    private readonly limit: number,
  ) {
    this.readSeq = db.prepare('SELECT last_seq FROM groups WHERE name = ?').pluck();
    this.insert = db.prepare('INSERT INTO history (grp, seq, sender, text, at) VALUES (?, ?, ?, ?, ?)');
    this.setSeq = db.prepare('UPDATE groups SET last_seq = ? WHERE name = ?');
    this.trim = db.prepare('DELETE FROM history WHERE grp = ? AND seq <= ?');
    const columns = 'SELECT seq, sender AS "from", text, at FROM history';
    this.newest = db.prepare(`${columns} WHERE grp = ? ORDER BY seq DESC LIMIT ?`);
    this.newestAfter = db.prepare(`${columns} WHERE grp = ? AND seq > ? ORDER BY seq DESC LIMIT ?`);
    const bounded = `${columns} WHERE grp = ? AND seq > ? AND seq < ? AND at > ? AND at < ? ORDER BY seq`;
    this.boundedNewest = db.prepare(`${bounded} DESC LIMIT ?`);
    this.boundedOldest = db.prepare(`${bounded} ASC LIMIT ?`);
  }

  async append(group: string, message: NewGroupMessage): Promise<number> {
    // The seq is taken now, in call order; the commit of this turn's batch makes it durable.
    const seq = this.lastSeq(group) + 1;
    this.lastSeqs.set(group, seq);
    await this.batch.run(() => {
      if (this.limit > 0) this.insert.run(group, seq, message.from, message.text, message.at);
      this.setSeq.run(seq, group);
      if (seq > this.limit) this.trim.run(group, seq - this.limit);
    });
    return seq;
  }

  async read(group: string, query: HistoryQuery): Promise<readonly HistoryEntry[]> {
    const { after = 0, before, afterAt, beforeAt, limit, oldest = false } = query;
    if (before !== undefined || afterAt !== undefined || beforeAt !== undefined || oldest) {
      const max = Number.MAX_SAFE_INTEGER;
      const args = [group, after, before ?? max, afterAt ?? -max, beforeAt ?? max, limit];
      const rows = (oldest ? this.boundedOldest : this.boundedNewest).all(...args) as HistoryEntry[];
      return oldest ? rows : rows.reverse();
    }
    const rows = (
      query.after === undefined
        ? this.newest.all(group, query.limit)
        : this.newestAfter.all(group, query.after, query.limit)
    ) as HistoryEntry[];
    return rows.reverse();
  }

  async drop(group: string): Promise<void> {
    this.lastSeqs.delete(group); // the rows went with the group (SqlitePersistence)
  }

  private lastSeq(group: string): number {
    let seq = this.lastSeqs.get(group);
    if (seq === undefined) {
      seq = (this.readSeq.get(group) as number | undefined) ?? 0;
      this.lastSeqs.set(group, seq);
    }
    return seq;
  }
}

/** Mailboxes in the database. */
class SqliteMailbox implements Mailbox {
  private readonly count: Database.Statement;
  private readonly exists: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly removeAll: Database.Statement;
  private readonly countAll: Database.Statement;

  constructor(
    db: Database.Database,
    private readonly batch: TurnBatch,
    private readonly now: () => number,
  ) {
    this.count = db.prepare('SELECT COUNT(*) FROM mailbox WHERE recipient = ?').pluck();
    this.exists = db.prepare('SELECT 1 FROM mailbox WHERE id = ?').pluck();
    this.insert = db.prepare(
      'INSERT INTO mailbox (id, recipient, sender, sender_key, ts, epk, iv, ct, sig, saved_at, addressed_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.select = db.prepare(
      'SELECT id, addressed_to, sender, sender_key, ts, epk, iv, ct, sig FROM mailbox WHERE recipient = ? ORDER BY saved_at, rowid',
    );
    this.remove = db.prepare('DELETE FROM mailbox WHERE recipient = ? AND id = ?');
    this.removeAll = db.prepare('DELETE FROM mailbox WHERE recipient = ?');
    this.countAll = db.prepare('SELECT COUNT(*) FROM mailbox').pluck();
  }

  async save(recipient: string, message: DmEnvelope, senderKey: string, limit: number): Promise<boolean> {
    const { id, from, ts, epk, iv, ct, sig } = message;
    let saved = false;
    // Checked inside the transaction: two saves racing for the last place cannot both take it.
    await this.batch.run(() => {
      if (this.exists.get(id) !== undefined)
        saved = true; // a retried save: kept once
      else if ((this.count.get(recipient) as number) < limit) {
        this.insert.run(id, recipient, from, senderKey, ts, epk, iv, ct, sig, this.now(), message.to);
        saved = true;
      }
    });
    return saved;
  }

  async list(name: string): Promise<readonly SavedMessage[]> {
    const rows = this.select.all(name) as Array<
      Record<'id' | 'addressed_to' | 'sender' | 'sender_key' | 'epk' | 'iv' | 'ct' | 'sig', string> & { ts: number }
    >;
    return rows.map((r) => ({
      message: { id: r.id, from: r.sender, to: r.addressed_to, ts: r.ts, epk: r.epk, iv: r.iv, ct: r.ct, sig: r.sig },
      senderKey: r.sender_key,
    }));
  }

  delete(name: string, ids: readonly string[]): Promise<void> {
    return this.batch.run(() => {
      for (const id of ids) this.remove.run(name, id);
    });
  }

  drop(name: string): Promise<void> {
    return this.batch.run(() => this.removeAll.run(name));
  }

  async total(): Promise<number> {
    let total = 0;
    await this.batch.run(() => (total = this.countAll.get() as number)); // after this turn's writes
    return total;
  }
}

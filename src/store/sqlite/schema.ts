import type Database from 'better-sqlite3';

/**
 * The database schema, as forward migrations (docs/architecture.md "Store"):
 * MIGRATIONS[i] takes a database from version i to i + 1, and
 * `PRAGMA user_version` says which version a file has. A file of an older
 * version is migrated on open; one of a newer version is refused untouched.
 * test/store/sqlite-migrations.test.ts opens a database of every older
 * version. Never edit a migration that has shipped: add one.
 */
export const MIGRATIONS: readonly string[] = [
  // 0 → 1: accounts, groups, their history and the mailboxes.
  `CREATE TABLE accounts (
     name TEXT PRIMARY KEY,
     key TEXT NOT NULL,
     created_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE groups (
     name TEXT PRIMARY KEY,
     creator TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE history (
     grp TEXT NOT NULL,
     seq INTEGER NOT NULL,
     sender TEXT NOT NULL,
     text TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (grp, seq)
   ) WITHOUT ROWID;
   CREATE TABLE mailbox (
     id TEXT PRIMARY KEY,
     recipient TEXT NOT NULL, -- the receiver's name as shown (mailboxes are found by it)
     sender TEXT NOT NULL,
     sender_key TEXT NOT NULL,
     ts INTEGER NOT NULL,
     text TEXT NOT NULL,
     sig TEXT NOT NULL,
     saved_at INTEGER NOT NULL,
     addressed_to TEXT NOT NULL -- "to" as the sender wrote and signed it
   );
   CREATE INDEX mailbox_by_recipient ON mailbox (recipient, saved_at);`,
  // 1 → 2: each group's last seq, so numbering never goes back after a restart, even when
  // its history was trimmed to nothing (--history-limit 0) — version 1 took MAX(seq) of the history.
  `ALTER TABLE groups ADD COLUMN last_seq INTEGER NOT NULL DEFAULT 0;
   UPDATE groups SET last_seq = (SELECT COALESCE(MAX(seq), 0) FROM history WHERE grp = groups.name);`,
  // 2 → 3: end-to-end encryption (docs/security.md). Accounts keep the X25519 key their owner
  // published; the mailbox holds sealed envelopes (text becomes the ciphertext, beside its
  // ephemeral key and nonce). Saved messages of version 2 were stored readable and no client
  // of this version shows an unsealed private message, so they are dropped, not carried over.
  `ALTER TABLE accounts ADD COLUMN ekey TEXT;
   ALTER TABLE accounts ADD COLUMN ekey_sig TEXT;
   DELETE FROM mailbox;
   ALTER TABLE mailbox RENAME COLUMN text TO ct;
   ALTER TABLE mailbox ADD COLUMN epk TEXT NOT NULL DEFAULT '';
   ALTER TABLE mailbox ADD COLUMN iv TEXT NOT NULL DEFAULT '';`,
];

/** The version this server writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies every migration past the file's version, in one transaction. Returns the version it was at. */
export function migrate(db: Database.Database): number {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from >= SCHEMA_VERSION) return from;
  db.transaction(() => {
    for (let v = from; v < SCHEMA_VERSION; v++) db.exec(MIGRATIONS[v]!);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  return from;
}

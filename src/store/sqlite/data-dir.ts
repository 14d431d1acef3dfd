import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate, SCHEMA_VERSION } from './schema';

/** The database file inside a data directory. */
export const DB_FILE = 'chatapp.db';
/**
 * The SHA-256 of the database file, written at a clean close and checked at
 * the next open: bytes changed while no server ran are found even where
 * SQLite's own check cannot see them (in free space). After a crash there
 * is none, and SQLite's check alone decides.
 */
export const CHECKSUM_FILE = `${DB_FILE}.sha256`;

/** Why a data directory cannot be used; the CLI prints the matching line (docs/usage.md "Durable state"). */
export class DataDirError extends Error {
  override readonly name = 'DataDirError';
  constructor(
    /** `in_use`: another server holds it; `unusable`: it cannot be opened, is corrupt or newer. */
    readonly kind: 'in_use' | 'unusable',
    readonly dir: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    // One output line: SQLite's messages (quick_check's report) may span several.
    super(reason.replace(/\s+/g, ' ').trim(), options);
  }
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');
/** Where SQLite keeps `PRAGMA user_version` in the file header (4 bytes, big-endian). */
const USER_VERSION_OFFSET = 60;
const HEADER_BYTES = 100;

/**
 * Opens the data directory's database for this server alone (docs/usage.md
 * "Durable state"): creates the directory (mode 0700) and database on first
 * use; refuses — leaving every file exactly as it was — a file that is not a
 * SQLite database, was written by a newer chatapp, or is corrupt; and holds
 * SQLite's exclusive lock for as long as it is open, so a second server on
 * the same directory is refused at once (and a killed server's lock goes
 * with its process). WAL journal, synchronous=NORMAL: a committed
 * transaction survives `kill -9` of the server. Older schemas are migrated.
 */
export function openDataDir(dir: string): Database.Database {
  const file = path.join(dir, DB_FILE);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new DataDirError('unusable', dir, reasonOf(err), { cause: err });
  }
  // An empty file is a database SQLite never wrote to (a crash right after creating it): a new one.
  const existed = fs.existsSync(file) && fs.statSync(file).size > 0;
  if (existed) checkHeader(dir, file);
  // A file exactly as a clean close left it was checked when it was opened then: reading every page
  // again would cost a second start of a big database (docs/benchmarks.md "Store").
  const unchanged = existed && checkChecksum(dir, file);
  const before = sideFiles(file);
  let db: Database.Database | null = null;
  try {
    db = new Database(file);
    // Before anything is read: the lock is never released, and no shared-memory index is made.
    db.pragma('locking_mode = EXCLUSIVE');
    if (existed && !unchanged) checkIntegrity(dir, db);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('BEGIN EXCLUSIVE; COMMIT;'); // take the write lock now, not at the first write
    migrate(db);
    fs.rmSync(path.join(dir, CHECKSUM_FILE), { force: true }); // from now on the file changes
    return db;
  } catch (err) {
    db?.close();
    removeNew(file, before); // a refused file is left exactly as it was
    if (err instanceof DataDirError) throw err;
    if (isBusy(err)) throw new DataDirError('in_use', dir, 'in use by another server', { cause: err });
    throw new DataDirError('unusable', dir, reasonOf(err), { cause: err });
  }
}

/** Closes the database (SQLite checkpoints its journal into the file) and records the file's checksum. */
export function closeDataDir(db: Database.Database, dir: string): void {
  db.close();
  const sum = sha256(path.join(dir, DB_FILE));
  const tmp = path.join(dir, `${CHECKSUM_FILE}.tmp`);
  fs.writeFileSync(tmp, `${sum}\n`, { mode: 0o600 });
  fs.renameSync(tmp, path.join(dir, CHECKSUM_FILE));
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Refuses a file whose bytes changed since the last clean close; true if one was recorded and matches. */
function checkChecksum(dir: string, file: string): boolean {
  let recorded: string;
  try {
    recorded = fs.readFileSync(path.join(dir, CHECKSUM_FILE), 'utf8').trim();
  } catch {
    return false; // no clean close recorded (first start, or after a crash)
  }
  if (sha256(file) !== recorded)
    throw new DataDirError('unusable', dir, `${DB_FILE} is corrupt (its bytes changed since the server last stopped)`);
  return true;
}

/** Refuses, before SQLite touches it, a file that is not SQLite or was written by a newer version. */
function checkHeader(dir: string, file: string): void {
  let header: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      header = Buffer.alloc(HEADER_BYTES);
      fs.readSync(fd, header, 0, HEADER_BYTES, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    throw new DataDirError('unusable', dir, reasonOf(err), { cause: err });
  }
  if (!header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw new DataDirError('unusable', dir, `${DB_FILE} is not a chatapp database`);
  }
  const version = header.readInt32BE(USER_VERSION_OFFSET);
  if (version > SCHEMA_VERSION) {
    throw new DataDirError(
      'unusable',
      dir,
      `${DB_FILE} was written by a newer version (schema ${version}, this server knows up to ${SCHEMA_VERSION})`,
    );
  }
}

/** A read of every page: corruption anywhere is found before anything is written. */
function checkIntegrity(dir: string, db: Database.Database): void {
  const result = db.pragma('quick_check(1)', { simple: true });
  if (result !== 'ok') throw new DataDirError('unusable', dir, `${DB_FILE} is corrupt (${String(result)})`);
}

/** SQLite's -wal and -shm files that exist now. */
function sideFiles(file: string): Set<string> {
  return new Set([`${file}-wal`, `${file}-shm`].filter((f) => fs.existsSync(f)));
}

/** Removes the side files a refused open created. */
function removeNew(file: string, before: Set<string>): void {
  for (const side of [`${file}-wal`, `${file}-shm`]) {
    if (!before.has(side)) fs.rmSync(side, { force: true });
  }
}

function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** A short reason for the user's line: the SQLite or system message without the stack. */
function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB') return `${DB_FILE} is not a chatapp database`;
    if (typeof code === 'string' && code.startsWith('SQLITE_CORRUPT')) return `${DB_FILE} is corrupt (${err.message})`;
    return err.message;
  }
  return String(err);
}

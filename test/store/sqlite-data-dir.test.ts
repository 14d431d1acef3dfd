import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CHECKSUM_FILE, DataDirError, DB_FILE, openDataDir } from '../../src/store/sqlite/data-dir';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/schema';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { removeTempDirs, tempDir } from '../helpers/temp-dir';

afterAll(() => removeTempDirs());

/** Every file of `dir` with the SHA-256 of its bytes. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).sort())
    out[f] = crypto
      .createHash('sha256')
      .update(fs.readFileSync(path.join(dir, f)))
      .digest('hex');
  return out;
}

function refusal(fn: () => unknown): DataDirError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DataDirError) return err;
    throw err;
  }
  throw new Error('expected a DataDirError');
}

/** A database of schema `version`, made by the migrations of that time, with one row of each kind. */
function databaseOfVersion(dir: string, version: number): void {
  fs.mkdirSync(dir, { recursive: true });
  const db = new Database(path.join(dir, DB_FILE));
  for (let v = 0; v < version; v++) db.exec(MIGRATIONS[v]!);
  db.pragma(`user_version = ${version}`);
  db.prepare('INSERT INTO accounts (name, key, created_at) VALUES (?, ?, ?)').run(
    'alice',
    Buffer.alloc(32, 1).toString('base64'),
    5,
  );
  db.prepare('INSERT INTO groups (name, creator, created_at) VALUES (?, ?, ?)').run('room', 'alice', 6);
  db.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?)').run('room', 7, 'alice', 'seventh', 8);
  // From version 2 on, a group keeps its last seq beside it (as the server wrote it with that message).
  if (version >= 2) db.prepare('UPDATE groups SET last_seq = 7').run();
  db.close();
}

describe('SQLite data directory', () => {
  it('opens a database of every older schema version and migrates it forward, keeping its data', async () => {
    for (let version = 1; version < SCHEMA_VERSION; version++) {
      const dir = path.join(tempDir(), 'data');
      databaseOfVersion(dir, version);
      const store = openSqliteStore({ dir, historyLimit: 100 });
      expect(await store.groups()).toEqual(['room']);
      expect((await store.history('room', { limit: 5 })).map((e) => e.text)).toEqual(['seventh']);
      expect(await store.appendMessage('room', { from: 'alice', text: 'next', at: 9 })).toBe(8); // seq goes on
      expect(await store.lookup('alice')).toMatchObject({ online: false });
      await store.close();
      const db = new Database(path.join(dir, DB_FILE), { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      db.close();
    }
  });

  it('a second server on the same directory is refused while the first holds it, and admitted after', async () => {
    const dir = path.join(tempDir(), 'data');
    const first = openSqliteStore({ dir, historyLimit: 10 });
    await first.createGroup('g', 'alice');
    const err = refusal(() => openDataDir(dir));
    expect(err.kind).toBe('in_use');
    await first.close();
    const second = openSqliteStore({ dir, historyLimit: 10 });
    expect(await second.groups()).toEqual(['g']);
    await second.close();
  });

  it('refuses a database written by a newer version and leaves every file exactly as it was', () => {
    const dir = path.join(tempDir(), 'data');
    databaseOfVersion(dir, SCHEMA_VERSION);
    const db = new Database(path.join(dir, DB_FILE));
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const before = snapshot(dir);
    const err = refusal(() => openDataDir(dir));
    expect(err.kind).toBe('unusable');
    expect(err.message).toContain('newer version');
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a corrupt database (bytes flipped) and leaves every file exactly as it was', async () => {
    const dir = path.join(tempDir(), 'data');
    const store = openSqliteStore({ dir, historyLimit: 1000 });
    await store.createGroup('g', 'alice');
    for (let i = 0; i < 300; i++)
      await store.appendMessage('g', { from: 'alice', text: `message ${i} `.repeat(20), at: i });
    await store.close();
    const file = path.join(dir, DB_FILE);
    const bytes = fs.readFileSync(file);
    for (let i = 4096 + 200; i < bytes.length; i += 4096) bytes[i] = bytes[i]! ^ 0xff; // a byte in every page but the first
    fs.writeFileSync(file, bytes);
    const before = snapshot(dir);
    const err = refusal(() => openDataDir(dir));
    expect(err.kind).toBe('unusable');
    expect(err.message).toMatch(/corrupt|not a chatapp database/);
    expect(snapshot(dir)).toEqual(before);
  });

  it("after a crash (no checksum of a clean stop), SQLite's own check finds a broken page, files left as they were", async () => {
    const dir = path.join(tempDir(), 'data');
    const store = openSqliteStore({ dir, historyLimit: 1000 });
    await store.createGroup('g', 'alice');
    for (let i = 0; i < 300; i++)
      await store.appendMessage('g', { from: 'alice', text: `message ${i} `.repeat(20), at: i });
    await store.close();
    fs.rmSync(path.join(dir, CHECKSUM_FILE));
    const file = path.join(dir, DB_FILE);
    const bytes = fs.readFileSync(file);
    for (let page = 1; page * 4096 < bytes.length; page++) bytes[page * 4096] = 0x77; // no valid b-tree page type
    fs.writeFileSync(file, bytes);
    const before = snapshot(dir);
    const err = refusal(() => openDataDir(dir));
    expect(err.kind).toBe('unusable');
    expect(err.message).toMatch(/corrupt|malformed/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses a file that is not a database, and a directory it cannot create', () => {
    const dir = path.join(tempDir(), 'data');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, DB_FILE), 'hello, I am a text file and not a database at all\n'.repeat(10));
    const before = snapshot(dir);
    expect(refusal(() => openDataDir(dir)).message).toContain('not a chatapp database');
    expect(snapshot(dir)).toEqual(before);
    const blocked = path.join(tempDir(), 'file');
    fs.writeFileSync(blocked, 'x');
    expect(refusal(() => openDataDir(path.join(blocked, 'data'))).kind).toBe('unusable');
  });
});

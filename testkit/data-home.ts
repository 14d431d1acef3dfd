import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Temporary `XDG_DATA_HOME` directories for spawned `chatapp` processes, so
 * no test reads or writes the runner's `~/.local/share/chatapp` (a client
 * keeps its received-messages journal there, docs/usage.md "Files") and no
 * two tests share state.
 *
 * A data home stands for one user's machine: the processes of one test share
 * the test's home (created at the first start, removed after the test), so a
 * client stopped and started again under the same name finds its files
 * again; each test gets a fresh one. Processes kept across tests share one
 * home for the test file, removed after it. A test that wants two users'
 * machines, or a home of its own, takes one from `newDataHome()` and passes
 * it as `dataHome`.
 */

/** What a data home lives as long as: one test, or the whole test file (processes kept across tests). */
export type DataHomeScope = 'test' | 'file';

const PREFIX = path.join(os.tmpdir(), 'chatapp-xdg-');

/** The shared home of each scope, created on first use. */
const shared = new Map<DataHomeScope, string>();
/** Every directory made and not yet removed, with the scope whose end removes it. */
const made = new Map<string, DataHomeScope>();

/** A fresh empty data home, removed when `scope` ends (default: the current test). */
export function newDataHome(scope: DataHomeScope = 'test'): string {
  const dir = fs.mkdtempSync(PREFIX);
  made.set(dir, scope);
  return dir;
}

/** The data home the processes of `scope` share by default (the current test's unless `'file'`). */
export function sharedDataHome(scope: DataHomeScope = 'test'): string {
  let dir = shared.get(scope);
  if (dir === undefined) {
    dir = newDataHome(scope);
    shared.set(scope, dir);
  }
  return dir;
}

/** Removes every home of `scope` (its processes must have exited); the next use of the scope starts a fresh one. */
export function endDataHomeScope(scope: DataHomeScope): void {
  shared.delete(scope);
  for (const [dir, of] of made) {
    if (of !== scope) continue;
    fs.rmSync(dir, { recursive: true, force: true });
    made.delete(dir);
  }
}

// A program that exits (the benchmark, a failed test worker) leaves no directory behind.
process.on('exit', () => {
  for (const dir of made.keys()) fs.rmSync(dir, { recursive: true, force: true });
});

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A fresh XDG_DATA_HOME for one spawned chatapp process, so no test reads or
 * writes the runner's `~/.local/share/chatapp` (a client keeps its
 * received-messages journal there, docs/usage.md "Files") and no two test
 * processes share state by accident. A test that restarts a process on the
 * same state passes the same directory in `env` itself.
 */
export function privateDataHome(env: NodeJS.ProcessEnv = {}): { env: NodeJS.ProcessEnv; cleanup: () => void } {
  if (env['XDG_DATA_HOME'] !== undefined) return { env, cleanup: () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chatapp-xdg-'));
  return { env: { ...env, XDG_DATA_HOME: dir }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

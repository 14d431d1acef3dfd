/**
 * Helpers for the durable-state tests (docs/usage.md "Durable state"): a
 * server on a data directory the test chose (so it can be restarted on it),
 * file hashes (a refused directory is left exactly as it was), and the
 * timestamped lines of saved and history messages.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { newDataHome } from '../../testkit/data-home';
import { startServer, type RoleOptions, type StartedServer } from '../../testkit/chat-roles';

/** The server's database file inside its data directory (docs/usage.md "Files"). */
export const DB_FILE = 'chatapp.db';

/** A fresh data directory for a server, removed after the test. */
export function newDataDir(): string {
  return path.join(newDataHome(), 'server');
}

/** Starts a server on `dir` (port 0 unless `options.port`) and waits for its `Keeping state in <dir>` line. */
export async function startDurableServer(
  dir: string,
  args: readonly string[] = [],
  options: RoleOptions & { port?: number } = {},
): Promise<StartedServer> {
  const server = await startServer(['--data', dir, ...args], options);
  await server.proc.waitForLine(`>>> [Keeping state in ${dir}]`);
  return server;
}

/** SHA-256 of every file in `dir` (name → hex), to show a refused directory was not touched. */
export function hashFiles(dir: string): Record<string, string> {
  const sums: Record<string, string> = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile())
      sums[name] = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return sums;
}

/** `YYYY-MM-DD HH:MM:SS` (the clients run with TZ=UTC in these tests). */
export const STAMP = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';

/** Client environment: local time is UTC, so a shown time can be compared with the test's clock. */
export const UTC = { env: { TZ: 'UTC' } } as const;

/** The `YYYY-MM-DD HH:MM:SS` of `ms` in UTC. */
export function utcStamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A saved-message line `>>> <sender>: <stamp> <text>`, as a pattern. */
export function savedLine(sender: string, text: string): RegExp {
  return new RegExp(`^>>> ${sender}: ${STAMP} ${escape(text)}$`);
}

/** A history line `>>> (<g>) History_Message <stamp> <sender>: <text>`, as a pattern. */
export function historyLine(group: string, sender: string, text: string): RegExp {
  return new RegExp(`^>>> \\(${escape(group)}\\) History_Message ${STAMP} ${sender}: ${escape(text)}$`);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

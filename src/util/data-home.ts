import os from 'node:os';
import path from 'node:path';

/**
 * Where chatapp keeps its files (docs/usage.md "Files"): `$XDG_DATA_HOME/chatapp`,
 * or `~/.local/share/chatapp` when XDG_DATA_HOME is unset or not absolute
 * (as the XDG Base Directory specification says).
 */
export function chatappDataHome(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'chatapp');
}

import os from 'node:os';
import path from 'node:path';

/**
 * Where a client keeps state across restarts: `$XDG_DATA_HOME/chatapp`, or
 * `~/.local/share/chatapp` when XDG_DATA_HOME is unset or not absolute (the
 * XDG Base Directory rule). docs/usage.md lists what is kept there.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env['XDG_DATA_HOME'];
  const base = xdg !== undefined && path.isAbsolute(xdg) ? xdg : path.join(os.homedir(), '.local', 'share');
  return path.join(base, 'chatapp');
}

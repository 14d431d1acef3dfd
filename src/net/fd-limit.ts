import { readFileSync } from 'node:fs';

/** File descriptors a server keeps for itself: stdio, listening sockets, files, DNS, the event loop. */
export const RESERVED_DESCRIPTORS = 64;

/**
 * The soft limit on open files (`ulimit -n`) of this process, read from
 * /proc/self/limits on Linux; null where that cannot be read (another OS) or
 * the limit is unlimited.
 */
export function openFileLimit(read: () => string = () => readFileSync('/proc/self/limits', 'utf8')): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match || match[1] === 'unlimited') return null;
  return Number(match[1]);
}

/**
 * The connection limit a server can really keep (docs/security.md): at most
 * `configured`, and enough below the descriptor limit that shedding the
 * oldest unregistered connection always happens before `accept` fails.
 */
export function effectiveMaxClients(configured: number, fileLimit: number | null): number {
  if (fileLimit === null) return configured;
  return Math.max(1, Math.min(configured, fileLimit - RESERVED_DESCRIPTORS));
}

/** The most TLS handshakes a server keeps in progress when descriptors are limited. */
const MAX_HANDSHAKE_BUDGET = 1024;

/**
 * How many TLS handshakes a server may have in progress (docs/security.md
 * "Transport"): each holds a descriptor but is not yet one of the
 * `maxClients` connections, so the budget comes out of the descriptor limit
 * before `maxClients` does (a third of what is left after the reserve, at
 * most 1,024). Without a descriptor limit there is no budget to share: null.
 */
export function handshakeBudget(fileLimit: number | null): number | null {
  if (fileLimit === null) return null;
  return Math.max(1, Math.min(MAX_HANDSHAKE_BUDGET, Math.floor((fileLimit - RESERVED_DESCRIPTORS) / 3)));
}

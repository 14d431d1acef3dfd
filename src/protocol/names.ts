import { isIP } from 'node:net';

/** docs/usage.md "Command-line mistakes": names (clients and groups) are 1–32 chars of A-Z a-z 0-9 _ . - */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;

export function isValidName(value: string): boolean {
  return NAME_PATTERN.test(value);
}

/** What the name rule allows, for the line after an `Invalid name` (docs/usage.md "Names"). */
export const NAME_RULE = '1 to 32 characters: letters A-Z a-z, digits 0-9, _ . -';

/**
 * The key a name is compared by: names and group names compare without
 * regard to case (docs/usage.md "Names"). Names are ASCII, so lower-casing
 * is the whole fold.
 */
export function foldName(name: string): string {
  return name.toLowerCase();
}

/** True when `a` and `b` are the same name, ignoring case. */
export function sameName(a: string, b: string): boolean {
  return foldName(a) === foldName(b);
}

/** docs/usage.md "Command-line mistakes": a port is a decimal integer 0–65535, written without sign, point or exponent. */
export function parsePort(value: string): number | null {
  if (!/^\d{1,5}$/.test(value)) return null;
  const port = Number(value);
  return port <= 65535 ? port : null;
}

const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/**
 * docs/usage.md "Command-line mistakes": an IPv4/IPv6 literal or a hostname. A dotted all-numeric string that is
 * not a valid IPv4 address (`127.0.9999.1`, `1.2.3`) is rejected rather than
 * treated as a hostname, since no real hostname has an all-numeric top label.
 */
export function isValidHost(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  if (isIP(value) !== 0) return true;
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIP(bare) === 6) return true;
  const labels = value.replace(/\.$/, '').split('.');
  if (!labels.every((label) => HOST_LABEL.test(label))) return false;
  const last = labels[labels.length - 1] ?? '';
  return !/^\d+$/.test(last);
}

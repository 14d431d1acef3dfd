import { verifyEncryptionKey } from '../protocol/dm-envelope';
import type { ClientEntry } from '../protocol/frames';

/** Verified (key, name, ekey, ekeySig) combinations remembered; past it the cache starts afresh. */
const VERIFIED_LIMIT = 4_096;
const verified = new Set<string>();

/**
 * How a table entry can be written to privately (docs/security.md
 * "End-to-end encryption"): `{ ekey }` when it publishes an X25519 key that
 * its own Ed25519 key signed; `'none'` when it publishes none (an IRC
 * session: readable relay only); `'forged'` when it publishes one the
 * signature does not hold for — a server swapping keys — and nothing may be
 * sent to it.
 */
export type EntryEncryption = { readonly ekey: string } | 'none' | 'forged';

/** What `entry` offers for sealing private messages to it. Verifications are cached (tables repeat them). */
export function entryEncryption(entry: ClientEntry): EntryEncryption {
  const { ekey, ekeySig } = entry;
  if (ekey === undefined && ekeySig === undefined) return 'none';
  if (ekey === undefined || ekeySig === undefined) return 'forged';
  const memo = JSON.stringify([entry.key, entry.name.toLowerCase(), ekey, ekeySig]);
  if (verified.has(memo)) return { ekey };
  if (!verifyEncryptionKey(entry.key, entry.name, ekey, ekeySig)) return 'forged';
  if (verified.size >= VERIFIED_LIMIT) verified.clear();
  verified.add(memo);
  return { ekey };
}

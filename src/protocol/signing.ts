import crypto, { type KeyObject } from 'node:crypto';

/**
 * What Ed25519 signatures cover on the wire (docs/security.md). Each kind of
 * signed thing has its own domain-separation tag, so a signature made for
 * one never verifies as another; the signed bytes are the UTF-8 of a JSON
 * array, so no field boundary can be shifted.
 */

/** Tag of a registration proof. */
const REGISTER_CONTEXT = 'chatapp-register-v1';

/** The bytes a client signs to register `name` with `key` on a connection that sent `challenge`. */
export function registrationBytes(challenge: string, name: string, key: string): Buffer {
  return Buffer.from(JSON.stringify([REGISTER_CONTEXT, challenge, name, key]), 'utf8');
}

/** A fresh server challenge: 32 random bytes, base64. */
export function newChallenge(): string {
  return crypto.randomBytes(32).toString('base64');
}

const keyCache = new Map<string, KeyObject | null>();
const KEY_CACHE_LIMIT = 4096;

/** Imports a raw base64 Ed25519 public key (cached); null when it is not a valid key. */
export function importPublicKey(base64: string): KeyObject | null {
  const cached = keyCache.get(base64);
  if (cached !== undefined) return cached;
  let key: KeyObject | null = null;
  const raw = Buffer.from(base64, 'base64');
  if (raw.length === 32) {
    try {
      key = crypto.createPublicKey({
        key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') },
        format: 'jwk',
      });
    } catch {
      key = null;
    }
  }
  if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
  keyCache.set(base64, key);
  return key;
}

/** True only when `signature` (base64) is `publicKey`'s Ed25519 signature over exactly `bytes`. */
export function verifySignature(publicKey: string, bytes: Buffer, signature: string): boolean {
  const key = importPublicKey(publicKey);
  if (key === null) return false;
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64) return false;
  try {
    return crypto.verify(null, bytes, key, sig);
  } catch {
    return false;
  }
}

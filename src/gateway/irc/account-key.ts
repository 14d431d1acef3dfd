import crypto, { type KeyObject } from 'node:crypto';
import { registrationBytes } from '../../protocol/signing';
import { foldName } from '../../protocol/names';
import { dmSigningBytes, type SignedDmFields } from '../../client/identity';
import { sealEnvelope } from '../../client/dm-crypto';
import type { DmEnvelope, EnvelopeHeader } from '../../protocol/dm-envelope';

/**
 * The Ed25519 keys an IRC session registers with (docs/security.md "IRC
 * accounts"). A password (SASL PLAIN or PASS) gives a key derived with
 * scrypt, salted with a fixed label and the lower-cased name, so the same
 * name and password give the same key on every connection and the name is
 * bound to that password like a chatapp client's name is bound to its key
 * file. A guest (no password) gets a fresh random key.
 */
export interface AccountKey {
  /** Raw public key, base64 (the `key` of `register`). */
  readonly publicKey: string;
  /** Signs the registration proof for `name` over the core's challenge. */
  sign(challenge: string, name: string): string;
  /** Signs a private message as a chatapp client does (a message saved for an offline receiver). */
  signDm(fields: SignedDmFields): string;
  /**
   * Seals and signs a message saved for an offline receiver with its
   * published X25519 key `ekey`, as a chatapp client does: the database
   * never holds the text (docs/security.md "The IRC exception").
   */
  seal(header: EnvelopeHeader, ekey: string, text: string): DmEnvelope;
}

/** Label that separates this use of scrypt from any other. */
const SALT_LABEL = 'chatapp-irc-account-v1:';
/** scrypt cost: N=2^14, r=8 (16 MiB, a few tens of ms), the Node default, paid once per login. */
const SCRYPT = { N: 1 << 14, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
/** PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

function fromPrivateKey(privateKey: KeyObject): AccountKey {
  const jwk = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
  const publicKey = Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
  return {
    publicKey,
    sign: (challenge, name) =>
      crypto.sign(null, registrationBytes(challenge, name, publicKey), privateKey).toString('base64'),
    signDm: (fields) => crypto.sign(null, dmSigningBytes(fields), privateKey).toString('base64'),
    seal: (header, ekey, text) => sealEnvelope({ name: header.from, signingKey: privateKey }, header, ekey, text),
  };
}

/** The key `password` gives `name` (same inputs, same key). */
export async function passwordKey(name: string, password: string): Promise<AccountKey> {
  const seed = await new Promise<Buffer>((resolve, reject) =>
    crypto.scrypt(password, SALT_LABEL + foldName(name), 32, SCRYPT, (err, key) => (err ? reject(err) : resolve(key))),
  );
  return fromSeed(seed);
}

function fromSeed(seed: Buffer): AccountKey {
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  return fromPrivateKey(crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
}

/** A fresh random key for a guest session (from a random seed: key-pair generation has been seen to stall here). */
export function guestKey(): AccountKey {
  return fromSeed(crypto.randomBytes(32));
}

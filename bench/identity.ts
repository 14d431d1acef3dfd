import { createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { ackSigningBytes, dmSigningBytes } from '../src/client/identity';
import { EncryptionKeys, signEncryptionKey } from '../src/client/dm-crypto';

/**
 * Ed25519 identities for bench clients. The register frame wants the raw 32-byte
 * public key in standard base64; a JWK's `x` is exactly those bytes in base64url.
 * What a `dm` and a `dm_ack` signature cover is defined once, in src/client/identity.ts.
 */
export interface BenchIdentity {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
  /** Raw public key, standard base64 (44 chars). */
  readonly keyBase64: string;
  /** The X25519 pair private messages to this client are sealed for (src/client/dm-crypto.ts). */
  readonly encryption: EncryptionKeys;
}

export function newIdentity(): BenchIdentity {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('ed25519 JWK without x');
  const encryption = EncryptionKeys.fromIdentityKey(privateKey);
  return { publicKey, privateKey, keyBase64: Buffer.from(x, 'base64url').toString('base64'), encryption };
}

/** `register.ekey`/`ekeySig`: the identity's X25519 key, published under `name`. */
export function publishedKey(identity: BenchIdentity, name: string): { ekey: string; ekeySig: string } {
  const ekey = identity.encryption.publicKey;
  return { ekey, ekeySig: signEncryptionKey(identity.privateKey, name, ekey) };
}

/** Public key object from the table's base64 raw key. */
export function publicKeyFromBase64(raw: string): KeyObject {
  return createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw, 'base64').toString('base64url') },
    format: 'jwk',
  });
}

export function signDm(key: KeyObject, id: string, from: string, to: string, ts: number, text: string): string {
  return sign(null, dmSigningBytes({ id, from, to, ts, text }), key).toString('base64');
}

export function verifyDm(
  key: KeyObject,
  id: string,
  from: string,
  to: string,
  ts: number,
  text: string,
  sig: string,
): boolean {
  return verify(null, dmSigningBytes({ id, from, to, ts, text }), key, Buffer.from(sig, 'base64'));
}

/** The receiver's signature of the ack of dm `id` from `from` to `to` (itself). */
export function signAck(key: KeyObject, id: string, from: string, to: string): string {
  return sign(null, ackSigningBytes({ id, from, to }), key).toString('base64');
}

export function verifyAck(key: KeyObject, id: string, from: string, to: string, sig: string): boolean {
  return verify(null, ackSigningBytes({ id, from, to }), key, Buffer.from(sig, 'base64'));
}

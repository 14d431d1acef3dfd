import { z } from 'zod';
import { foldName } from './names';
import { Millis, Name, PublicKey, Signature } from './primitives';
import { verifySignature } from './signing';

/**
 * The end-to-end envelope of a private message (docs/protocol.md "Encrypted
 * private messages"): a self-contained JSON object that a receiver — a
 * chatapp client now, a browser page with WebCrypto later, relayed by the
 * server as `body.enc` — can check and open with nothing but the sender's
 * Ed25519 key and its own X25519 key. This module is the pure byte format;
 * the cryptography is in src/client/dm-crypto.ts.
 *
 * Algorithms (all in node:crypto and in WebCrypto): X25519 key agreement
 * between a fresh ephemeral key (`epk`) and the receiver's `ekey`,
 * HKDF-SHA256 to a 256-bit key, AES-256-GCM (`ct` is the ciphertext with
 * the 16-byte tag appended, as WebCrypto writes it), and the sender's
 * Ed25519 signature over every field.
 */

/** Domain-separation tags: the AEAD's associated data, the HKDF info, the envelope and `ekey` signatures. */
export const ENVELOPE_CONTEXT = 'chatapp-dm-v2';
export const ENVELOPE_SIG_CONTEXT = 'chatapp-dm-v2-sig';
export const EKEY_CONTEXT = 'chatapp-ekey-v1';

/** X25519 public key, raw 32 bytes in base64 (same shape as an Ed25519 key). */
export const EncryptionKey = PublicKey;
/** AES-GCM nonce: 12 random bytes in base64. */
export const Nonce = z.string().regex(/^[A-Za-z0-9+/]{16}$/);
/** Ciphertext and tag in base64: at least the 16-byte tag, at most a 64 KiB frame's worth. */
export const Ciphertext = z
  .string()
  .min(24)
  .max(88_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/);

/** The envelope of one private message. `id` is the message id (also the replay key). */
export const DmEnvelope = z.strictObject({
  id: z.string().min(1).max(64),
  from: Name,
  to: Name,
  ts: Millis,
  epk: EncryptionKey,
  iv: Nonce,
  ct: Ciphertext,
  sig: Signature,
});
export type DmEnvelope = z.infer<typeof DmEnvelope>;

/** The metadata the envelope binds: who, to whom, when, and which message. */
export type EnvelopeHeader = Pick<DmEnvelope, 'id' | 'from' | 'to' | 'ts'>;

/** AES-GCM associated data: UTF-8 of JSON.stringify(["chatapp-dm-v2", id, from, to, ts]). */
export function envelopeAad(header: EnvelopeHeader): Buffer {
  const { id, from, to, ts } = header;
  return Buffer.from(JSON.stringify([ENVELOPE_CONTEXT, id, from, to, ts]), 'utf8');
}

/** What the sender signs: UTF-8 of JSON.stringify(["chatapp-dm-v2-sig", id, from, to, ts, epk, iv, ct]). */
export function envelopeSigningBytes(envelope: Omit<DmEnvelope, 'sig'>): Buffer {
  const { id, from, to, ts, epk, iv, ct } = envelope;
  return Buffer.from(JSON.stringify([ENVELOPE_SIG_CONTEXT, id, from, to, ts, epk, iv, ct]), 'utf8');
}

/** HKDF salt: the raw ephemeral public key followed by the raw receiver key (64 bytes). */
export function envelopeSalt(epk: string, ekey: string): Buffer {
  return Buffer.concat([Buffer.from(epk, 'base64'), Buffer.from(ekey, 'base64')]);
}

/**
 * What a client signs with its Ed25519 identity to publish its X25519 key:
 * UTF-8 of JSON.stringify(["chatapp-ekey-v1", name in lower case, ekey]). The
 * name is folded because the table shows it as first registered, which may
 * differ in case from how this registration spelled it. A server that swaps
 * a receiver's `ekey` cannot make this signature.
 */
export function ekeySigningBytes(name: string, ekey: string): Buffer {
  return Buffer.from(JSON.stringify([EKEY_CONTEXT, foldName(name), ekey]), 'utf8');
}

/** True only when `ekeySig` is `key`'s (Ed25519) signature publishing `ekey` for `name`. */
export function verifyEncryptionKey(key: string, name: string, ekey: string, ekeySig: string): boolean {
  return verifySignature(key, ekeySigningBytes(name, ekey), ekeySig);
}

import crypto, { type KeyObject } from 'node:crypto';
import {
  DmEnvelope,
  ENVELOPE_CONTEXT,
  ekeySigningBytes,
  envelopeAad,
  envelopeSalt,
  envelopeSigningBytes,
  verifyEncryptionKey,
  type EnvelopeHeader,
} from '../protocol/dm-envelope';
import { sameName } from '../protocol/names';
import { verifySignature } from '../protocol/signing';

/**
 * The cryptography of the end-to-end envelope (src/protocol/dm-envelope.ts,
 * docs/security.md "End-to-end encryption"), node:crypto only, each step one
 * WebCrypto also has: X25519, HKDF-SHA256, AES-256-GCM, Ed25519.
 */

/** HKDF info that turns an Ed25519 seed into the client's X25519 key (a fixed, versioned string). */
const X25519_FROM_SEED_INFO = 'chatapp-x25519-from-ed25519-v1';
/** PKCS#8 DER header of a raw X25519 private key (RFC 8410); the 32 key bytes follow. */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const TAG_BYTES = 16;

/** A client's X25519 key pair, derived from its Ed25519 identity: no new file, the same key at every start. */
export class EncryptionKeys {
  private constructor(
    readonly privateKey: KeyObject,
    /** Raw 32-byte X25519 public key, base64 (what `register.ekey` and the table carry). */
    readonly publicKey: string,
  ) {}

  /** Derives the pair from an Ed25519 private key: X25519 secret = HKDF-SHA256(seed, info). */
  static fromIdentityKey(ed25519: KeyObject): EncryptionKeys {
    const jwk = ed25519.export({ format: 'jwk' });
    if (typeof jwk.d !== 'string') throw new Error('not an Ed25519 private key');
    const seed = Buffer.from(jwk.d, 'base64url');
    const raw = Buffer.from(crypto.hkdfSync('sha256', seed, Buffer.alloc(0), X25519_FROM_SEED_INFO, 32));
    return EncryptionKeys.fromRaw(raw);
  }

  /**
   * A fresh random pair (an envelope's ephemeral key), imported from random
   * bytes. Not `generateKeyPairSync('x25519')`, although it is ten times
   * cheaper: on Node 20 a garbage collection during the JWK export of a key
   * it made can run the generating job's destructor, which waits for the
   * lock the export holds, and the process hangs for good (seen as a jest
   * worker stuck in a futex; docs/benchmarks.md "TLS").
   */
  static ephemeral(): EncryptionKeys {
    return EncryptionKeys.fromRaw(crypto.randomBytes(32));
  }

  private static fromRaw(raw: Buffer): EncryptionKeys {
    const privateKey = crypto.createPrivateKey({
      key: Buffer.concat([X25519_PKCS8_PREFIX, raw]),
      format: 'der',
      type: 'pkcs8',
    });
    return new EncryptionKeys(privateKey, rawPublicKey(crypto.createPublicKey(privateKey)));
  }
}

/** An X25519 public key object as raw 32 bytes in base64. */
function rawPublicKey(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('X25519 JWK export lacks x');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** Receivers' keys imported so far: a sender seals for the same few keys again and again. */
const receiverKeys = new Map<string, KeyObject | null>();
const RECEIVER_KEY_CACHE_LIMIT = 4096;

/** Imports a raw base64 X25519 public key (receivers' keys cached, bounded); null when it is not one. */
function importX25519(base64: string, cache = false): KeyObject | null {
  const cached = cache ? receiverKeys.get(base64) : undefined;
  if (cached !== undefined) return cached;
  const raw = Buffer.from(base64, 'base64');
  let key: KeyObject | null = null;
  if (raw.length === 32) {
    try {
      key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
    } catch {
      key = null;
    }
  }
  if (cache) {
    if (receiverKeys.size >= RECEIVER_KEY_CACHE_LIMIT) receiverKeys.clear();
    receiverKeys.set(base64, key);
  }
  return key;
}

/** HKDF-SHA256(X25519(priv, pub), salt = epk‖ekey, info "chatapp-dm-v2") → the AES-256 key. */
function messageKey(privateKey: KeyObject, publicKey: KeyObject, epk: string, ekey: string): Buffer {
  const shared = crypto.diffieHellman({ privateKey, publicKey });
  return Buffer.from(crypto.hkdfSync('sha256', shared, envelopeSalt(epk, ekey), ENVELOPE_CONTEXT, 32));
}

/** Who seals: its name as it signs, and the Ed25519 key that signs. */
export interface EnvelopeSender {
  readonly name: string;
  readonly signingKey: KeyObject;
}

/**
 * Encrypts `text` for the receiver whose X25519 key is `ekey` and signs the
 * result: only the holder of that key can read it, and nobody can alter any
 * field (metadata included) without the sender's key. Throws for an `ekey`
 * that is not an X25519 key.
 */
export function sealEnvelope(sender: EnvelopeSender, header: EnvelopeHeader, ekey: string, text: string): DmEnvelope {
  const receiverKey = importX25519(ekey, true);
  if (receiverKey === null) throw new Error('the receiver has no usable encryption key');
  const eph = EncryptionKeys.ephemeral();
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', messageKey(eph.privateKey, receiverKey, eph.publicKey, ekey), iv);
  cipher.setAAD(envelopeAad(header));
  const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
  const unsigned = { ...header, from: sender.name, epk: eph.publicKey, iv: iv.toString('base64'), ct };
  const sig = crypto.sign(null, envelopeSigningBytes(unsigned), sender.signingKey).toString('base64');
  return { ...unsigned, sig };
}

/** Why an envelope was refused (each maps to a `dm` error code, docs/protocol.md). */
export type OpenFailure = 'malformed' | 'bad_signature' | 'wrong_recipient' | 'undecryptable';
export type OpenResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly why: OpenFailure };

/**
 * Checks and opens an envelope addressed to `me`: the shape, then the
 * sender's signature over every field (`senderKey`: its Ed25519 key from the
 * table or a pin), then that it is for this receiver, then decrypts — the
 * tag checks the ciphertext and, through the associated data, id, from, to
 * and ts. Cheapest and most telling checks first.
 */
export function openEnvelope(me: string, keys: EncryptionKeys, senderKey: string, input: unknown): OpenResult {
  const parsed = DmEnvelope.safeParse(input);
  if (!parsed.success) return { ok: false, why: 'malformed' };
  const envelope = parsed.data;
  const { sig, ...unsigned } = envelope;
  if (!verifySignature(senderKey, envelopeSigningBytes(unsigned), sig)) return { ok: false, why: 'bad_signature' };
  if (!sameName(envelope.to, me)) return { ok: false, why: 'wrong_recipient' };
  const epk = importX25519(envelope.epk);
  const ct = Buffer.from(envelope.ct, 'base64');
  if (epk === null || ct.length < TAG_BYTES) return { ok: false, why: 'undecryptable' };
  try {
    const key = messageKey(keys.privateKey, epk, envelope.epk, keys.publicKey);
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(envelope.iv, 'base64'));
    decipher.setAAD(envelopeAad(envelope));
    decipher.setAuthTag(ct.subarray(ct.length - TAG_BYTES));
    const plain = Buffer.concat([decipher.update(ct.subarray(0, ct.length - TAG_BYTES)), decipher.final()]);
    return { ok: true, text: plain.toString('utf8') };
  } catch {
    return { ok: false, why: 'undecryptable' };
  }
}

/** The signature publishing `name`'s X25519 key, made with its Ed25519 key (`register.ekeySig`). */
export function signEncryptionKey(signingKey: KeyObject, name: string, ekey: string): string {
  return crypto.sign(null, ekeySigningBytes(name, ekey), signingKey).toString('base64');
}

export { verifyEncryptionKey };

import crypto, { type KeyObject } from 'node:crypto';
import type { DmEnvelope, EnvelopeHeader } from '../protocol/dm-envelope';
import { registrationBytes, verifySignature } from '../protocol/signing';
import { EncryptionKeys, openEnvelope, sealEnvelope, signEncryptionKey, type OpenResult } from './dm-crypto';

/** PKCS#8 DER header of a raw Ed25519 private key (RFC 8410); the 32 seed bytes follow. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * Ed25519 identity of one client process (docs/protocol.md "Limits": direct messages cannot be
 * forged). The public key travels in `register` and in the server's table as
 * raw 32 bytes in base64; a `dm` carries a signature over a fixed, versioned
 * encoding of every field the receiver relies on (docs/security.md).
 */

/** The fields of a `dm` that the signature covers. */
export interface SignedDmFields {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly ts: number;
  readonly text: string;
}

/** The fields of a `dm_ack` that its signature covers: which dm, who sent it, who took it. */
export interface SignedAckFields {
  readonly id: string;
  /** The dm's sender (who waits for this ack). */
  readonly from: string;
  /** The dm's receiver (who signs the ack). */
  readonly to: string;
}

/** Domain-separation tags: a signature made for anything else never verifies as a dm or an ack. */
const DM_CONTEXT = 'chatapp-dm-v1';
const ACK_CONTEXT = 'chatapp-dm-ack-v1';

/** The exact bytes signed: UTF-8 of JSON.stringify(["chatapp-dm-v1", id, from, to, ts, text]). */
export function dmSigningBytes(fields: SignedDmFields): Buffer {
  const { id, from, to, ts, text } = fields;
  return Buffer.from(JSON.stringify([DM_CONTEXT, id, from, to, ts, text]), 'utf8');
}

/** The exact bytes a receiver signs in `dm_ack`: UTF-8 of JSON.stringify(["chatapp-dm-ack-v1", id, from, to]). */
export function ackSigningBytes(fields: SignedAckFields): Buffer {
  const { id, from, to } = fields;
  return Buffer.from(JSON.stringify([ACK_CONTEXT, id, from, to]), 'utf8');
}

/** A client's key pair, kept in its identity file (identity-file.ts); the private key never leaves the client. */
export class Identity {
  /** The X25519 pair derived from this key (dm-crypto.ts), made at first use. */
  private derived: EncryptionKeys | null = null;

  private constructor(
    private readonly privateKey: KeyObject,
    /** Raw 32-byte Ed25519 public key, base64 (what `register.key` carries). */
    readonly publicKey: string,
  ) {}

  /**
   * A new Ed25519 identity from 32 random bytes. Imported rather than made by
   * `generateKeyPairSync`: on Node 20 exporting a generated key can deadlock
   * with a garbage collection (src/client/dm-crypto.ts `ephemeral`).
   */
  static generate(): Identity {
    const pkcs8 = Buffer.concat([ED25519_PKCS8_PREFIX, crypto.randomBytes(32)]);
    return Identity.fromPrivateKey(crypto.createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }));
  }

  /** The identity of an Ed25519 private key (read from an identity file). Throws for another kind of key. */
  static fromPrivateKey(privateKey: KeyObject): Identity {
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    const jwk = crypto.createPublicKey(privateKey).export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new Error('Ed25519 JWK export lacks x');
    return new Identity(privateKey, Buffer.from(jwk.x, 'base64url').toString('base64'));
  }

  /** The private key as PKCS#8 PEM, what an identity file holds. */
  privateKeyPem(): string {
    return this.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  }

  /** Signs a dm's fields; returns the 64-byte signature in base64. */
  sign(fields: SignedDmFields): string {
    return this.signBytes(dmSigningBytes(fields));
  }

  /** Signs the ack of a dm this client received; returns the signature in base64. */
  signAck(fields: SignedAckFields): string {
    return this.signBytes(ackSigningBytes(fields));
  }

  /** Proves holding this key to a server: signs its connection's challenge with the name (docs/security.md). */
  signRegistration(challenge: string, name: string): string {
    return this.signBytes(registrationBytes(challenge, name, this.publicKey));
  }

  /** The X25519 public key private messages to this client are sealed for (`register.ekey`). */
  get encryptionKey(): string {
    return this.encryption().publicKey;
  }

  /** `register.ekeySig`: this key's signature publishing `encryptionKey` for `name`. */
  signEncryptionKey(name: string): string {
    return signEncryptionKey(this.privateKey, name, this.encryptionKey);
  }

  /** Seals `text` from `name` for the receiver whose (verified) X25519 key is `ekey`, signed by this key. */
  seal(name: string, header: Omit<EnvelopeHeader, 'from'>, ekey: string, text: string): DmEnvelope {
    return sealEnvelope({ name, signingKey: this.privateKey }, { ...header, from: name }, ekey, text);
  }

  /** Checks and opens an envelope addressed to `me`, signed by `senderKey` (dm-crypto.ts `openEnvelope`). */
  open(me: string, senderKey: string, envelope: unknown): OpenResult {
    return openEnvelope(me, this.encryption(), senderKey, envelope);
  }

  private encryption(): EncryptionKeys {
    this.derived ??= EncryptionKeys.fromIdentityKey(this.privateKey);
    return this.derived;
  }

  private signBytes(bytes: Buffer): string {
    return crypto.sign(null, bytes, this.privateKey).toString('base64');
  }
}

/** True only when `signature` (base64) is `publicKey`'s signature over exactly these fields. */
export function verifyDm(publicKey: string, fields: SignedDmFields, signature: string): boolean {
  return verifySignature(publicKey, dmSigningBytes(fields), signature);
}

/** True only when `signature` is `publicKey`'s (the receiver's) signature of the ack of this dm. */
export function verifyAck(publicKey: string, fields: SignedAckFields, signature: string): boolean {
  return verifySignature(publicKey, ackSigningBytes(fields), signature);
}

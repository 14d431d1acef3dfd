import { newEncryptionKeys, signEncryptionKey, toBase64 } from './e2e-crypto.js';
import { IDENTITIES, getValue, putValue } from './idb.js';

/**
 * The page's identity (docs/usage.md "The browser"): one Ed25519 key pair per
 * name, made by WebCrypto with a private key that cannot be exported, kept
 * in IndexedDB (so it survives reloads and never leaves the browser), and
 * used to sign the registration challenge exactly as docs/protocol.md
 * "Accounts" says. Next to it, an X25519 key pair (private half not
 * exportable either) that private messages are encrypted to, published as
 * `ekey` with the identity's signature `ekeySig`.
 */

const REGISTER_CONTEXT = 'chatapp-register-v1';

/** A name's keys; `publicKey` and `ekey` are raw 32 bytes in base64, as the client table lists them. */
export interface Identity {
  readonly privateKey: CryptoKey;
  readonly publicKey: string;
  /** X25519 private key (deriveBits only). */
  readonly encryptionKey: CryptoKey;
  readonly ekey: string;
}

/** What an identity made before the page had private messages looks like in IndexedDB. */
type Kept = Omit<Identity, 'encryptionKey' | 'ekey'> & Partial<Pick<Identity, 'encryptionKey' | 'ekey'>>;

/** The identity kept for `name` (any case), made and stored on first use. */
export async function identityFor(name: string): Promise<Identity> {
  const key = name.toLowerCase();
  const kept = (await getValue(IDENTITIES, key)) as Kept | undefined;
  if (kept?.encryptionKey !== undefined && kept.ekey !== undefined) return kept as Identity;
  // A new name, or one kept before private messages: the Ed25519 key stays, an X25519 pair joins it.
  const identity: Identity = { ...(kept ?? (await newSigningKeys())), ...(await newEncryptionKeys()) };
  await putValue(IDENTITIES, key, identity);
  return identity;
}

async function newSigningKeys(): Promise<Pick<Identity, 'privateKey' | 'publicKey'>> {
  const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
  return { privateKey: pair.privateKey, publicKey: toBase64(await crypto.subtle.exportKey('raw', pair.publicKey)) };
}

/** `register.ekeySig` for `name`: the identity publishes its X25519 key (docs/protocol.md). */
export function signEkey(identity: Identity, name: string): Promise<string> {
  return signEncryptionKey(identity.privateKey, name, identity.ekey);
}

/** The registration signature: Ed25519 over the UTF-8 of `["chatapp-register-v1", challenge, name, key]`. */
export async function signRegistration(identity: Identity, challenge: string, name: string): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([REGISTER_CONTEXT, challenge, name, identity.publicKey]));
  return toBase64(await crypto.subtle.sign({ name: 'Ed25519' }, identity.privateKey, bytes));
}

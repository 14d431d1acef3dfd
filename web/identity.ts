/**
 * The page's identity (docs/usage.md "The browser"): one Ed25519 key pair per
 * name, made by WebCrypto with a private key that cannot be exported, kept
 * in IndexedDB (so it survives reloads and never leaves the browser), and
 * used to sign the registration challenge exactly as docs/protocol.md
 * "Accounts" says.
 */

const DB_NAME = 'chatapp';
const STORE = 'identities';
const REGISTER_CONTEXT = 'chatapp-register-v1';

/** A name's key pair; `publicKey` is the raw 32 bytes in base64, as the client table lists it. */
export interface Identity {
  readonly privateKey: CryptoKey;
  readonly publicKey: string;
}

function base64(bytes: ArrayBuffer): string {
  let text = '';
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

async function openDb(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB_NAME, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

/** The identity kept for `name` (any case), made and stored on first use. */
export async function identityFor(name: string): Promise<Identity> {
  const db = await openDb();
  try {
    const key = name.toLowerCase();
    const kept = (await request(db.transaction(STORE).objectStore(STORE).get(key))) as Identity | undefined;
    if (kept !== undefined) return kept;
    const pair = await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    const identity: Identity = {
      privateKey: pair.privateKey,
      publicKey: base64(await crypto.subtle.exportKey('raw', pair.publicKey)),
    };
    await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(identity, key));
    return identity;
  } finally {
    db.close();
  }
}

/** The registration signature: Ed25519 over the UTF-8 of `["chatapp-register-v1", challenge, name, key]`. */
export async function signRegistration(identity: Identity, challenge: string, name: string): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify([REGISTER_CONTEXT, challenge, name, identity.publicKey]));
  return base64(await crypto.subtle.sign({ name: 'Ed25519' }, identity.privateKey, bytes));
}

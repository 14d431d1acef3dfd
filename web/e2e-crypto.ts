/**
 * The end-to-end envelope of a private message, in the browser with
 * WebCrypto alone (docs/protocol.md "Encrypted private messages (the
 * envelope)"): the same bytes src/protocol/dm-envelope.ts and
 * src/client/dm-crypto.ts make and check with node:crypto, so a page and a
 * chatapp CLI client read each other's messages. X25519 between a fresh
 * ephemeral key and the receiver's `ekey`, HKDF-SHA256 to an AES-256-GCM key
 * (the tag appended to `ct`), and the sender's Ed25519 signature over every
 * field. Nothing here touches the document or the network.
 */

const ENVELOPE_CONTEXT = 'chatapp-dm-v2';
const ENVELOPE_SIG_CONTEXT = 'chatapp-dm-v2-sig';
const EKEY_CONTEXT = 'chatapp-ekey-v1';
const TAG_BYTES = 16;

/** One envelope, as it travels (`relay_dm.body.enc`, `save_message.message`). */
export interface DmEnvelope {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly ts: number;
  readonly epk: string;
  readonly iv: string;
  readonly ct: string;
  readonly sig: string;
}

/** What the sender binds: which message, who, to whom, when. */
export type EnvelopeHeader = Pick<DmEnvelope, 'id' | 'from' | 'to' | 'ts'>;

/** Why an envelope was refused: the codes the CLI uses for the same checks. */
export type OpenFailure = 'malformed' | 'bad_signature' | 'wrong_recipient' | 'undecryptable';
export type OpenResult =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly why: OpenFailure };

/** The receiver's side: its name and its X25519 key pair (`ekey` is the raw public key, base64). */
export interface EnvelopeReceiver {
  readonly name: string;
  readonly encryptionKey: CryptoKey;
  readonly ekey: string;
}

const KEY_B64 = /^[A-Za-z0-9+/]{43}=$/;
const SIG_B64 = /^[A-Za-z0-9+/]{86}==$/;
const IV_B64 = /^[A-Za-z0-9+/]{16}$/;
const CT_B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const NAME = /^[A-Za-z0-9_.-]{1,32}$/;
const FIELDS = ['id', 'from', 'to', 'ts', 'epk', 'iv', 'ct', 'sig'];

const utf8 = new TextEncoder();

/** Base64 of bytes (the wire's encoding of keys, nonces, ciphertexts and signatures). */
export function toBase64(bytes: ArrayBuffer | Uint8Array): string {
  let text = '';
  for (const b of bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text);
}

/** Bytes of base64 text the caller has already checked. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function json(value: unknown[]): Uint8Array<ArrayBuffer> {
  return utf8.encode(JSON.stringify(value));
}

/** AES-GCM associated data: UTF-8 of JSON.stringify(["chatapp-dm-v2", id, from, to, ts]). */
function envelopeAad(h: EnvelopeHeader): Uint8Array<ArrayBuffer> {
  return json([ENVELOPE_CONTEXT, h.id, h.from, h.to, h.ts]);
}

/** What the sender signs: JSON.stringify(["chatapp-dm-v2-sig", id, from, to, ts, epk, iv, ct]). */
function signingBytes(e: Omit<DmEnvelope, 'sig'>): Uint8Array<ArrayBuffer> {
  return json([ENVELOPE_SIG_CONTEXT, e.id, e.from, e.to, e.ts, e.epk, e.iv, e.ct]);
}

/** A new X25519 key pair for the page; the private half cannot be exported. */
export async function newEncryptionKeys(): Promise<{ encryptionKey: CryptoKey; ekey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, false, ['deriveBits'])) as CryptoKeyPair;
  return { encryptionKey: pair.privateKey, ekey: toBase64(await crypto.subtle.exportKey('raw', pair.publicKey)) };
}

/**
 * `register.ekeySig`: Ed25519 over JSON.stringify(["chatapp-ekey-v1", name in lower case, ekey])
 * (docs/protocol.md "Encrypted private messages": the table shows a name as first registered, so the
 * signature must not depend on how it was typed this time).
 */
export async function signEncryptionKey(signingKey: CryptoKey, name: string, ekey: string): Promise<string> {
  return toBase64(
    await crypto.subtle.sign({ name: 'Ed25519' }, signingKey, json([EKEY_CONTEXT, name.toLowerCase(), ekey])),
  );
}

/** Ed25519 verification with a raw base64 public key; false for anything that is not a valid key or signature. */
export async function verifyEd25519(key: string, bytes: Uint8Array<ArrayBuffer>, sig: string): Promise<boolean> {
  if (!KEY_B64.test(key) || !SIG_B64.test(sig)) return false;
  try {
    const publicKey = await crypto.subtle.importKey('raw', fromBase64(key), { name: 'Ed25519' }, false, ['verify']);
    return await crypto.subtle.verify({ name: 'Ed25519' }, publicKey, fromBase64(sig), bytes);
  } catch {
    return false;
  }
}

/** True only when `ekeySig` is `key`'s signature publishing `ekey` for `name` (a server cannot swap `ekey`). */
export function verifyEncryptionKey(key: string, name: string, ekey: string, ekeySig: string): Promise<boolean> {
  if (!KEY_B64.test(ekey)) return Promise.resolve(false);
  return verifyEd25519(key, json([EKEY_CONTEXT, name.toLowerCase(), ekey]), ekeySig);
}

/** HKDF-SHA256(X25519(priv, pub), salt = epk ‖ ekey, info "chatapp-dm-v2") → the AES-256-GCM key. */
async function messageKey(priv: CryptoKey, pub: string, epk: string, ekey: string, use: KeyUsage): Promise<CryptoKey> {
  const publicKey = await crypto.subtle.importKey('raw', fromBase64(pub), { name: 'X25519' }, false, []);
  const shared = await crypto.subtle.deriveBits({ name: 'X25519', public: publicKey }, priv, 256);
  const hkdf = await crypto.subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
  const salt = new Uint8Array(64);
  salt.set(fromBase64(epk), 0);
  salt.set(fromBase64(ekey), 32);
  const params: HkdfParams = { name: 'HKDF', hash: 'SHA-256', salt, info: utf8.encode(ENVELOPE_CONTEXT) };
  return crypto.subtle.deriveKey(params, hkdf, { name: 'AES-GCM', length: 256 }, false, [use]);
}

/**
 * Encrypts `text` for the receiver whose X25519 key is `ekey` and signs every
 * field with `signingKey` (the page's Ed25519 identity). Throws when `ekey`
 * is not an X25519 key: nothing is sent then.
 */
export async function sealEnvelope(
  signingKey: CryptoKey,
  header: EnvelopeHeader,
  ekey: string,
  text: string,
): Promise<DmEnvelope> {
  if (!KEY_B64.test(ekey)) throw new Error('the receiver has no usable encryption key');
  const eph = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
  const epk = toBase64(await crypto.subtle.exportKey('raw', eph.publicKey));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await messageKey(eph.privateKey, ekey, epk, ekey, 'encrypt');
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: envelopeAad(header) },
    key,
    utf8.encode(text),
  );
  const unsigned = { id: header.id, from: header.from, to: header.to, ts: header.ts, epk, iv: toBase64(iv) };
  const withCt = { ...unsigned, ct: toBase64(sealed) };
  const sig = toBase64(await crypto.subtle.sign({ name: 'Ed25519' }, signingKey, signingBytes(withCt)));
  return { ...withCt, sig };
}

/** The strict shape of an envelope (src/protocol/dm-envelope.ts `DmEnvelope`): exactly its fields, each valid. */
export function isEnvelope(input: unknown): input is DmEnvelope {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return false;
  const keys = Object.keys(input);
  if (keys.length !== FIELDS.length || !FIELDS.every((f) => Object.prototype.hasOwnProperty.call(input, f)))
    return false;
  const e = input as Record<string, unknown>;
  const str = (v: unknown, re: RegExp): boolean => typeof v === 'string' && re.test(v);
  return (
    typeof e['id'] === 'string' &&
    e['id'].length >= 1 &&
    e['id'].length <= 64 &&
    str(e['from'], NAME) &&
    str(e['to'], NAME) &&
    Number.isInteger(e['ts']) &&
    (e['ts'] as number) >= 0 &&
    (e['ts'] as number) <= 8.64e15 &&
    str(e['epk'], KEY_B64) &&
    str(e['iv'], IV_B64) &&
    str(e['ct'], CT_B64) &&
    (e['ct'] as string).length >= 24 &&
    (e['ct'] as string).length <= 88_000 &&
    str(e['sig'], SIG_B64)
  );
}

/**
 * Checks and opens an envelope for `me`, in the order docs/protocol.md
 * gives: the shape, the sender's signature (`senderKey`, its Ed25519 key),
 * that it is addressed to me (any case), then the AES-GCM tag, which also
 * binds id, from, to and ts.
 */
export async function openEnvelope(me: EnvelopeReceiver, senderKey: string, input: unknown): Promise<OpenResult> {
  if (!isEnvelope(input)) return { ok: false, why: 'malformed' };
  const { sig, ...unsigned } = input;
  if (!(await verifyEd25519(senderKey, signingBytes(unsigned), sig))) return { ok: false, why: 'bad_signature' };
  if (input.to.toLowerCase() !== me.name.toLowerCase()) return { ok: false, why: 'wrong_recipient' };
  const ct = fromBase64(input.ct);
  if (ct.length < TAG_BYTES) return { ok: false, why: 'undecryptable' };
  try {
    const key = await messageKey(me.encryptionKey, input.epk, input.epk, me.ekey, 'decrypt');
    const iv = fromBase64(input.iv);
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: envelopeAad(input) }, key, ct);
    return { ok: true, text: new TextDecoder().decode(plain) };
  } catch {
    return { ok: false, why: 'undecryptable' };
  }
}

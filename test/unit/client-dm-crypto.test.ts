import crypto, { type KeyObject } from 'node:crypto';
import {
  EncryptionKeys,
  openEnvelope,
  sealEnvelope,
  signEncryptionKey,
  verifyEncryptionKey,
} from '../../src/client/dm-crypto';
import { DmEnvelope, envelopeSigningBytes } from '../../src/protocol/dm-envelope';

/** One party: Ed25519 identity, its public key (base64 raw), and the X25519 pair derived from it. */
interface Party {
  readonly name: string;
  readonly signingKey: KeyObject;
  readonly key: string;
  readonly enc: EncryptionKeys;
}

function party(name: string): Party {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const x = crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return {
    name,
    signingKey: privateKey,
    key: Buffer.from(x, 'base64url').toString('base64'),
    enc: EncryptionKeys.fromIdentityKey(privateKey),
  };
}

const alice = party('alice');
const bob = party('bob');
const carol = party('carol');
const mallory = party('mallory');

function seal(from: Party, to: Party, text: string, id = `m-${Math.random()}`): DmEnvelope {
  return sealEnvelope(from, { id, from: from.name, to: to.name, ts: 1_700_000_000_000 }, to.enc.publicKey, text);
}

/** Re-signs an altered envelope with `by`'s key: a valid signature over swapped fields. */
function resign(envelope: DmEnvelope, by: Party): DmEnvelope {
  const { sig: _old, ...unsigned } = envelope;
  return { ...unsigned, sig: crypto.sign(null, envelopeSigningBytes(unsigned), by.signingKey).toString('base64') };
}

/** Flips one bit of the base64 field's bytes. */
function flip(base64: string, at = 0): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[at] = bytes[at]! ^ 1;
  return bytes.toString('base64');
}

describe('the end-to-end envelope (docs/protocol.md "Encrypted private messages")', () => {
  it('the X25519 key is derived from the identity: the same at every start, different per identity', () => {
    expect(EncryptionKeys.fromIdentityKey(alice.signingKey).publicKey).toBe(alice.enc.publicKey);
    expect(alice.enc.publicKey).not.toBe(bob.enc.publicKey);
    expect(Buffer.from(alice.enc.publicKey, 'base64')).toHaveLength(32);
  });

  it('the receiver opens what was sealed for it; the envelope carries no plaintext and a fresh epk and iv each time', () => {
    const marker = 'meet at the old mill, 9pm';
    const a = seal(alice, bob, marker);
    const b = seal(alice, bob, marker);
    expect(DmEnvelope.safeParse(a).success).toBe(true);
    expect(JSON.stringify(a)).not.toContain('old mill');
    expect([a.epk, a.iv, a.ct]).not.toEqual([b.epk, b.iv, b.ct]);
    expect(openEnvelope('bob', bob.enc, alice.key, a)).toEqual({ ok: true, text: marker });
    expect(openEnvelope('BOB', bob.enc, alice.key, b)).toEqual({ ok: true, text: marker }); // names without case
    expect(openEnvelope('bob', bob.enc, alice.key, seal(alice, bob, ''))).toEqual({ ok: true, text: '' });
    const long = 'é'.repeat(4096);
    expect(openEnvelope('bob', bob.enc, alice.key, seal(alice, bob, long))).toEqual({ ok: true, text: long });
  });

  it('a tampered ciphertext, nonce or ephemeral key is refused', () => {
    const e = seal(alice, bob, 'hello');
    for (const altered of [
      { ...e, ct: flip(e.ct) },
      { ...e, ct: flip(e.ct, Buffer.from(e.ct, 'base64').length - 1) }, // the tag
      { ...e, iv: flip(e.iv) },
      { ...e, epk: flip(e.epk) },
    ]) {
      expect(openEnvelope('bob', bob.enc, alice.key, altered)).toEqual({ ok: false, why: 'bad_signature' });
      // The same alteration re-signed by the sender's key (a sender can sign anything): the AEAD still refuses it.
      expect(openEnvelope('bob', bob.enc, alice.key, resign(altered, alice))).toEqual({
        ok: false,
        why: 'undecryptable',
      });
    }
  });

  it('a message encrypted for someone else is refused, however it is redirected', () => {
    const forBob = seal(alice, bob, 'for bob only');
    // carol gets bob's envelope as it is: not addressed to her.
    expect(openEnvelope('carol', carol.enc, alice.key, forBob)).toEqual({ ok: false, why: 'wrong_recipient' });
    // `to` rewritten to carol: alice's signature no longer holds.
    expect(openEnvelope('carol', carol.enc, alice.key, { ...forBob, to: 'carol' })).toEqual({
      ok: false,
      why: 'bad_signature',
    });
    // Even with a valid signature (alice herself re-addressing it), carol's key cannot open bob's ciphertext.
    expect(openEnvelope('carol', carol.enc, alice.key, resign({ ...forBob, to: 'carol' }, alice))).toEqual({
      ok: false,
      why: 'undecryptable',
    });
  });

  it('a valid signature over swapped metadata is refused: the ciphertext is bound to id, from, to and ts', () => {
    const e = seal(alice, bob, 'from alice');
    // mallory claims alice's ciphertext as his own: his signature is valid, the associated data is not.
    const stolen = resign({ ...e, from: 'mallory' }, mallory);
    expect(openEnvelope('bob', bob.enc, mallory.key, stolen)).toEqual({ ok: false, why: 'undecryptable' });
    // Checked against alice's key instead, mallory's signature fails.
    expect(openEnvelope('bob', bob.enc, alice.key, stolen)).toEqual({ ok: false, why: 'bad_signature' });
    for (const swapped of [
      { ...e, id: 'another-id' },
      { ...e, ts: e.ts + 1 },
    ]) {
      expect(openEnvelope('bob', bob.enc, alice.key, swapped)).toEqual({ ok: false, why: 'bad_signature' });
      expect(openEnvelope('bob', bob.enc, alice.key, resign(swapped, alice))).toEqual({
        ok: false,
        why: 'undecryptable',
      });
    }
  });

  it('malformed envelopes are refused before any cryptography', () => {
    const e = seal(alice, bob, 'x');
    for (const bad of [
      null,
      'text',
      { ...e, sig: 'AAAA' },
      { ...e, extra: 1 },
      { ...e, iv: 'short' },
      { ...e, text: 'x' },
    ])
      expect(openEnvelope('bob', bob.enc, alice.key, bad)).toEqual({ ok: false, why: 'malformed' });
  });

  it('the published X25519 key is signed by the identity: a swapped key or name does not verify', () => {
    const sig = signEncryptionKey(bob.signingKey, 'bob', bob.enc.publicKey);
    expect(verifyEncryptionKey(bob.key, 'bob', bob.enc.publicKey, sig)).toBe(true);
    expect(verifyEncryptionKey(bob.key, 'bob', mallory.enc.publicKey, sig)).toBe(false);
    expect(verifyEncryptionKey(bob.key, 'carol', bob.enc.publicKey, sig)).toBe(false);
    expect(verifyEncryptionKey(mallory.key, 'bob', bob.enc.publicKey, sig)).toBe(false);
  });

  it('sealing for a key that is not an X25519 key throws instead of sending anything', () => {
    expect(() => sealEnvelope(alice, { id: 'i', from: 'alice', to: 'bob', ts: 1 }, 'AAAA', 'x')).toThrow();
  });
});

describe('the envelope with WebCrypto only (what a browser page will do)', () => {
  const { subtle } = crypto.webcrypto;
  const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

  it('WebCrypto verifies, derives and decrypts an envelope node:crypto sealed', async () => {
    const e = seal(alice, bob, 'through WebCrypto');
    const { sig, ...unsigned } = e;
    const ed = await subtle.importKey('raw', b64(alice.key), { name: 'Ed25519' }, false, ['verify']);
    expect(await subtle.verify({ name: 'Ed25519' }, ed, b64(sig), envelopeSigningBytes(unsigned))).toBe(true);
    // The receiver's X25519 private key as WebCrypto would hold it (imported from its PKCS#8 form).
    const pkcs8 = bob.enc.privateKey.export({ format: 'der', type: 'pkcs8' });
    const mine = await subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, ['deriveBits']);
    const epk = await subtle.importKey('raw', b64(e.epk), { name: 'X25519' }, false, []);
    const shared = await subtle.deriveBits({ name: 'X25519', public: epk } as unknown as { name: string }, mine, 256);
    const hkdf = await subtle.importKey('raw', shared, 'HKDF', false, ['deriveKey']);
    const salt = Buffer.concat([Buffer.from(e.epk, 'base64'), Buffer.from(bob.enc.publicKey, 'base64')]);
    const aes = await subtle.deriveKey(
      { name: 'HKDF', hash: 'SHA-256', salt, info: Buffer.from('chatapp-dm-v2') },
      hkdf,
      { name: 'AES-GCM', length: 256 },
      false,
      ['decrypt'],
    );
    const aad = Buffer.from(JSON.stringify(['chatapp-dm-v2', e.id, e.from, e.to, e.ts]));
    const plain = await subtle.decrypt({ name: 'AES-GCM', iv: b64(e.iv), additionalData: aad }, aes, b64(e.ct));
    expect(Buffer.from(plain).toString('utf8')).toBe('through WebCrypto');
  });
});

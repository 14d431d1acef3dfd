import crypto from 'node:crypto';
import { PublicKey, Signature } from '../../src/protocol/frames';
import { dmSigningBytes, Identity, verifyDm } from '../../src/client/identity';

const fields = {
  id: '0190a0b0-0000-7000-8000-000000000001',
  from: 'alice',
  to: 'bob',
  ts: 1_700_000_000_000,
  text: 'hi bob',
};

describe('Identity (docs/protocol.md "Limits": direct messages cannot be forged)', () => {
  const alice = Identity.generate();
  const mallory = Identity.generate();

  it('exports the public key as raw 32 bytes in base64, as the wire schema wants', () => {
    expect(PublicKey.safeParse(alice.publicKey).success).toBe(true);
    expect(Buffer.from(alice.publicKey, 'base64')).toHaveLength(32);
    expect(alice.publicKey).not.toBe(mallory.publicKey);
  });

  it('signs the documented bytes: JSON of ["chatapp-dm-v1", id, from, to, ts, text]', () => {
    expect(dmSigningBytes(fields).toString('utf8')).toBe(
      JSON.stringify(['chatapp-dm-v1', fields.id, 'alice', 'bob', fields.ts, 'hi bob']),
    );
    const sig = alice.sign(fields);
    expect(Signature.safeParse(sig).success).toBe(true);
    const key = crypto.createPublicKey({
      key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(alice.publicKey, 'base64').toString('base64url') },
      format: 'jwk',
    });
    expect(crypto.verify(null, dmSigningBytes(fields), key, Buffer.from(sig, 'base64'))).toBe(true);
  });

  it('verifies a genuine signature', () => {
    expect(verifyDm(alice.publicKey, fields, alice.sign(fields))).toBe(true);
  });

  it('rejects a signature by another key (forgery)', () => {
    expect(verifyDm(alice.publicKey, fields, mallory.sign(fields))).toBe(false);
  });

  it.each([
    ['id', { id: 'other-id' }],
    ['from', { from: 'carol' }],
    ['to', { to: 'mallory' }],
    ['ts', { ts: fields.ts + 1 }],
    ['text', { text: 'hi bob!' }],
  ])('rejects the signature when %s is tampered with', (_field, change) => {
    const sig = alice.sign(fields);
    expect(verifyDm(alice.publicKey, { ...fields, ...change }, sig)).toBe(false);
  });

  it('rejects a flipped signature bit, a truncated signature and a malformed key without throwing', () => {
    const sig = Buffer.from(alice.sign(fields), 'base64');
    sig[0] = (sig[0] ?? 0) ^ 1;
    expect(verifyDm(alice.publicKey, fields, sig.toString('base64'))).toBe(false);
    expect(verifyDm(alice.publicKey, fields, sig.subarray(0, 63).toString('base64'))).toBe(false);
    expect(verifyDm('AAAA', fields, alice.sign(fields))).toBe(false);
  });
});

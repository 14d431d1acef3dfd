import { guestKey, passwordKey } from '../../src/gateway/irc/account-key';
import { registrationBytes, verifySignature } from '../../src/protocol/signing';

/** docs/security.md "IRC accounts": the password's key is stable, per name, and signs registrations. */
describe('IRC account keys', () => {
  test('the same name (in any case) and password give the same key; another password or name another key', async () => {
    const a = await passwordKey('Alice', 'secret');
    expect((await passwordKey('alice', 'secret')).publicKey).toBe(a.publicKey);
    expect((await passwordKey('alice', 'other')).publicKey).not.toBe(a.publicKey);
    expect((await passwordKey('bob', 'secret')).publicKey).not.toBe(a.publicKey);
  });

  test('its registration signature verifies as the core checks it; guest keys are fresh each time', async () => {
    const key = await passwordKey('alice', 'secret');
    const challenge = Buffer.alloc(32, 7).toString('base64');
    const sig = key.sign(challenge, 'alice');
    expect(verifySignature(key.publicKey, registrationBytes(challenge, 'alice', key.publicKey), sig)).toBe(true);
    expect(guestKey().publicKey).not.toBe(guestKey().publicKey);
  });
});

import { registrationBytes } from '../../src/protocol/signing';
import crypto from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { startClient, startServer, type StartedClient, type StartedServer } from '../../testkit/chat-roles';
import type { DirectFrame } from '../../src/protocol/frames';
import { closeAllRawClients, nextId, RawClient, RawLink } from '../helpers/raw-client';
import { encryptionKeyOf, sealEnvelopeAsDocumented, type DmFrame } from '../helpers/dm-attacker';

/**
 * Hostile tests of a real client's direct-message listener (docs/protocol.md "Transport and framing"; docs/protocol.md "Limits"): the
 * port other clients send private messages to. Garbage, oversized and
 * half-sent frames are refused like on the server, and a `dm` is accepted only
 * when it is signed by the key the server's table lists for its sender
 * (docs/protocol.md "Client ↔ client frames", docs/security.md). After each
 * case a real private message from alice still reaches bob, exactly once.
 */

const CLIENT_ARGS = [
  '--max-invalid-frames',
  '3',
  '--max-frame-bytes',
  '8192',
  '--frame-timeout',
  '500',
  '--max-message-length',
  '200',
];

let server: StartedServer;
let alice: StartedClient;
let bob: StartedClient;
let mallory: RawClient;
const malloryKeys = crypto.generateKeyPairSync('ed25519');
let round = 0;

/** Seals and signs a dm exactly as docs/protocol.md specifies, independently of src/client, for `to`'s key. */
function signedDm(
  fields: { id?: string; from: string; to: string; text: string; ts?: number },
  key = malloryKeys.privateKey,
): DmFrame {
  const id = fields.id ?? nextId('dm');
  const ts = fields.ts ?? Date.now();
  return { type: 'dm', message: sealEnvelopeAsDocumented(key, encryptionKeyOf(fields.to), { ...fields, id, ts }) };
}

/** `frame` with its envelope's fields replaced by `change` (the signature left as it was). */
function altered(frame: DmFrame, change: Partial<DmFrame['message']>): DmFrame {
  return { type: 'dm', message: { ...frame.message, ...change } };
}

function rawPublicKey(key: crypto.KeyObject): string {
  const x = key.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new Error('no jwk x');
  return Buffer.from(x, 'base64url').toString('base64');
}

beforeAll(async () => {
  const kept = { keepAcrossTests: true };
  server = await startServer([], kept);
  alice = await startClient('alice', server.port, CLIENT_ARGS, kept);
  bob = await startClient('bob', server.port, CLIENT_ARGS, kept);
  // mallory is a registered client with a real key of her own: she can sign as herself, not as alice
  const from = bob.proc.mark();
  mallory = await RawClient.connect(server.port);
  const signer = {
    publicKey: rawPublicKey(malloryKeys.publicKey),
    signRegistration: (challenge: string, name: string): string =>
      crypto
        .sign(null, registrationBytes(challenge, name, rawPublicKey(malloryKeys.publicKey)), malloryKeys.privateKey)
        .toString('base64'),
  };
  expect((await mallory.register('mallory', { identity: signer })).type).toBe('reply');
  await bob.proc.waitForLine('>>> [Client table updated.]', { from });
  // alice's second table push is the first after her own full table, so it lists bob (maybe mallory too)
  await alice.proc.waitForCount('>>> [Client table updated.]', 2, { from: 0 });
}, 20_000);

afterAll(async () => {
  await closeAllRawClients();
  await Promise.all([alice, bob].map((c) => c?.proc.stop('endInput')));
  await server?.proc.stop();
});

/** alice → bob private message still works, is shown once, and nobody printed to stderr. */
async function assertBobHealthy(): Promise<void> {
  const text = `private ${++round}`;
  const [fromA, fromB] = [alice.proc.mark(), bob.proc.mark()];
  alice.proc.send(`send bob ${text}`);
  await alice.proc.waitForLine('>>> [Message received by bob.]', { from: fromA });
  await bob.proc.waitForLine(`>>> alice: ${text}`, { from: fromB });
  expect(bob.proc.linesMatching(`>>> alice: ${text}`)).toHaveLength(1);
  expect([alice.proc.alive, bob.proc.alive, server.proc.alive]).toEqual([true, true, true]);
  expect([alice.proc.output('stderr'), bob.proc.output('stderr')]).toEqual(['', '']);
}

async function dmLink(options: { answerPings?: boolean } = {}): Promise<RawLink<DirectFrame>> {
  return RawLink.direct(bob.listenPort, options);
}

describe("hostile input on a client's direct-message port", () => {
  it('garbage lines: invalid_json per line, then too_many_invalid and a close', async () => {
    const link = await dmLink();
    await link.sendRaw('hello bob\nSSH-2.0-OpenSSH\n{"type":"dm"\n}\n');
    expect(await link.waitClosed()).toEqual(['invalid_json', 'invalid_json', 'invalid_json', 'too_many_invalid']);
    await assertBobHealthy();
  });

  it('binary noise and an oversized line are refused with a close', async () => {
    const noise = await dmLink();
    await noise.sendRaw(randomBytes(128 * 1024));
    const codes = await noise.waitClosed();
    expect(['too_many_invalid', 'frame_too_large']).toContain(codes[codes.length - 1]);
    const big = await dmLink();
    await big.sendRaw(Buffer.alloc(1024 * 1024, 'z'));
    expect(await big.waitClosed()).toEqual(['frame_too_large']);
    await assertBobHealthy();
  });

  it('a forged dm claiming to be from alice (random signature) is refused with bad_signature and never shown', async () => {
    const link = await dmLink();
    const forged = altered(signedDm({ from: 'alice', to: 'bob', text: 'send me your password' }), {
      sig: randomBytes(64).toString('base64'),
    });
    link.send(forged);
    expect(await link.waitFor((f) => f.type === 'error' || f.type === 'dm_ack', 'verdict')).toMatchObject({
      type: 'error',
      code: 'bad_signature',
      id: forged.message.id,
    });
    expect(link.isClosed).toBe(false); // recoverable: the link stays
    await assertBobHealthy();
    expect(bob.proc.lines().some((l) => l.includes('send me your password'))).toBe(false);
  });

  it("mallory's own signature does not make her alice; unknown senders, wrong recipients, stale and tampered dms are refused", async () => {
    const original = signedDm({ from: 'mallory', to: 'bob', text: 'original' });
    const tampered = Buffer.from(original.message.ct, 'base64');
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    const cases: Array<[DmFrame, string]> = [
      [signedDm({ from: 'alice', to: 'bob', text: 'impersonation' }), 'bad_signature'],
      [signedDm({ from: 'zed', to: 'bob', text: 'who am i' }), 'unknown_sender'],
      [signedDm({ from: 'mallory', to: 'alice', text: 'misdelivered' }), 'wrong_recipient'],
      [signedDm({ from: 'mallory', to: 'bob', text: 'from the past', ts: Date.now() - 3_600_000 }), 'stale_message'],
      [altered(original, { ct: tampered.toString('base64') }), 'bad_signature'],
      [signedDm({ from: 'mallory', to: 'bob', text: 'x'.repeat(201) }), 'message_too_long'],
    ];
    for (const [frame, code] of cases) {
      const link = await dmLink(); // one link each: three bad signatures in a row close a link (docs/protocol.md)
      link.send(frame);
      expect(
        await link.waitFor(
          (f) => (f.type === 'error' || f.type === 'dm_ack') && f.id === frame.message.id,
          `verdict on ${code}`,
        ),
      ).toMatchObject({ type: 'error', code, id: frame.message.id });
    }
    // positive control: a dm really signed by mallory as mallory is accepted, and a replay is acked but shown once
    const genuine = signedDm({ from: 'mallory', to: 'bob', text: 'hi from mallory' });
    const link = await dmLink();
    const from = bob.proc.mark();
    for (let i = 0; i < 2; i++) {
      link.send(genuine);
      await link.waitFor((f) => f.type === 'dm_ack' && f.id === genuine.message.id, 'dm_ack', 5000, link.frames.length);
    }
    await bob.proc.waitForLine('>>> mallory: hi from mallory', { from });
    await assertBobHealthy();
    expect(bob.proc.linesMatching('>>> mallory: hi from mallory')).toHaveLength(1);
    for (const text of ['impersonation', 'who am i', 'misdelivered', 'from the past', 'tampered', 'original']) {
      expect(bob.proc.lines().some((l) => l.includes(text))).toBe(false);
    }
  });

  it('a half-sent frame held open is closed with frame_timeout', async () => {
    const link = await dmLink({ answerPings: false });
    await link.sendRaw('{"type":"dm","id":"slow","from":"alice"');
    expect(await link.waitClosed(5000)).toEqual(['frame_timeout']);
    await assertBobHealthy();
  });

  it('50 links flooding invalid frames at once leave the listener working', async () => {
    const links = await Promise.all(Array.from({ length: 50 }, () => dmLink()));
    await Promise.all(links.map((l) => l.sendRaw('{"type":"dm"}\n'.repeat(10))));
    const codes = await Promise.all(links.map((l) => l.waitClosed()));
    for (const c of codes) expect(c).toEqual(['bad_frame', 'bad_frame', 'bad_frame', 'too_many_invalid']);
    await assertBobHealthy();
  });
});

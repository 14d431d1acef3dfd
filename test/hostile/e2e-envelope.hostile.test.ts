import { startClient, startServer, type StartedClient, type StartedServer } from '../../testkit/chat-roles';
import type { DirectFrame } from '../../src/protocol/frames';
import { closeAllRawClients, RawClient, RawLink } from '../helpers/raw-client';
import { encryptionKeyOf, TestKey, type DmFrame, type Envelope } from '../helpers/dm-attacker';
import { waitUntilOnline } from '../helpers/e2e-chat';

/**
 * Issue 12: attacks on the end-to-end envelope of private messages
 * (docs/protocol.md "Encrypted private messages", docs/security.md
 * "End-to-end encryption"), sent by a raw socket to a real client's listen
 * port. mallory is a registered client with keys of her own: she can seal
 * and sign as herself, and can take any envelope she has and change it. Each
 * attack is refused with its code and never shown; after each, a real
 * private message from alice still reaches bob, exactly once.
 */

let server: StartedServer;
let alice: StartedClient;
let bob: StartedClient;
let carol: StartedClient;
const mallory = new TestKey();
let round = 0;

beforeAll(async () => {
  const kept = { keepAcrossTests: true };
  server = await startServer([], kept);
  [alice, bob, carol] = [
    await startClient('alice', server.port, [], kept),
    await startClient('bob', server.port, [], kept),
    await startClient('carol', server.port, [], kept),
  ];
  const link = await RawClient.connect(server.port);
  expect((await link.register('mallory', { identity: mallory })).type).toBe('reply');
  await waitUntilOnline(bob.proc, ['mallory', 'alice', 'carol']);
  await waitUntilOnline(alice.proc, ['bob']);
}, 60_000);

afterAll(async () => {
  await closeAllRawClients();
  await Promise.all([alice, bob, carol].map((c) => c?.proc.stop('endInput')));
  await server?.proc.stop();
});

/** mallory's own message to bob, sealed for his published key and signed by her: genuine. */
function fromMallory(text: string, over: { to?: string; ts?: number } = {}): Envelope {
  return mallory.dm({ from: 'mallory', to: over.to ?? 'bob', text, ekey: encryptionKeyOf('bob'), ts: over.ts }).message;
}

/** Sends `message` to bob on a fresh link and resolves with bob's verdict: `ack` or the error code. */
async function verdictOf(message: Envelope): Promise<string> {
  const link = await RawLink.direct(bob.listenPort);
  const frame: DmFrame = { type: 'dm', message };
  link.send(frame);
  const reply = await link.waitFor(
    (f: DirectFrame) => (f.type === 'dm_ack' || f.type === 'error') && f.id === message.id,
    `verdict on ${message.id}`,
  );
  return reply.type === 'dm_ack' ? 'ack' : reply.type === 'error' ? reply.code : reply.type;
}

/** alice → bob still works and is shown once; nothing printed `text`s that were refused; nobody wrote to stderr. */
async function bystandersFine(refused: readonly string[]): Promise<void> {
  const text = `bystander ${++round}`;
  const [fromA, fromB] = [alice.proc.mark(), bob.proc.mark()];
  alice.proc.send(`send bob ${text}`);
  await alice.proc.waitForLine('>>> [Message received by bob.]', { from: fromA });
  await bob.proc.waitForLine(`>>> alice: ${text}`, { from: fromB });
  expect(bob.proc.linesMatching(`>>> alice: ${text}`)).toHaveLength(1);
  for (const t of refused) expect(bob.proc.lines().some((l) => l.includes(t))).toBe(false);
  expect([alice.proc.alive, bob.proc.alive, server.proc.alive]).toEqual([true, true, true]);
  expect([alice.proc.output('stderr'), bob.proc.output('stderr')]).toEqual(['', '']);
}

describe('attacks on the private-message envelope at a real client', () => {
  test('a tampered ciphertext: bad_signature as it is, undecryptable when re-signed by its sender', async () => {
    const genuine = fromMallory('tampered one');
    const ct = Buffer.from(genuine.ct, 'base64');
    ct[0] = (ct[0] ?? 0) ^ 0x01;
    const flipped = { ...genuine, ct: ct.toString('base64') };
    expect(await verdictOf(flipped)).toBe('bad_signature');
    expect(await verdictOf(mallory.resign({ ...flipped, id: `${genuine.id}-2` }))).toBe('undecryptable');
    await bystandersFine(['tampered one']);
  });

  test('a message sealed for someone else: undecryptable when addressed to bob, wrong_recipient when to carol', async () => {
    const forCarol = mallory.dm({ from: 'mallory', to: 'bob', text: 'for carol eyes', ekey: encryptionKeyOf('carol') });
    expect(await verdictOf(forCarol.message)).toBe('undecryptable');
    const toCarol = mallory.dm({ from: 'mallory', to: 'carol', text: 'carol only', ekey: encryptionKeyOf('carol') });
    expect(await verdictOf(toCarol.message)).toBe('wrong_recipient');
    await bystandersFine(['for carol eyes', 'carol only']);
  });

  test('a replay: acked again but shown once; one from outside the time window is stale_message', async () => {
    const once = fromMallory('pay mallory once');
    const from = bob.proc.mark();
    expect(await verdictOf(once)).toBe('ack');
    await bob.proc.waitForLine('>>> mallory: pay mallory once', { from });
    expect(await verdictOf(once)).toBe('ack');
    expect(await verdictOf(fromMallory('from last hour', { ts: Date.now() - 3_600_000 }))).toBe('stale_message');
    await bystandersFine(['from last hour']);
    expect(bob.proc.linesMatching('>>> mallory: pay mallory once')).toHaveLength(1);
  });

  test('a valid signature over swapped metadata: undecryptable (id, to, ts are bound by the cipher), bad_signature as alice', async () => {
    const original = fromMallory('swapped metadata');
    // mallory re-signs her own envelope with another id or timestamp: the signature holds, the cipher does not
    expect(await verdictOf(mallory.resign({ ...original, id: `${original.id}-x` }))).toBe('undecryptable');
    expect(await verdictOf(mallory.resign({ ...original, id: `${original.id}-y`, ts: original.ts + 1 }))).toBe(
      'undecryptable',
    );
    // claiming alice sent it: mallory's signature is not alice's key
    expect(await verdictOf(mallory.resign({ ...original, id: `${original.id}-z`, from: 'alice' }))).toBe(
      'bad_signature',
    );
    await bystandersFine(['swapped metadata']);
  });
});

import net from 'node:net';
import { ChatClient } from '../../src/client/chat-client';
import { Identity, verifyAck } from '../../src/client/identity';
import type { DirectMessage } from '../../src/client/client-results';
import type { ClientEntry, DirectFrame, FrameOf } from '../../src/protocol/frames';
import { closeAllRawClients, RawLink } from '../helpers/raw-client';
import { published, sealedDm, type PlainDm } from '../helpers/e2e-keys';
import { FakeServer, healthyScript } from './client-fake-server';

/** Short ack timeout so "no answer" cases end quickly; nothing below asserts on time. */
const LIMITS = { ackTimeoutMs: 200, heartbeatMs: 0 };

interface Pair {
  alice: ChatClient;
  bob: ChatClient;
  inbox: DirectMessage[];
  table: ClientEntry[];
  ids: { alice: Identity; bob: Identity };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Two clients on loopback listeners (port 0), each with a fake server that pushes `table`. */
async function pair(extra: ClientEntry[] = []): Promise<Pair> {
  const ids = { alice: Identity.generate(), bob: Identity.generate() };
  const table: ClientEntry[] = [];
  const make = (name: 'alice' | 'bob'): ChatClient => {
    const server = new FakeServer(healthyScript(() => table));
    const client = new ChatClient({
      name,
      serverHost: '127.0.0.1',
      serverPort: 1,
      listenPort: 0,
      listenHost: '127.0.0.1',
      limits: LIMITS,
      identity: ids[name],
      dial: server.dialer(),
    });
    cleanups.push(() => client.close());
    return client;
  };
  const alice = make('alice');
  const bob = make('bob');
  const [alicePort, bobPort] = [await alice.start(), await bob.start()];
  table.push(
    {
      name: 'alice',
      host: '127.0.0.1',
      port: alicePort,
      online: true,
      key: ids.alice.publicKey,
      ...published(ids.alice, 'alice'),
    },
    {
      name: 'bob',
      host: '127.0.0.1',
      port: bobPort,
      online: true,
      key: ids.bob.publicKey,
      ...published(ids.bob, 'bob'),
    },
    ...extra,
  );
  for (const client of [alice, bob]) {
    const tableSeen = new Promise<void>((resolve) => client.once('tableUpdated', () => resolve()));
    expect(await client.register()).toBe('ok');
    await tableSeen;
  }
  const inbox: DirectMessage[] = [];
  bob.on('directMessage', (m) => inbox.push(m));
  return { alice, bob, inbox, table, ids };
}

/** A raw TCP link to `port` (a client's direct-message listener); closed after the test. */
function rawLink(port: number): Promise<RawLink<DirectFrame>> {
  cleanups.push(() => closeAllRawClients());
  return RawLink.direct(port);
}

/** Resolves once `link` got `n` frames back. */
async function replied(link: RawLink<DirectFrame>, n = 1): Promise<void> {
  await link.until(() => link.frames.length >= n, `${n} replies`, 10_000);
}

/** A dm sealed for `ekey` (bob's) and signed by `signer`, claiming to be from `from`. */
function signedDm(signer: Identity, ekey: string, over: Partial<PlainDm> = {}): FrameOf<DirectFrame, 'dm'> {
  const fields = { id: `id-${Math.random()}`, from: 'alice', to: 'bob', ts: Date.now(), text: 'hi', ...over };
  return sealedDm(signer, ekey, fields);
}

describe('direct messages between two ChatClients over loopback (docs/usage.md "Client"; docs/protocol.md "Limits")', () => {
  it('delivers a signed message: the sender hears received, the receiver emits it once', async () => {
    const { alice, inbox } = await pair();
    expect(await alice.sendDirect('bob', 'hello  bob: "quoted"')).toBe('received');
    expect(inbox).toEqual([expect.objectContaining({ from: 'alice', text: 'hello  bob: "quoted"' })]);
    expect(await alice.sendDirect('bob', 'second, same pooled link')).toBe('received');
    expect(inbox).toHaveLength(2);
  });

  it('rejects a forged signature with bad_signature and emits nothing', async () => {
    const { bob, inbox, ids } = await pair();
    const link = await rawLink(bob.port!);
    const mallory = Identity.generate();
    const forged = signedDm(mallory, ids.bob.encryptionKey, { from: 'alice' });
    link.send(forged);
    await replied(link);
    expect(link.frames).toEqual([
      expect.objectContaining({ type: 'error', id: forged.message.id, code: 'bad_signature' }),
    ]);
    expect(inbox).toEqual([]);
  });

  it('acks a replayed message again but emits it only once', async () => {
    const { bob, inbox, ids } = await pair();
    const link = await rawLink(bob.port!);
    const dm = signedDm(ids.alice, ids.bob.encryptionKey);
    link.send(dm);
    link.send(dm);
    await replied(link, 2);
    const ack = { type: 'dm_ack', id: dm.message.id, sig: expect.any(String) };
    expect(link.frames).toEqual([ack, ack]);
    expect(inbox).toHaveLength(1);
    for (const reply of link.frames) {
      // signed by bob over (id, sender, receiver): only bob can make alice print "received"
      expect(
        reply.type === 'dm_ack' &&
          verifyAck(ids.bob.publicKey, { id: dm.message.id, from: 'alice', to: 'bob' }, reply.sig),
      ).toBe(true);
    }
  });

  it.each([
    ['wrong_recipient', { to: 'carol' }],
    ['stale_message', { ts: Date.now() - 10 * 60_000 }],
    ['message_too_long', { text: 'x'.repeat(4097) }],
  ])('rejects %s', async (code, change) => {
    const { bob, inbox, ids } = await pair();
    const link = await rawLink(bob.port!);
    link.send(signedDm(ids.alice, ids.bob.encryptionKey, change));
    await replied(link);
    expect(link.frames).toEqual([expect.objectContaining({ type: 'error', code })]);
    expect(inbox).toEqual([]);
  });

  it('rejects a sender missing from the table with unknown_sender after waiting for a table push', async () => {
    const { bob, inbox, ids } = await pair();
    const link = await rawLink(bob.port!);
    link.send(signedDm(Identity.generate(), ids.bob.encryptionKey, { from: 'zed' }));
    await replied(link);
    expect(link.frames).toEqual([expect.objectContaining({ type: 'error', code: 'unknown_sender' })]);
    expect(inbox).toEqual([]);
  });

  it('reports unknown, saved (offline), too long and no_ack without contacting the receiver', async () => {
    const accepted: net.Socket[] = [];
    const silent = net.createServer((socket) => accepted.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          accepted.forEach((socket) => socket.destroy());
          silent.close(() => resolve());
        }),
    );
    const port = (silent.address() as net.AddressInfo).port;
    const other = Identity.generate();
    const key = other.publicKey;
    const { alice } = await pair([
      { name: 'carol', host: '127.0.0.1', port: 1, online: false, key, ...published(other, 'carol') },
      { name: 'dave', host: '127.0.0.1', port, online: true, key, ...published(other, 'dave') },
    ]);
    expect(await alice.sendDirect('nobody', 'hi')).toBe('unknown');
    // docs/usage.md "Saved messages": the server keeps a message for a client that is offline.
    expect(await alice.sendDirect('carol', 'hi')).toBe('saved');
    expect(await alice.sendDirect('bob', 'x'.repeat(4097))).toBe('too_long');
    expect(await alice.sendDirect('dave', 'hi')).toBe('no_ack');
  });
});

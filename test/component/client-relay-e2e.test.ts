import { ChatClient } from '../../src/client/chat-client';
import type { DirectMessage } from '../../src/client/client-results';
import { Identity } from '../../src/client/identity';
import { memoryDuplexPair } from '../../src/net/memory-duplex';
import type { DmEnvelope } from '../../src/protocol/dm-envelope';
import { ChatServer } from '../../src/server/chat-server';
import { RawClient } from '../helpers/raw-client';
import { identityOf } from '../helpers/test-identity';

/**
 * A chatapp client (ChatClient) and a browser-like session — a raw client
 * registered with port 0 and an encryption key — through a real ChatServer on
 * in-memory streams (docs/protocol.md "Relayed private messages"): what the
 * client relays is sealed, what it takes is opened and checked, and readable
 * text is refused both ways between parties that publish keys. An IRC-like
 * session (port 0, no key) still gets and sends readable text.
 */

const LIMITS = { heartbeatMs: 0, ackTimeoutMs: 2000 };
let server: ChatServer;
const closers: Array<() => unknown> = [];

beforeEach(() => {
  server = new ChatServer({ limits: LIMITS });
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await server.close();
});

async function client(name: string): Promise<{ client: ChatClient; inbox: DirectMessage[] }> {
  const c = new ChatClient({
    name,
    serverHost: '127.0.0.1',
    serverPort: 1,
    listenPort: 0,
    listenHost: '127.0.0.1',
    limits: LIMITS,
    identity: Identity.generate(),
    dial: () => {
      const [serverSide, clientSide] = memoryDuplexPair();
      server.handleConnection(serverSide);
      return clientSide;
    },
  });
  closers.push(() => c.close());
  await c.start();
  const first = new Promise<void>((resolve) => c.once('tableUpdated', () => resolve()));
  expect(await c.register()).toBe('ok');
  await first;
  const inbox: DirectMessage[] = [];
  c.on('directMessage', (m) => inbox.push(m));
  return { client: c, inbox };
}

/** A session that cannot be dialled (port 0): with a key, a browser page; without, an IRC session. */
async function session(name: string, ekey: boolean): Promise<RawClient> {
  const raw = RawClient.on(server, { answerPings: true });
  closers.push(() => raw.close());
  expect((await raw.register(name, { port: 0, ekey })).type).toBe('reply');
  return raw;
}

/** Resolves once `c`'s table lists `name`. */
async function listed(c: ChatClient, name: string): Promise<void> {
  while (c.lookup(name) === undefined) await new Promise((resolve) => c.once('tableUpdated', resolve));
}

describe('relayed private messages between a chatapp client and sessions that cannot be dialled', () => {
  test('to a page (port 0 with a key): sealed for it, opened only by it, "received" after its ack', async () => {
    const page = await session('page', true);
    const { client: alice } = await client('alice');
    await listed(alice, 'page');
    const sent = alice.sendDirect('page', 'for the page only');
    const got = await page.waitFor((f) => f.type === 'relayed_dm', 'relayed_dm');
    if (got.type !== 'relayed_dm' || !('enc' in got.body)) throw new Error(`not sealed: ${JSON.stringify(got)}`);
    expect(JSON.stringify(got)).not.toContain('for the page only');
    const opened = identityOf('page').open('page', alice.identity.publicKey, got.body.enc);
    expect(opened).toEqual({ ok: true, text: 'for the page only' });
    page.send({ type: 'relayed_ack', id: got.id });
    expect(await sent).toBe('received');
  });

  test("the page's refusal comes back to the sender as its code", async () => {
    const page = await session('page', true);
    const { client: alice } = await client('alice');
    await listed(alice, 'page');
    const sent = alice.sendDirect('page', 'refused');
    const got = await page.waitFor((f) => f.type === 'relayed_dm', 'relayed_dm');
    page.send({ type: 'relayed_ack', id: (got as { id: string }).id, code: 'undecryptable' });
    expect(await sent).toEqual({ rejected: 'undecryptable' });
  });

  test('from a page: a sealed message is opened and shown once; re-sent under another id, or forged, it is refused', async () => {
    const { client: bob, inbox } = await client('bob');
    const page = await session('page', true);
    await listed(bob, 'page');
    const seal = (id: string, signer = identityOf('page')): DmEnvelope =>
      signer.seal('page', { id, to: 'bob', ts: Date.now() }, bob.identity.encryptionKey, `hello ${id}`);
    const relay = (enc: DmEnvelope) => page.request({ type: 'relay_dm', id: enc.id, to: 'bob', body: { enc } });
    const first = seal('m1');
    expect(await relay(first)).toEqual({ type: 'reply', id: 'm1' });
    expect(inbox).toEqual([expect.objectContaining({ from: 'page', text: 'hello m1' })]);
    const again = await page.request({ type: 'relay_dm', id: 'm1-again', to: 'bob', body: { enc: first } });
    expect(again).toMatchObject({ type: 'error', code: 'not_self' }); // the envelope's id must be the request's
    expect(await relay(seal('m2', Identity.generate()))).toMatchObject({ type: 'error', code: 'bad_signature' });
    expect(inbox).toHaveLength(1);
  });

  test('readable text between two parties with keys is refused by the server both ways', async () => {
    const page = await session('page', true);
    const { client: bob } = await client('bob');
    await listed(bob, 'page');
    const toBob = await page.request({ type: 'relay_dm', to: 'bob', body: { text: 'plain' } });
    expect(toBob).toMatchObject({ type: 'error', code: 'e2e_required' });
  });

  test('an envelope naming another sender or another receiver is refused by the server', async () => {
    const page = await session('page', true);
    const { client: bob } = await client('bob');
    await client('carol');
    await listed(bob, 'page');
    const enc = identityOf('page').seal(
      'page',
      { id: 'x1', to: 'carol', ts: Date.now() },
      bob.identity.encryptionKey,
      'x',
    );
    expect(await page.request({ type: 'relay_dm', id: 'x1', to: 'bob', body: { enc } })).toMatchObject({
      code: 'wrong_recipient',
    });
    const claimed = { ...enc, id: 'x2', from: 'carol', to: 'bob' };
    expect(await page.request({ type: 'relay_dm', id: 'x2', to: 'bob', body: { enc: claimed } })).toMatchObject({
      code: 'not_self',
    });
  });

  test('an IRC-like session (port 0, no key) gets and sends readable text, as today', async () => {
    const irc = await session('ircbob', false);
    const { client: alice, inbox } = await client('alice');
    await listed(alice, 'ircbob');
    const sent = alice.sendDirect('ircbob', 'hi irc');
    const got = await irc.waitFor((f) => f.type === 'relayed_dm', 'relayed_dm');
    expect(got).toMatchObject({ from: 'alice', body: { text: 'hi irc' } });
    irc.send({ type: 'relayed_ack', id: (got as { id: string }).id });
    expect(await sent).toBe('received');
    expect(await irc.request({ type: 'relay_dm', to: 'alice', body: { text: 'hi terminal' } })).toMatchObject({
      type: 'reply',
    });
    expect(inbox).toEqual([expect.objectContaining({ from: 'ircbob', text: 'hi terminal' })]);
  });
});

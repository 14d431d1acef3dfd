import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ChatClient } from '../../src/client/chat-client';
import type { DirectMessage } from '../../src/client/client-results';
import { Identity } from '../../src/client/identity';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { DirectFrame, type ClientEntry, type FrameOf } from '../../src/protocol/frames';
import type { Limits } from '../../src/protocol/limits';
import { FakeClock } from '../helpers/fake-clock';
import type { Clock } from '../../src/util/clock';
import { closeAllRawClients, RawLink } from '../helpers/raw-client';
import { FakeServer, healthyScript } from './client-fake-server';
import { published, sealedDm, type PlainDm } from '../helpers/e2e-keys';

/**
 * The limits of a client's direct-message listener and the proof an ack
 * carries (docs/security.md "Listener limits", "Acks"): per-link and
 * per-sender rates and the verify budget checked before any signature, three
 * strikes per link, a capped number of links with a greeting deadline, a
 * bounded held queue in group mode, replays refused across a restart, and
 * `dm_ack`s that count only when the receiver signed them. Time is a
 * FakeClock that never moves unless a test moves it, so buckets refill only
 * when told to; nothing here asserts on speed.
 */

type Dm = FrameOf<DirectFrame, 'dm'>;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ids = { alice: Identity.generate(), bob: Identity.generate(), carol: Identity.generate() };

interface Bob {
  bob: ChatClient;
  inbox: DirectMessage[];
  table: ClientEntry[];
  clock: FakeClock;
}

/** bob's ChatClient on a loopback listener; alice and carol are in its table (their ports are not used). */
async function startBob(limits: Partial<Limits> = {}, dataDir?: string, clock = new FakeClock()): Promise<Bob> {
  const table: ClientEntry[] = [];
  const bob = newClient('bob', table, clock, { heartbeatMs: 0, ackTimeoutMs: 200, ...limits }, dataDir);
  const port = await bob.start();
  table.push(
    {
      name: 'alice',
      host: '127.0.0.1',
      port: 1,
      online: true,
      key: ids.alice.publicKey,
      ...published(ids.alice, 'alice'),
    },
    { name: 'bob', host: '127.0.0.1', port, online: true, key: ids.bob.publicKey, ...published(ids.bob, 'bob') },
    {
      name: 'carol',
      host: '127.0.0.1',
      port: 1,
      online: true,
      key: ids.carol.publicKey,
      ...published(ids.carol, 'carol'),
    },
  );
  await registered(bob);
  const inbox: DirectMessage[] = [];
  bob.on('directMessage', (m) => inbox.push(m));
  return { bob, inbox, table, clock };
}

function newClient(
  name: 'alice' | 'bob',
  table: ClientEntry[],
  clock: Clock,
  limits: Partial<Limits>,
  dataDir?: string,
): ChatClient {
  const server = new FakeServer(
    healthyScript(() => table),
    clock,
  );
  const client = new ChatClient({
    name,
    serverHost: '127.0.0.1',
    serverPort: 1,
    listenPort: 0,
    listenHost: '127.0.0.1',
    limits,
    identity: ids[name],
    dial: server.dialer(),
    clock,
    ...(dataDir === undefined ? {} : { dataDir }),
  });
  cleanups.push(() => client.close());
  return client;
}

async function registered(client: ChatClient): Promise<void> {
  const tableSeen = new Promise<void>((resolve) => client.once('tableUpdated', () => resolve()));
  expect(await client.register()).toBe('ok');
  await tableSeen;
}

/** A dm signed by `signer` claiming `from`, stamped with `clock`'s time. */
function dm(clock: Clock, signer: Identity, over: Partial<PlainDm> = {}): Dm {
  const fields = { id: `id-${Math.random()}`, from: 'alice', to: 'bob', ts: clock.now(), text: 'hi', ...over };
  return sealedDm(signer, ids.bob.encryptionKey, fields); // sealed for bob whoever it claims to be for
}

/** A raw TCP link to a listener (test/helpers/raw-client.ts); closed after the test. */
async function openLink(port: number): Promise<RawLink<DirectFrame>> {
  if (!cleanups.includes(closeAllRawClients)) cleanups.push(closeAllRawClients);
  return RawLink.direct(port, { answerPings: false });
}

/** What `link` got back, pings left out. */
function replies(link: RawLink<DirectFrame>): DirectFrame[] {
  return link.frames.filter((f) => f.type !== 'ping');
}

/** Resolves once `n` replies arrived (fails if the link closes first). */
async function replied(link: RawLink<DirectFrame>, n: number): Promise<void> {
  await link.until(() => replies(link).length >= n, `${n} replies`);
}

/** Per reply, in arrival order: `ack` or the error code. */
function verdicts(link: RawLink<DirectFrame>): string[] {
  return replies(link).map(verdict);
}

/** The verdicts on `dms`, in the order given (replies to different dms may arrive in any order). */
function verdictsOn(link: RawLink<DirectFrame>, dms: readonly Dm[]): string[] {
  return dms.map((m) => {
    const reply = link.frames.find((f) => 'id' in f && f.id === m.message.id);
    return reply === undefined ? 'none' : verdict(reply);
  });
}

function verdict(f: DirectFrame): string {
  return f.type === 'dm_ack' ? 'ack' : f.type === 'error' ? f.code : f.type;
}

describe('dm_ack proves who took the message', () => {
  /** A listener on a port the table lists for bob, answering every dm with `answer(dm)`. */
  async function impostor(answer: (dm: Dm) => DirectFrame): Promise<number> {
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      const decoder = new FrameDecoder(
        DirectFrame,
        { maxFrameBytes: 1 << 16 },
        {
          frame: (f) => void (f.type === 'dm' && socket.write(encodeFrame<DirectFrame>(answer(f)))),
          error: () => undefined,
        },
      );
      socket.on('data', (chunk: Buffer) => decoder.push(chunk));
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          sockets.forEach((s) => s.destroy());
          server.close(() => resolve());
        }),
    );
    return (server.address() as net.AddressInfo).port;
  }

  async function aliceSendingToBobAt(port: number): Promise<ChatClient> {
    const table: ClientEntry[] = [
      { name: 'bob', host: '127.0.0.1', port, online: true, key: ids.bob.publicKey, ...published(ids.bob, 'bob') },
    ];
    const alice = newClient('alice', table, new FakeClock(), { heartbeatMs: 0 });
    await alice.start();
    table.push({
      name: 'alice',
      host: '127.0.0.1',
      port: alice.port!,
      online: true,
      key: ids.alice.publicKey,
      ...published(ids.alice, 'alice'),
    });
    await registered(alice);
    return alice;
  }

  it('an ack signed by another key is no_ack, at once', async () => {
    const mallory = Identity.generate();
    const port = await impostor((m) => ({
      type: 'dm_ack',
      id: m.message.id,
      sig: mallory.signAck({ id: m.message.id, from: m.message.from, to: m.message.to }),
    }));
    const alice = await aliceSendingToBobAt(port);
    expect(await alice.sendDirect('bob', 'for bob only')).toBe('no_ack');
  });

  it("bob's signature over another message's id, or over another receiver, is no_ack", async () => {
    const port = await impostor((m) => ({
      type: 'dm_ack',
      id: m.message.id,
      sig: ids.bob.signAck({ id: m.message.id, from: m.message.from, to: 'carol' }),
    }));
    const alice = await aliceSendingToBobAt(port);
    expect(await alice.sendDirect('bob', 'hi')).toBe('no_ack');
  });

  it('positive control: an ack signed by the key the table lists for bob is received', async () => {
    const port = await impostor((m) => ({
      type: 'dm_ack',
      id: m.message.id,
      sig: ids.bob.signAck({ id: m.message.id, from: m.message.from, to: m.message.to }),
    }));
    const alice = await aliceSendingToBobAt(port);
    expect(await alice.sendDirect('bob', 'hi')).toBe('received');
  });

  it('inbox_full from the receiver is receiver_full for the sender', async () => {
    const port = await impostor((m) => ({ type: 'error', id: m.message.id, code: 'inbox_full', message: 'full' }));
    const alice = await aliceSendingToBobAt(port);
    expect(await alice.sendDirect('bob', 'hi')).toBe('receiver_full');
  });
});

describe('rates and the verify budget are checked before the signature', () => {
  it('per link: past the burst, rate_limited (no refill while the clock stands still)', async () => {
    const { bob, clock, inbox } = await startBob({ directRateBurst: 3, directRatePerSec: 1 });
    const link = await openLink(bob.port!);
    const five = Array.from({ length: 5 }, () => dm(clock, ids.alice));
    link.sendBatch(five);
    await replied(link, 5);
    expect(verdictsOn(link, five)).toEqual(['ack', 'ack', 'ack', 'rate_limited', 'rate_limited']);
    expect(inbox).toHaveLength(3);
    clock.advance(1000); // one token back
    link.send(dm(clock, ids.alice, { text: 'after a second' }));
    await replied(link, 6);
    expect(verdicts(link)[5]).toBe('ack');
  });

  it('per sender name across links; a forger claiming alice does not use up her budget', async () => {
    const { bob, clock, inbox } = await startBob({ directRateBurst: 2, directRatePerSec: 1 });
    const forger = await openLink(bob.port!);
    forger.sendBatch([dm(clock, Identity.generate()), dm(clock, Identity.generate())]); // claims alice, bad signatures
    await replied(forger, 2);
    expect(verdicts(forger)).toEqual(['bad_signature', 'bad_signature']);
    const [one, two] = [await openLink(bob.port!), await openLink(bob.port!)];
    one.sendBatch([dm(clock, ids.alice), dm(clock, ids.alice)]);
    await replied(one, 2);
    const onTwo = [dm(clock, ids.alice), dm(clock, ids.carol, { from: 'carol' })];
    two.sendBatch(onTwo);
    await replied(two, 2);
    expect([verdicts(one), verdictsOn(two, onTwo)]).toEqual([
      ['ack', 'ack'],
      ['rate_limited', 'ack'],
    ]);
    expect(inbox.map((m) => m.from)).toEqual(['alice', 'alice', 'carol']);
  });

  it('one bucket per name in any case: signing as ALICE does not get alice a second budget', async () => {
    const { bob, clock } = await startBob({ directRateBurst: 2, directRatePerSec: 1 });
    const [one, two] = [await openLink(bob.port!), await openLink(bob.port!)];
    one.sendBatch([dm(clock, ids.alice), dm(clock, ids.alice, { from: 'Alice' })]);
    await replied(one, 2);
    const upper = dm(clock, ids.alice, { from: 'ALICE' });
    two.send(upper);
    await replied(two, 1);
    expect([verdicts(one), verdictsOn(two, [upper])]).toEqual([['ack', 'ack'], ['rate_limited']]);
  });

  it('links that delivered nothing share the verify budget; a proven link does not wait for it', async () => {
    const { bob, clock } = await startBob({ directVerifyPerSec: 1 }); // burst: 2 checks
    const proven = await openLink(bob.port!);
    proven.send(dm(clock, ids.alice));
    await replied(proven, 1);
    const fresh = await Promise.all([1, 2, 3].map(() => openLink(bob.port!)));
    for (const [i, link] of fresh.entries()) {
      link.send(dm(clock, Identity.generate(), { from: 'carol' }));
      await replied(link, 1);
      expect([i, verdicts(link)]).toEqual([i, [i < 1 ? 'bad_signature' : 'rate_limited']]);
    }
    proven.send(dm(clock, ids.alice));
    await replied(proven, 2);
    expect(verdicts(proven)).toEqual(['ack', 'ack']);
  });

  it('three bad signatures in a row close the link (too_many_invalid); the rest of its read is not checked', async () => {
    const { bob, clock } = await startBob();
    const link = await openLink(bob.port!);
    link.sendBatch(Array.from({ length: 30 }, () => dm(clock, Identity.generate())));
    await link.waitClosed();
    expect(verdicts(link)).toEqual(['bad_signature', 'bad_signature', 'bad_signature', 'too_many_invalid']);
  });

  it('a link that ignores directRateBurst refusals in a row is closed (rate_limited); what it had admitted still gets its verdict', async () => {
    const { bob, clock, inbox } = await startBob({ directRateBurst: 3, directRatePerSec: 1 });
    const link = await openLink(bob.port!);
    const flood = Array.from({ length: 50 }, (_, n) => dm(clock, ids.alice, { text: `f${n}` }));
    link.sendBatch(flood);
    await link.waitClosed();
    expect(verdictsOn(link, flood.slice(0, 6))).toEqual([
      'ack',
      'ack',
      'ack',
      'rate_limited',
      'rate_limited',
      'rate_limited',
    ]);
    expect(verdicts(link).filter((v) => v === 'rate_limited')).toHaveLength(4); // three refusals, then the close
    expect(replies(link)).toHaveLength(7);
    expect(inbox.map((m) => m.text)).toEqual(['f0', 'f1', 'f2']);
  });
});

describe('the listener keeps at most maxDirectLinks and closes links that deliver nothing', () => {
  it('a newcomer past the cap sheds an unproven link (oldest first), never a proven one', async () => {
    const { bob, clock } = await startBob({ maxDirectLinks: 3 });
    const proven = await openLink(bob.port!);
    proven.send(dm(clock, ids.alice));
    await replied(proven, 1);
    const idle = [await openLink(bob.port!), await openLink(bob.port!)];
    const newcomer = await openLink(bob.port!);
    await idle[0]!.waitClosed();
    expect(verdicts(idle[0]!)).toEqual(['server_full']);
    newcomer.send(dm(clock, ids.carol, { from: 'carol' }));
    await replied(newcomer, 1);
    proven.send(dm(clock, ids.alice));
    await replied(proven, 2);
    expect([verdicts(newcomer), verdicts(proven), idle[1]!.isClosed]).toEqual([['ack'], ['ack', 'ack'], false]);
  });

  it('a link with no accepted dm within the greeting deadline is closed (idle_timeout); a proven one stays', async () => {
    const { bob, clock } = await startBob({ directGreetingTimeoutMs: 1000 });
    const [idle, junk, proven] = [await openLink(bob.port!), await openLink(bob.port!), await openLink(bob.port!)];
    junk.send(dm(clock, ids.alice, { to: 'carol' })); // a reply, but nothing accepted
    proven.send(dm(clock, ids.alice));
    await Promise.all([replied(junk, 1), replied(proven, 1)]);
    clock.advance(1001);
    await Promise.all([idle.waitClosed(), junk.waitClosed()]);
    expect([verdicts(idle), verdicts(junk)]).toEqual([['idle_timeout'], ['wrong_recipient', 'idle_timeout']]);
    proven.send(dm(clock, ids.alice));
    await replied(proven, 2);
    expect(verdicts(proven)).toEqual(['ack', 'ack']);
  });
});

describe('group mode holds a bounded number of private messages', () => {
  it('holds them in order, refuses past maxHeldMessages with inbox_full, releases them when asked', async () => {
    const { bob, clock, inbox } = await startBob({ maxHeldMessages: 2 });
    expect(await bob.joinGroup('room')).toMatchObject({ joined: 'room' });
    const link = await openLink(bob.port!);
    const sent = [1, 2, 3].map((n) => dm(clock, ids.alice, { text: `m${n}` }));
    link.sendBatch(sent);
    await replied(link, 3);
    expect(verdictsOn(link, sent)).toEqual(['ack', 'ack', 'inbox_full']);
    expect(inbox).toEqual([]);
    link.send(sent[2]!); // refused, so not remembered: once there is room it is taken
    await replied(link, 4);
    expect(verdicts(link)[3]).toBe('inbox_full');
    expect(bob.releaseHeld().map((m) => m.text)).toEqual(['m1', 'm2']);
    link.send(sent[2]!);
    await replied(link, 5);
    expect(verdicts(link)[4]).toBe('ack');
    expect(bob.releaseHeld().map((m) => m.text)).toEqual(['m3']);
    expect(inbox).toEqual([]);
  });

  it('after group mode, a new message shows any still held before itself', async () => {
    const { bob, clock, inbox } = await startBob();
    expect(await bob.joinGroup('room')).toMatchObject({ joined: 'room' });
    const link = await openLink(bob.port!);
    link.send(dm(clock, ids.alice, { text: 'held' }));
    await replied(link, 1);
    expect(await bob.leaveGroup()).toEqual({ left: 'room' });
    link.send(dm(clock, ids.alice, { text: 'later' }));
    await replied(link, 2);
    expect(inbox.map((m) => m.text)).toEqual(['held', 'later']);
  });
});

describe('replays across a restart (dataDir)', () => {
  it('a dm accepted before a restart is acked again but not shown again; a new one is shown', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-received-'));
    cleanups.push(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const clock = new FakeClock();
    clock.advance(1_700_000_000_000);
    const first = await startBob({}, dataDir, clock);
    const captured = dm(clock, ids.alice, { text: 'pay mallory 100' });
    const before = await openLink(first.bob.port!);
    before.send(captured);
    await replied(before, 1);
    expect([verdicts(before), first.inbox.length]).toEqual([['ack'], 1]);
    await first.bob.close();

    clock.advance(60_000); // still inside the 5-minute timestamp window
    const second = await startBob({}, dataDir, clock);
    const after = await openLink(second.bob.port!);
    after.send(captured);
    await replied(after, 1);
    after.send(dm(clock, ids.alice, { text: 'fresh' }));
    await replied(after, 2);
    expect(verdicts(after)).toEqual(['ack', 'ack']);
    expect(second.inbox.map((m) => m.text)).toEqual(['fresh']);
    expect(fs.readdirSync(path.join(dataDir, 'received'))).toEqual(['bob.jsonl']);
  });
});

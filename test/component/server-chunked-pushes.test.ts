import { Duplex } from 'node:stream';
import { ChatClient } from '../../src/client/chat-client';
import { ChatServer } from '../../src/server/chat-server';
import type { ClientEntry, ServerToClientFrame } from '../../src/protocol/frames';
import type { Limits } from '../../src/protocol/limits';
import { Waiters } from '../../testkit/waiters';
import { FakeClock } from '../helpers/fake-clock';
import { memoryDuplexPair } from '../../src/net/memory-duplex';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';
import { signedRegister } from '../helpers/test-identity';

/** Every connection's challenge here (ChatServerOptions.newChallenge), so raw registrations are signed at once. */
const CHALLENGE = Buffer.alloc(32, 7).toString('base64');

/**
 * docs/protocol.md `table` (`more`) and `list_part`: long pushes and lists
 * arrive in frames well under maxFrameBytes, a new client's full table is
 * paced by its outbound queue with deltas held back until it is complete, and
 * list requests are re-run on a repeated id.
 */

type Frame = ServerToClientFrame;

/**
 * An in-memory pair whose server → client direction can be held shut: while
 * held, the server's writes stay buffered in its stream (a reader that does
 * not read), so its connection becomes congested and waits for 'drain'.
 */
function gatedPair(): { serverSide: Duplex; clientSide: Duplex; open(): void } {
  let held = true;
  const waiting: Array<() => void> = [];
  const clientSide: Duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      serverSide.push(chunk);
      cb();
    },
  });
  const serverSide: Duplex = new Duplex({
    writableHighWaterMark: 1024,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      const pass = (): void => {
        clientSide.push(chunk);
        cb();
      };
      if (held) waiting.push(pass);
      else pass();
    },
  });
  const open = (): void => {
    held = false;
    for (const pass of waiting.splice(0)) pass();
  };
  return { serverSide, clientSide, open };
}

/** Server-side streams a test wired by hand; destroyed after each test. */
const streams: Duplex[] = [];

/** The largest frame `client` received, in encoded bytes. */
function largestFrame(client: RawClient): number {
  return Math.max(...client.frames.map((f) => Buffer.byteLength(JSON.stringify(f))));
}

/** Names in every table frame with `rev` that `client` received, in order. */
function namesOfRev(client: RawClient, rev: number): string[] {
  return client
    .ofType('table')
    .filter((t) => t.rev === rev)
    .flatMap((t) => t.clients.map((c) => c.name));
}

const longName = (prefix: string, i: number): string => `${prefix}${String(i).padStart(5, '0')}`.padEnd(32, 'x');

/** Registers and deregisters `names` on one connection, so the table lists them all (offline). */
async function fillTable(server: ChatServer, names: readonly string[]): Promise<void> {
  const cycler = RawClient.on(server);
  names.forEach((name, i) => {
    cycler.send(signedRegister(CHALLENGE, { name, id: `r${i}`, port: 1 }));
    cycler.send({ type: 'dereg', id: `d${i}`, name });
  });
  await cycler.answerTo(`d${names.length - 1}`);
}

describe('ChatServer chunked table pushes and lists (component, in-memory streams)', () => {
  let server: ChatServer;
  const clients: ChatClient[] = [];
  const start = (limits: Partial<Limits> = {}): void => {
    // A fake clock that never advances: no drain deadline can drop the held-back reader mid-test
    // (so table deltas are pushed per event-loop turn, tableFlushMs 0).
    server = new ChatServer({
      clock: new FakeClock(),
      tableFlushMs: 0,
      limits: { heartbeatMs: 0, rateLimitPerSec: 0, ...limits },
      newChallenge: () => CHALLENGE,
    });
  };
  const chatClient = (name: string): ChatClient => {
    const client = new ChatClient({
      name,
      serverHost: '127.0.0.1',
      serverPort: 1,
      listenPort: 0,
      listenHost: '127.0.0.1',
      limits: { heartbeatMs: 0, maxFrameBytes: server.limits.maxFrameBytes },
      dial: () => {
        const [serverSide, clientSide] = memoryDuplexPair();
        server.handleConnection(serverSide);
        return clientSide;
      },
    });
    clients.push(client);
    return client;
  };

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await closeAllRawClients();
    for (const stream of streams.splice(0)) stream.destroy();
    await server.close();
  });

  it('sends a full table past the frame budget as chunks of one rev, which a client applies once', async () => {
    start({ maxFrameBytes: 2048 });
    const names = Array.from({ length: 60 }, (_, i) => longName('n', i));
    await fillTable(server, names);
    const raw = RawClient.on(server);
    raw.send(signedRegister(CHALLENGE, { name: 'raw', id: 'reg', port: 1 }));
    await raw.until(() => raw.ofType('table').some((t) => t.rev === 1 && t.more === undefined));
    const full = raw.ofType('table');
    expect(full.length).toBeGreaterThan(3);
    expect(full.map((t) => [t.rev, t.full, t.more === true])).toEqual(
      full.map((_, i) => [1, i === 0, i < full.length - 1]),
    );
    expect(namesOfRev(raw, 1)).toEqual([...names, 'raw']);
    expect(largestFrame(raw)).toBeLessThanOrEqual(1024);

    const alice = chatClient('alice');
    const updates: Array<readonly ClientEntry[]> = [];
    const tableUpdates = new Waiters(() => `alice knows ${alice.clients().length} clients`);
    alice.on('tableUpdated', (table) => {
      updates.push(table);
      tableUpdates.notify();
    });
    expect(await alice.register()).toBe('ok');
    await tableUpdates.wait({
      what: "alice's full table",
      probe: () => (alice.clients().length === 62 ? { value: true } : null),
    });
    expect(await alice.listGroups()).toEqual({ groups: [] }); // answered after the whole table
    await new Promise((r) => setImmediate(r));
    expect(updates.map((t) => t.length)).toEqual([62]);
    expect(alice.clients().map((c) => c.name)).toEqual([...names, 'raw', 'alice']);
  });

  it('paces a full table by the reader, holds deltas back and sends them after its last chunk', async () => {
    start({ maxFrameBytes: 2048, maxOutboundBytes: 4096 });
    const names = Array.from({ length: 60 }, (_, i) => longName('p', i));
    await fillTable(server, names);
    const watcher = RawClient.on(server);
    watcher.send(signedRegister(CHALLENGE, { name: 'watcher', id: 'w', port: 1 }));
    await watcher.until(() => watcher.ofType('table').some((t) => t.more === undefined));
    const gate = gatedPair();
    server.handleConnection(gate.serverSide);
    streams.push(gate.serverSide);
    const slow = new RawClient(gate.clientSide);
    slow.send(signedRegister(CHALLENGE, { name: 'slow', id: 'slow', port: 1 }));
    await watcher.until(() => namesOfRev(watcher, 2).includes('slow'));
    const late = RawClient.on(server);
    late.send(signedRegister(CHALLENGE, { name: 'late', id: 'late', port: 1 }));
    await watcher.until(() => namesOfRev(watcher, 3).includes('late'));
    expect(slow.frames).toEqual([]); // nothing read yet: the server holds the rest of the table back
    gate.open();
    await slow.until(() => namesOfRev(slow, 2).includes('late'));
    await slow.until(() => slow.ofType('table').at(-1)?.more === undefined);
    expect(slow.frames.filter((f) => f.type !== 'hello')[0]).toEqual({ type: 'reply', id: 'slow' });
    const revs = slow.ofType('table').map((t) => t.rev);
    expect(revs).toEqual([...revs].sort((a, b) => a - b)); // every rev-1 chunk before any delta
    expect(namesOfRev(slow, 1)).toEqual([...names, 'watcher', 'slow']);
    expect(namesOfRev(slow, 2)).toEqual(['late']);
    expect(largestFrame(slow)).toBeLessThanOrEqual(1024);
  });

  it('answers a long list_groups through list_part frames that a client reassembles in order', async () => {
    start({ maxGroupsPerClient: 10_000 });
    const creator = RawClient.on(server);
    creator.send(signedRegister(CHALLENGE, { name: 'creator', id: 'reg', port: 1 }));
    const groups = Array.from({ length: 2100 }, (_, i) => longName('g', i));
    groups.forEach((group, i) => creator.send({ type: 'create_group', id: `c${i}`, group }));
    await creator.answerTo(`c${groups.length - 1}`);
    creator.send({ type: 'list_groups', id: 'list' });
    await creator.answerTo('list');
    const parts = creator.frames.filter((f): f is Extract<Frame, { type: 'list_part' }> => f.type === 'list_part');
    const reply = creator.frames.find((f) => f.type === 'reply' && f.id === 'list');
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.every((p) => p.id === 'list')).toBe(true);
    expect([...parts.flatMap((p) => p.items), ...(reply?.type === 'reply' ? (reply.groups ?? []) : [])]).toEqual(
      groups,
    );
    expect(largestFrame(creator)).toBeLessThanOrEqual(server.limits.maxFrameBytes / 2);

    const lister = chatClient('lister');
    expect(await lister.register()).toBe('ok');
    expect(await lister.listGroups()).toEqual({ groups });
  });

  it('runs a repeated list request id again instead of answering from a cache', async () => {
    start();
    const listed: string[][] = [];
    server.on('groupsListed', (_name, groups) => listed.push([...groups]));
    const c = RawClient.on(server);
    c.send(signedRegister(CHALLENGE, { name: 'carol', id: 'reg', port: 1 }));
    c.send({ type: 'create_group', id: 'c1', group: 'first' });
    c.send({ type: 'list_groups', id: 'same' });
    c.send({ type: 'create_group', id: 'c2', group: 'second' });
    await c.answerTo('c2');
    c.send({ type: 'list_groups', id: 'same' });
    await c.until(() => c.frames.filter((f) => f.type === 'reply' && f.id === 'same').length === 2);
    const replies = c.frames.filter((f) => f.type === 'reply' && f.id === 'same');
    expect(replies).toEqual([
      { type: 'reply', id: 'same', groups: ['first'] },
      { type: 'reply', id: 'same', groups: ['first', 'second'] },
    ]);
    expect(listed).toEqual([['first'], ['first', 'second']]);
  });

  it('refuses a register host that is not an IP address or hostname as bad_frame', async () => {
    start();
    const c = RawClient.on(server);
    for (const [id, host] of [
      ['h1', 'h'.repeat(64)],
      ['h2', '127.0.9999.1'],
      ['h3', 'a b'],
    ] as const) {
      c.send({ ...signedRegister(CHALLENGE, { name: 'x', id, port: 1 }), host });
      expect(await c.answerTo(id)).toMatchObject({ type: 'error', code: 'bad_frame' });
    }
    c.send({ ...signedRegister(CHALLENGE, { name: 'x', id: 'ok', port: 1 }), host: 'chat.example.org' });
    expect(await c.answerTo('ok')).toEqual({ type: 'reply', id: 'ok' });
  });
});

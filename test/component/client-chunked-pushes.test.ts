import type { ClientEntry, ClientToServerFrame } from '../../src/protocol/frames';
import { FakeClock } from '../helpers/fake-clock';
import {
  FakeServer,
  clientOf,
  closeClients,
  healthyScript,
  settle,
  type FakeSession,
  type Script,
} from './client-fake-server';

/**
 * docs/protocol.md `table` (`more`) and `list_part`, as the client library
 * sees them: a push in chunks is applied once, at its last chunk; a long list
 * is reassembled from its parts, once, across retries and reconnects.
 */

const KEY = Buffer.alloc(32, 5).toString('base64');

afterEach(closeClients);

const entry = (name: string): ClientEntry => ({ name, host: '127.0.0.1', port: 1, online: true, key: KEY });

/** Sends `clients` as one push of `rev` in chunks of `per` entries. */
function sendChunked(session: FakeSession, rev: number, full: boolean, clients: ClientEntry[], per: number): void {
  for (let i = 0; i < clients.length; i += per) {
    const last = i + per >= clients.length;
    const chunk = clients.slice(i, i + per);
    session.send(
      last
        ? { type: 'table', rev, full: full && i === 0, clients: chunk }
        : { type: 'table', rev, full: full && i === 0, more: true, clients: chunk },
    );
  }
}

/** Starts a call and records its results. */
function track<T>(promise: Promise<T>): T[] {
  const results: T[] = [];
  void promise.then((r) => results.push(r));
  return results;
}

const listTries = (server: FakeServer): ClientToServerFrame[] => server.frames.filter((f) => f.type === 'list_groups');

describe('ChatClient chunked pushes and lists', () => {
  it('applies a full table of 3,000 entries sent in 10 chunks once, then a chunked delta once', async () => {
    const clock = new FakeClock();
    const table = Array.from({ length: 3000 }, (_, i) => entry(`c${i}`));
    const server = new FakeServer((frame, session) => {
      if (frame.type !== 'register') return;
      session.send({ type: 'reply', id: frame.id });
      sendChunked(session, 1, true, table, 300);
    }, clock);
    const client = clientOf(server, clock);
    const updates: number[] = [];
    client.on('tableUpdated', (clients) => updates.push(clients.length));
    expect(await client.register()).toBe('ok');
    await settle(() => updates.length > 0);
    await settle();
    expect(updates).toEqual([3000]);
    expect(client.clients().map((c) => c.name)).toEqual(table.map((c) => c.name));
    sendChunked(server.sessions[0]!, 2, false, [entry('c5'), entry('new1'), entry('new2')], 2);
    await settle(() => updates.length > 1);
    await settle();
    expect(updates).toEqual([3000, 3002]);
  });

  it('drops a push cut off by a lost connection and applies the full table sent after reconnecting', async () => {
    const clock = new FakeClock();
    let registrations = 0;
    const server = new FakeServer((frame, session) => {
      if (frame.type !== 'register') return;
      session.send({ type: 'reply', id: frame.id });
      if (++registrations === 1) return sendChunked(session, 1, true, [entry('alice'), entry('bob')], 1);
      sendChunked(session, 1, true, [entry('alice'), entry('carol')], 1);
    }, clock);
    const client = clientOf(server, clock);
    const updates: string[][] = [];
    client.on('tableUpdated', (clients) => updates.push(clients.map((c) => c.name)));
    let lost = false;
    client.on('serverLost', () => (lost = true));
    expect(await client.register()).toBe('ok');
    await settle(() => updates.length === 1);
    server.sessions[0]!.send({ type: 'table', rev: 2, full: false, more: true, clients: [entry('dave')] });
    await settle();
    server.dropAll();
    await settle(() => lost);
    clock.advance(100); // first reconnect backoff step
    await settle(() => updates.length === 2);
    expect(updates).toEqual([
      ['alice', 'bob'],
      ['alice', 'carol'],
    ]);
  });

  it('reassembles list_part frames before the reply, once, when a retry on the same connection repeats them', async () => {
    const clock = new FakeClock();
    const groups = Array.from({ length: 9 }, (_, i) => `g${i}`);
    const answer = (session: FakeSession, id: string): void => {
      session.send({ type: 'list_part', id, items: groups.slice(0, 3) });
      session.send({ type: 'list_part', id, items: groups.slice(3, 6) });
      session.send({ type: 'reply', id, groups: groups.slice(6) });
    };
    const base = healthyScript(() => [entry('alice')]);
    let firstId: string | null = null;
    const script: Script = (frame, session) => {
      if (frame.type !== 'list_groups') return base(frame, session);
      if (firstId !== null && frame.id !== firstId) return session.send({ type: 'reply', id: frame.id, groups: [] });
      firstId ??= frame.id;
      const tries = listTries(server).length;
      if (tries === 1) return session.send({ type: 'list_part', id: frame.id, items: groups.slice(0, 3) }); // slow first answer
      session.send({ type: 'list_part', id: frame.id, items: groups.slice(3, 6) }); // the first answer's rest
      session.send({ type: 'reply', id: frame.id, groups: groups.slice(6) });
      answer(session, frame.id); // the retry's own answer
    };
    const server = new FakeServer(script, clock);
    const client = clientOf(server, clock);
    expect(await client.register()).toBe('ok');
    const result = track(client.listGroups());
    await settle(() => listTries(server).length === 1);
    clock.advance(500); // the first try times out; the retry reuses the id
    await settle(() => result.length > 0);
    await settle();
    expect(result).toEqual([{ groups }]);
    expect(listTries(server).map((f) => ('id' in f ? f.id : ''))).toEqual([firstId, firstId]);
    expect(await client.listGroups()).toEqual({ groups: [] }); // nothing left over for later requests
  });

  it('forgets list parts of a lost connection: the retry on the next one yields each item once', async () => {
    const clock = new FakeClock();
    const base = healthyScript(() => [entry('alice')]);
    const script: Script = (frame, session) => {
      if (frame.type !== 'list_groups') return base(frame, session);
      session.send({ type: 'list_part', id: frame.id, items: ['a', 'b'] });
      if (listTries(server).length === 1) return; // connection lost before the reply
      session.send({ type: 'reply', id: frame.id, groups: ['c'] });
    };
    const server = new FakeServer(script, clock);
    const client = clientOf(server, clock);
    expect(await client.register()).toBe('ok');
    const result = track(client.listGroups());
    let lost = false;
    client.on('serverLost', () => (lost = true));
    await settle(() => listTries(server).length === 1);
    await settle();
    server.dropAll();
    await settle(() => lost);
    clock.advance(100); // reconnect; the request is sent again once the link is ready
    await settle(() => listTries(server).length === 2);
    clock.advance(500);
    await settle(() => result.length > 0);
    expect(result).toEqual([{ groups: ['a', 'b', 'c'] }]);
  });
});

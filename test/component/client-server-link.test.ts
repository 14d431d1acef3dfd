import { type ChatClient } from '../../src/client/chat-client';
import type { ClientToServerFrame } from '../../src/protocol/frames';
import { FakeClock } from '../helpers/fake-clock';
import { FakeServer, clientOf, closeClients, healthyScript, settle, type Script } from './client-fake-server';

afterEach(closeClients);

/** Starts a request and records its result (and how many times it settled). */
function track<T>(promise: Promise<T>): T[] {
  const results: T[] = [];
  void promise.then((r) => results.push(r));
  return results;
}

const ofType = (frames: ClientToServerFrame[], type: string) => frames.filter((f) => f.type === type);

/** Registers `client` against `server` (whose script must answer register). */
async function registered(client: ChatClient): Promise<void> {
  const result = track(client.register());
  await settle(() => result.length === 1);
  expect(result).toEqual(['ok']);
}

describe('ChatClient requests to the server (docs/usage.md "Client": ack timeout, retries, same id)', () => {
  it('retries an unanswered request with the same id and settles once when a later try is answered', async () => {
    const clock = new FakeClock();
    let seen = 0;
    const base = healthyScript(() => []);
    const script: Script = (frame, session) => {
      if (frame.type === 'create_group' && ++seen < 2) return; // ignore the first try
      base(frame, session);
    };
    const server = new FakeServer(script, clock);
    const client = clientOf(server, clock);
    await registered(client);
    const result = track(client.createGroup('g1'));
    await settle(() => seen === 1);
    clock.advance(500);
    await settle(() => result.length > 0);
    expect(result).toEqual(['created']);
    const ids = ofType(server.frames, 'create_group').map((f) => ('id' in f ? f.id : ''));
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
  });

  it('counts a reply that arrives after the first timeout once, even when the repeat is answered too', async () => {
    const clock = new FakeClock();
    const held: Array<() => void> = [];
    const base = healthyScript(() => []);
    const script: Script = (frame, session) => {
      if (frame.type === 'list_groups') held.push(() => session.send({ type: 'reply', id: frame.id, groups: ['g1'] }));
      else base(frame, session);
    };
    const server = new FakeServer(script, clock);
    const client = clientOf(server, clock);
    await registered(client);
    const result = track(client.listGroups());
    await settle(() => held.length === 1);
    clock.advance(500); // first try times out; second try goes out
    await settle(() => held.length === 2);
    held.forEach((answer) => answer()); // late reply to try 1, then the reply to try 2
    await settle(() => result.length > 0);
    await settle();
    expect(result).toEqual([{ groups: ['g1'] }]);
    const next = track(client.listGroups()); // the stray second reply settles nothing later
    await settle(() => held.length === 3);
    held[2]?.();
    await settle(() => next.length > 0);
    expect(next).toEqual([{ groups: ['g1'] }]);
  });

  it('ends with not_responding after `retries` unanswered tries, all with one id', async () => {
    const clock = new FakeClock();
    const base = healthyScript(() => []);
    const server = new FakeServer(
      (frame, session) => (frame.type === 'register' ? base(frame, session) : undefined),
      clock,
    );
    const client = clientOf(server, clock);
    await registered(client);
    const result = track(client.joinGroup('g1'));
    for (let i = 0; i < 3; i++) {
      await settle(() => ofType(server.frames, 'join_group').length === i + 1);
      clock.advance(500);
    }
    await settle(() => result.length > 0);
    expect(result).toEqual(['not_responding']);
    const ids = ofType(server.frames, 'join_group').map((f) => ('id' in f ? f.id : ''));
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
    expect(client.currentGroup).toBeNull();
  });

  it('register: name_in_use, and not_responding when no server answers', async () => {
    const clock = new FakeClock();
    const taken = new FakeServer((frame, session) => {
      if (frame.type === 'register')
        session.send({ type: 'error', id: frame.id, code: 'name_in_use', message: 'taken' });
    }, clock);
    const result = track(clientOf(taken, clock).register());
    await settle(() => result.length > 0);
    expect(result).toEqual(['name_in_use']);

    const down = new FakeServer(() => undefined, clock);
    down.up = false;
    const silent = track(clientOf(down, clock).register());
    for (let i = 0; i < 3 && silent.length === 0; i++) {
      await settle();
      clock.advance(500);
    }
    await settle(() => silent.length > 0);
    expect(silent).toEqual(['not_responding']);
  });

  it('shows each group message once, acks it cumulatively, and leaves group mode when removed', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(
      healthyScript(() => []),
      clock,
    );
    const client = clientOf(server, clock);
    const shown: string[] = [];
    const removed: string[] = [];
    client.on('groupMessage', (m) => shown.push(`${m.seq}:${m.from}:${m.text}`));
    client.on('removedFromGroup', ({ group }) => removed.push(group));
    await registered(client);
    const joined = track(client.joinGroup('g1'));
    await settle(() => joined.length > 0);
    const session = server.sessions[0]!;
    for (const seq of [1, 2, 2, 1, 3])
      session.send({ type: 'group_msg', group: 'g1', seq, from: 'bob', text: `m${seq}` });
    await settle(() => shown.length === 3);
    clock.advance(0);
    await settle(() => ofType(server.frames, 'group_ack').length > 0);
    expect(shown).toEqual(['1:bob:m1', '2:bob:m2', '3:bob:m3']);
    expect(ofType(server.frames, 'group_ack')).toEqual([{ type: 'group_ack', group: 'g1', seq: 3 }]);
    session.send({ type: 'removed', group: 'g1' });
    await settle(() => removed.length > 0);
    expect(removed).toEqual(['g1']);
    expect(client.currentGroup).toBeNull();
  });

  it('reports server loss, reconnects, registers again and re-joins its group', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(
      healthyScript(() => []),
      clock,
    );
    const client = clientOf(server, clock);
    const events: string[] = [];
    client.on('serverLost', () => events.push('lost'));
    client.on('reconnected', () => events.push('reconnected'));
    await registered(client);
    const joined = track(client.joinGroup('g1'));
    await settle(() => joined.length > 0);
    server.dropAll();
    await settle(() => events.length === 1);
    clock.advance(100); // first backoff step
    await settle(() => events.length === 2);
    expect(events).toEqual(['lost', 'reconnected']);
    expect(server.sessions).toHaveLength(2);
    expect(ofType(server.frames, 'register')).toHaveLength(2);
    expect(ofType(server.frames, 'join_group')).toHaveLength(2);
    expect(client.currentGroup).toBe('g1');
  });

  it('leaveGroup resolves not_in_group, not left, when the client was removed while the request was out', async () => {
    const clock = new FakeClock();
    const base = healthyScript(() => []);
    let leaveId = '';
    const script: Script = (frame, session) => {
      if (frame.type !== 'leave_group') return base(frame, session);
      leaveId = frame.id; // the removal overtakes the answer: `removed` first, not_in_group below
      session.send({ type: 'removed', group: 'g1' });
    };
    const server = new FakeServer(script, clock);
    const client = clientOf(server, clock);
    const events: string[] = [];
    client.on('removedFromGroup', ({ group }) => events.push(`removed ${group}`));
    await registered(client);
    const joined = track(client.joinGroup('g1'));
    await settle(() => joined.length > 0);
    const left = track(client.leaveGroup());
    await settle(() => events.length > 0);
    server.sessions[0]!.send({ type: 'error', id: leaveId, code: 'not_in_group', message: 'gone' });
    await settle(() => left.length > 0);
    expect(events).toEqual(['removed g1']);
    expect(left).toEqual(['not_in_group']);
    expect(client.currentGroup).toBeNull();
  });

  it('while reconnecting, a server request ends not_connected at once and is not sent; dereg drops the link (docs/usage.md)', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(
      healthyScript(() => []),
      clock,
    );
    const client = clientOf(server, clock);
    const events: string[] = [];
    client.on('serverLost', () => events.push('lost'));
    client.on('reconnected', () => events.push('reconnected'));
    await registered(client);
    server.up = false;
    server.dropAll();
    await settle(() => events.length === 1);
    const before = server.frames.length;
    const listed = track(client.listGroups());
    const joined = track(client.joinGroup('g1'));
    await settle(() => listed.length > 0 && joined.length > 0);
    expect([listed, joined]).toEqual([['not_connected'], ['not_connected']]);
    expect(server.frames.slice(before)).toEqual([]);
    expect(client.currentGroup).toBeNull();
    // The server comes back: the same request is performed.
    server.up = true;
    clock.advance(2_000);
    await settle(() => events.length === 2);
    expect(events).toEqual(['lost', 'reconnected']);
    const again = track(client.listGroups());
    await settle(() => again.length > 0);
    expect(again).toEqual([{ groups: [] }]);
    // Lost again: leaving needs no server.
    server.up = false;
    server.dropAll();
    await settle(() => events.length === 3);
    const bye = track(client.deregister());
    await settle(() => bye.length > 0);
    expect(bye).toEqual(['ok']);
    clock.advance(10_000);
    await settle();
    expect(ofType(server.frames, 'dereg')).toEqual([]);
  });

  it('a request whose tries run out on a connection believed open still ends not_responding (a frozen server)', async () => {
    const clock = new FakeClock();
    const base = healthyScript(() => []);
    const server = new FakeServer(
      (frame, session) => (frame.type === 'register' ? base(frame, session) : undefined),
      clock,
    );
    const client = clientOf(server, clock);
    await registered(client);
    const result = track(client.listGroups());
    for (let i = 0; i < 3; i++) {
      await settle(() => ofType(server.frames, 'list_groups').length === i + 1);
      clock.advance(500);
    }
    await settle(() => result.length > 0);
    expect(result).toEqual(['not_responding']);
  });

  it('emits memberJoined / memberLeft for presence frames of the current group only', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(
      healthyScript(() => []),
      clock,
    );
    const client = clientOf(server, clock);
    const seen: string[] = [];
    client.on('memberJoined', ({ group, name }) => seen.push(`+${name}@${group}`));
    client.on('memberLeft', ({ group, name }) => seen.push(`-${name}@${group}`));
    await registered(client);
    const session = server.sessions[0]!;
    session.send({ type: 'presence', group: 'g1', name: 'early', state: 'joined' }); // not in g1 yet
    await settle();
    const joined = track(client.joinGroup('g1'));
    await settle(() => joined.length > 0);
    session.send({ type: 'presence', group: 'g1', name: 'bob', state: 'joined' });
    session.send({ type: 'presence', group: 'other', name: 'carol', state: 'joined' });
    session.send({ type: 'presence', group: 'g1', name: 'bob', state: 'left' });
    await settle(() => seen.length === 2);
    expect(seen).toEqual(['+bob@g1', '-bob@g1']);
  });

  it('takes the group name the server shows, and finds table names in any case', async () => {
    const clock = new FakeClock();
    const key = Buffer.alloc(32, 7).toString('base64');
    const base = healthyScript(() => [{ name: 'Bob', host: '127.0.0.1', port: 1, online: true, key }]);
    const server = new FakeServer((frame, session) => {
      if (frame.type === 'join_group') return session.send({ type: 'reply', id: frame.id, group: 'RoomA' });
      base(frame, session);
    }, clock);
    const client = clientOf(server, clock);
    const tables = track(new Promise((resolve) => client.once('tableUpdated', resolve)));
    await registered(client);
    await settle(() => tables.length > 0);
    expect(client.lookup('BOB')?.name).toBe('Bob');
    const joined = track(client.joinGroup('rooma'));
    await settle(() => joined.length > 0);
    expect(client.currentGroup).toBe('RoomA');
  });
});

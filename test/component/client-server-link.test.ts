import { ChatClient } from '../../src/client/chat-client';
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

describe('ChatClient requests to the server (SPEC §5: ack timeout, retries, same id)', () => {
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
    const server = new FakeServer((frame, session) => (frame.type === 'register' ? base(frame, session) : undefined), clock);
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
      if (frame.type === 'register') session.send({ type: 'error', id: frame.id, code: 'name_in_use', message: 'taken' });
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
    const server = new FakeServer(healthyScript(() => []), clock);
    const client = clientOf(server, clock);
    const shown: string[] = [];
    const removed: string[] = [];
    client.on('group_message', (m) => shown.push(`${m.seq}:${m.from}:${m.text}`));
    client.on('removed_from_group', ({ group }) => removed.push(group));
    await registered(client);
    const joined = track(client.joinGroup('g1'));
    await settle(() => joined.length > 0);
    const session = server.sessions[0]!;
    for (const seq of [1, 2, 2, 1, 3]) session.send({ type: 'group_msg', group: 'g1', seq, from: 'bob', text: `m${seq}` });
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
    const server = new FakeServer(healthyScript(() => []), clock);
    const client = clientOf(server, clock);
    const events: string[] = [];
    client.on('server_lost', () => events.push('lost'));
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
});

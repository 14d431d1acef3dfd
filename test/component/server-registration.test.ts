import { ChatServer } from '../../src/server/chat-server';
import { RawClient } from '../helpers/raw-client';
import { identityOf } from '../helpers/test-identity';
import type { Limits } from '../../src/protocol/limits';
import { MemoryStore } from '../../src/store/memory-store';
import type { ChatStore, Registration } from '../../src/store/chat-store';
import { Waiters } from '../../testkit/waiters';
import { FakeClock } from '../helpers/fake-clock';

describe('ChatServer registration (component, in-memory streams)', () => {
  let server: ChatServer;
  let clock: FakeClock;
  let clients: RawClient[];
  let lines: string[];
  /** Waits re-checked on every server event recorded in `lines`. */
  const serverEvents = new Waiters(() => `server events: ${JSON.stringify(lines)}`);
  const record = (line: string): void => {
    lines.push(line);
    serverEvents.notify();
  };
  /** Resolves once `lines` satisfies `done`. */
  const untilEvents = (done: () => boolean, what: string): Promise<boolean> =>
    serverEvents.wait({ what, probe: () => (done() ? { value: true } : null) });
  /**
   * A raw client that does not ack unless a test says so. It answers pings,
   * as a live client does: a second registration of a name with its key
   * pings the holder, and only a silent one is replaced (docs/protocol.md "Accounts").
   */
  const connect = (options: { answerPings?: boolean } = {}): RawClient => {
    const c = RawClient.on(server, { autoAck: false, answerPings: options.answerPings ?? true });
    clients.push(c);
    return c;
  };
  /** Deltas per event-loop turn by default here; the timed flush has its own tests below. */
  const start = (limits: Partial<Limits> = {}, tableFlushMs = 0, store?: ChatStore): void => {
    server = new ChatServer({ clock, tableFlushMs, store, limits: { heartbeatMs: 0, rateLimitPerSec: 0, ...limits } });
    server.on('tableUpdated', () => record('table'));
    server.on('groupCreated', (n, g) => record(`created ${n} ${g}`));
    server.on('groupLeft', (n, g) => record(`left ${n} ${g}`));
  };

  beforeEach(() => {
    clock = new FakeClock();
    clients = [];
    lines = [];
    start();
  });
  afterEach(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  it('replies to register, then sends the full table as rev 1', async () => {
    const alice = connect();
    expect(await alice.register('alice', { port: 5001, ekey: false })).toEqual({ type: 'reply', id: 'reg-alice' });
    const table = await alice.until(() => alice.ofType('table')[0]);
    expect(table).toEqual({
      type: 'table',
      rev: 1,
      full: true,
      clients: [{ name: 'alice', host: '127.0.0.1', port: 5001, online: true, key: identityOf('alice').publicKey }],
    });
    expect(lines).toEqual(['table']);
  });

  it('names compare without case: ALICE is refused while alice is online, and deregisters as any spelling', async () => {
    const alice = connect();
    await alice.register('alice');
    expect(await connect().register('ALICE', { port: 5001 })).toMatchObject({ type: 'error', code: 'name_in_use' });
    expect(await alice.request({ type: 'dereg', id: 'd', name: 'Alice' })).toEqual({ type: 'reply', id: 'd' });
    const again = connect();
    expect(await again.register('ALICE', { port: 5002 })).toEqual({ type: 'reply', id: 'reg-ALICE' });
    // Shown as first registered.
    const table = await again.until(() => again.ofType('table')[0]);
    expect(table.clients.map((c) => [c.name, c.port, c.online])).toEqual([['alice', 5002, true]]);
  });

  it('pushes deltas to other online clients and no redundant delta to the registrant', async () => {
    const alice = connect();
    const bob = connect();
    await alice.register('alice');
    await alice.until(() => alice.ofType('table').length === 1);
    await bob.register('bob', { port: 6000 });
    const delta = await alice.until(() => alice.ofType('table')[1]);
    expect(delta).toMatchObject({ rev: 2, full: false, clients: [{ name: 'bob', port: 6000, online: true }] });
    await bob.request({ type: 'list_groups', id: 'sync' }); // everything queued before it has arrived
    expect(bob.ofType('table').map((t) => [t.rev, t.full])).toEqual([[1, true]]);
  });

  it('coalesces registrations in one turn into one delta per client', async () => {
    const alice = connect();
    await alice.register('alice');
    const others = ['b1', 'b2', 'b3'].map((n) => [n, connect()] as const);
    await Promise.all(others.map(([n, c]) => c.register(n)));
    const deltas = await alice.until(() => {
      const names = alice
        .ofType('table')
        .slice(1)
        .flatMap((t) => t.clients.map((e) => e.name));
      return names.length >= 3 && alice.ofType('table').slice(1);
    });
    expect(deltas.flatMap((t) => t.clients.map((e) => e.name)).sort()).toEqual(['b1', 'b2', 'b3']);
    expect(deltas.length).toBeLessThanOrEqual(3);
    expect(deltas.map((t) => t.rev)).toEqual(deltas.map((_, i) => i + 2));
  });

  it('refuses a name that is online with name_in_use', async () => {
    const a = connect();
    const b = connect();
    await a.register('alice');
    expect(await b.register('alice')).toMatchObject({ type: 'error', code: 'name_in_use' });
  });

  it('lets an offline name re-register from another connection, with its new port', async () => {
    const first = connect();
    const watcher = connect();
    await watcher.register('watcher');
    await first.register('alice', { port: 5000 });
    first.close();
    await watcher.until(() =>
      watcher.ofType('table').some((t) => t.clients.some((e) => e.name === 'alice' && !e.online)),
    );
    const again = connect();
    expect(await again.register('alice', { port: 7000 })).toEqual({ type: 'reply', id: 'reg-alice' });
    await watcher.until(() => watcher.ofType('table').some((t) => t.clients.some((e) => e.port === 7000 && e.online)));
  });

  it('dereg of another name is not_self; own dereg marks offline and pushes the table', async () => {
    const alice = connect();
    const bob = connect();
    await alice.register('alice');
    await bob.register('bob');
    expect(await alice.request({ type: 'dereg', id: 'd1', name: 'bob' })).toMatchObject({
      type: 'error',
      code: 'not_self',
    });
    expect(await alice.request({ type: 'dereg', id: 'd2', name: 'alice' })).toEqual({ type: 'reply', id: 'd2' });
    await bob.until(() =>
      bob.ofType('table').some((t) => !t.full && t.clients.some((e) => e.name === 'alice' && !e.online)),
    );
    expect(lines).toEqual(['table', 'table', 'table']);
  });

  it('answers requests before register with not_registered, and a second register with already_registered', async () => {
    const c = connect();
    expect(await c.request({ type: 'list_groups', id: 'x1' })).toMatchObject({
      type: 'error',
      id: 'x1',
      code: 'not_registered',
    });
    expect(await c.request({ type: 'send_group', id: 'x2', text: 'hi' })).toMatchObject({ code: 'not_registered' });
    await c.register('carol');
    expect(await c.register('carol', { port: 5000, id: 'again' })).toMatchObject({
      type: 'error',
      code: 'already_registered',
    });
  });

  it('refuses another protocol version with unsupported_version and closes', async () => {
    const c = connect();
    const reply = await c.register('zed', { id: 'r', v: 99 });
    expect(reply).toMatchObject({ type: 'error', code: 'unsupported_version' });
    await c.until(() => c.isClosed);
  });

  it('answers a repeated request id from its cache without performing it again', async () => {
    const c = connect();
    await c.register('alice');
    const first = await c.request({ type: 'create_group', id: 'same', group: 'g' });
    const second = await c.request({ type: 'create_group', id: 'same', group: 'g' });
    expect(first).toEqual({ type: 'reply', id: 'same' });
    expect(second).toEqual(first);
    expect(lines.filter((l) => l.startsWith('created'))).toEqual(['created alice g']);
  });

  it("answers a request retried on a new connection after a reconnect from the name's cache", async () => {
    const first = connect();
    await first.register('alice', { port: 5000, id: 'reg-1' });
    expect(await first.request({ type: 'create_group', id: 'lost-reply', group: 'g' })).toEqual({
      type: 'reply',
      id: 'lost-reply',
    });
    first.close(); // the reply "was lost" with the connection
    const second = connect();
    await untilEvents(() => lines.filter((l) => l === 'table').length === 2, 'alice offline'); // alice went offline
    expect(await second.register('alice', { port: 5000, id: 'reg-2' })).toEqual({ type: 'reply', id: 'reg-2' });
    const retried = await second.request({ type: 'create_group', id: 'lost-reply', group: 'g' });
    expect(retried).toEqual({ type: 'reply', id: 'lost-reply' });
    expect(lines.filter((l) => l.startsWith('created'))).toEqual(['created alice g']);
  });

  it('closes a connection that does not register within registerTimeoutMs', async () => {
    const c = connect();
    clock.advance(server.limits.registerTimeoutMs);
    await c.until(() => c.isClosed);
    expect(c.ofType('error')).toMatchObject([{ code: 'register_timeout' }]);
  });

  it('stops the registration deadline while a register frame waits inside the server (a storm)', async () => {
    const first = connect();
    const second = connect();
    let stalled = false;
    server.on('tableUpdated', () => {
      // While the first registration is handled, the second waits behind it; time runs far past its deadline.
      if (!stalled) clock.advance(2 * server.limits.registerTimeoutMs);
      stalled = true;
    });
    const replies = await Promise.all([first.register('r1'), second.register('r2')]);
    expect(replies).toEqual([
      { type: 'reply', id: 'reg-r1' },
      { type: 'reply', id: 'reg-r2' },
    ]);
    expect(stalled).toBe(true);
    expect(second.ofType('error')).toEqual([]);
  });

  it('restarts the registration deadline with what was left of it when a register fails', async () => {
    // A store whose register waits for the test: time passes while late's register is inside the server.
    const inner = new MemoryStore();
    let entered!: () => void;
    const registerEntered = new Promise<void>((resolve) => (entered = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let gated = false;
    const store: ChatStore = Object.assign(Object.create(inner) as MemoryStore, {
      register: async (reg: Registration, owner: number) => {
        if (gated) {
          entered();
          await gate;
        }
        return inner.register(reg, owner);
      },
    });
    await server.close();
    start({}, 0, store);
    const owner = connect();
    await owner.register('alice');
    const late = connect();
    clock.advance(6000); // 4,000 ms of the 10,000 ms deadline left
    gated = true;
    const refusedReply = late.register('alice');
    await registerEntered;
    clock.advance(2 * server.limits.registerTimeoutMs); // while late's register waits in the store
    release();
    expect(await refusedReply).toMatchObject({ type: 'error', code: 'name_in_use' });
    clock.advance(3999);
    expect(await late.request({ type: 'list_groups', id: 'open' })).toMatchObject({ code: 'not_registered' });
    expect(late.isClosed).toBe(false);
    clock.advance(1);
    await late.until(() => late.isClosed);
    expect(late.ofType('error').map((e) => e.code)).toEqual(['name_in_use', 'not_registered', 'register_timeout']);
  });

  it('a failed register after a dereg on the same connection does not close it with a stale deadline', async () => {
    await connect().register('bob');
    const c = connect();
    await c.register('alice');
    clock.advance(server.limits.registerTimeoutMs); // long past the deadline it met
    expect(await c.request({ type: 'dereg', id: 'd', name: 'alice' })).toEqual({ type: 'reply', id: 'd' });
    expect(await c.register('bob')).toMatchObject({ type: 'error', code: 'name_in_use' });
    clock.advance(1);
    expect(await c.request({ type: 'list_groups', id: 'open' })).toMatchObject({ code: 'not_registered' });
    expect(c.isClosed).toBe(false);
    expect(c.ofType('error').map((e) => e.code)).toEqual(['name_in_use', 'not_registered']);
  });

  it('at maxClients sheds the oldest unregistered connection, and refuses when all are registered', async () => {
    await server.close();
    start({ maxClients: 2 });
    const registered = connect();
    await registered.register('alice');
    const idle = connect();
    const newcomer = connect();
    await idle.until(() => idle.isClosed);
    expect(idle.ofType('error')).toMatchObject([{ code: 'server_full' }]);
    expect(await newcomer.register('bob')).toEqual({ type: 'reply', id: 'reg-bob' });
    const late = connect();
    await late.until(() => late.isClosed);
    expect(late.ofType('error')).toMatchObject([{ code: 'server_full' }]);
    expect(registered.isClosed).toBe(false);
  });

  it('at maxClients a connection that deregistered is sheddable again, like any unregistered one', async () => {
    await server.close();
    start({ maxClients: 2 });
    const quitter = connect();
    await quitter.register('alice');
    expect(await quitter.request({ type: 'dereg', id: 'd', name: 'alice' })).toEqual({ type: 'reply', id: 'd' });
    await connect().register('bob');
    const newcomer = connect();
    await quitter.until(() => quitter.isClosed);
    expect(quitter.ofType('error')).toMatchObject([{ code: 'server_full' }]);
    expect(await newcomer.register('carol')).toEqual({ type: 'reply', id: 'reg-carol' });
  });

  it('a closed registered connection goes offline and leaves its group', async () => {
    const alice = connect();
    const bob = connect();
    await alice.register('alice');
    await bob.register('bob');
    await alice.request({ type: 'create_group', id: 'c', group: 'g' });
    await alice.request({ type: 'join_group', id: 'j', group: 'g' });
    alice.close();
    await bob.until(() => bob.ofType('table').some((t) => t.clients.some((e) => e.name === 'alice' && !e.online)));
    expect(lines.slice(-2)).toEqual(['left alice g', 'table']);
  });
  it('a silent connection dies by heartbeat: marked offline and removed from its group', async () => {
    await server.close();
    start({ heartbeatMs: 100 });
    const silent = connect({ answerPings: false });
    const watcher = connect();
    await silent.register('sam');
    await watcher.register('wes');
    await silent.request({ type: 'create_group', id: 'c', group: 'g' });
    await silent.request({ type: 'join_group', id: 'j', group: 'g' });
    clock.advance(200);
    await watcher.request({ type: 'list_groups', id: 'alive' }); // wes shows a sign of life
    clock.advance(200); // sam has been silent for 4 intervals
    await watcher.until(() =>
      watcher.ofType('table').some((t) => t.clients.some((e) => e.name === 'sam' && !e.online)),
    );
    expect(lines.slice(-2)).toEqual(['left sam g', 'table']);
    expect(watcher.isClosed).toBe(false);
  });

  it('a fault while handling a frame closes only that connection and is reported once', async () => {
    const faults: string[] = [];
    server.on('fault', (err) => faults.push(err.message));
    server.on('groupCreated', (n) => {
      if (n === 'mallory') throw new Error('boom');
    });
    const bad = connect();
    const good = connect();
    await bad.register('mallory');
    await good.register('alice');
    bad.send({ type: 'create_group', id: 'c1', group: 'g' });
    await bad.until(() => bad.isClosed);
    expect(bad.ofType('error')).toMatchObject([{ code: 'internal_error' }]);
    expect(faults).toEqual(['boom']);
    expect(await good.request({ type: 'list_groups', id: 'l' })).toEqual({ type: 'reply', id: 'l', groups: ['g'] });
  });

  it('with the default table flush timer, pushes at once after a quiet spell, then at most one push per 50 ms', async () => {
    await server.close();
    start({}, 50);
    const alice = connect();
    await alice.register('alice');
    clock.advance(50); // a quiet spell since alice's own change was pushed
    await connect().register('bob'); // the first change in a while: pushed at the end of the turn
    await alice.until(() => alice.ofType('table').length === 2);
    await connect().register('carol');
    await connect().register('dave');
    await new Promise((r) => setImmediate(r));
    expect(alice.ofType('table')).toHaveLength(2); // held until 50 ms after the last push
    clock.advance(50);
    const deltas = await alice.until(() => alice.ofType('table').length >= 3 && alice.ofType('table').slice(2));
    expect(deltas).toMatchObject([{ rev: 3, full: false }]);
    expect(deltas[0]!.clients.map((e) => e.name)).toEqual(['carol', 'dave']);
  });

  it('two names registered in turn on one connection do not share replies: a reused id is performed for the second', async () => {
    const c = connect();
    await c.register('alice');
    expect(await c.request({ type: 'create_group', id: 'same', group: 'ga' })).toEqual({ type: 'reply', id: 'same' });
    expect(await c.request({ type: 'dereg', id: 'd', name: 'alice' })).toEqual({ type: 'reply', id: 'd' });
    await c.register('bob');
    expect(await c.request({ type: 'create_group', id: 'same', group: 'gb' })).toEqual({ type: 'reply', id: 'same' });
    expect(await c.request({ type: 'list_groups', id: 'l' })).toEqual({ type: 'reply', id: 'l', groups: ['ga', 'gb'] });
  });
});

import { ChatServer } from '../../src/server/chat-server';
import { FakeClock } from '../helpers/fake-clock';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';

/** ChatServer.stats(): the counters the bench reads (and operators, through SIGUSR2 in server mode). */
describe('ChatServer.stats (component, in-memory streams)', () => {
  let server: ChatServer;
  let clock: FakeClock;
  let clients: RawClient[];

  const member = async (name: string, group: string): Promise<RawClient> => {
    const c = RawClient.on(server, { autoAck: false, answerPings: false });
    clients.push(c);
    await c.register(name);
    expect(await c.request({ type: 'join_group', id: `join-${name}`, group })).toMatchObject({ type: 'reply' });
    return c;
  };

  beforeEach(() => {
    clock = new FakeClock();
    clients = [];
    server = new ChatServer({ clock, limits: { heartbeatMs: 0, rateLimitPerSec: 0 } });
  });
  afterEach(async () => {
    await closeAllRawClients();
    await server.close();
  });

  it('counts open and registered connections', async () => {
    expect(server.stats()).toEqual({
      connections: 0,
      registered: 0,
      unackedDeliveries: 0,
      membersRemovedUnresponsive: 0,
      slowConsumersDropped: 0,
    });
    const anon = RawClient.on(server, { autoAck: false, answerPings: false });
    clients.push(anon);
    const ann = RawClient.on(server, { autoAck: false, answerPings: false });
    clients.push(ann);
    await ann.register('ann');
    expect(server.stats()).toMatchObject({ connections: 2, registered: 1 });
  });

  it('counts each unacked delivery until its member acks it', async () => {
    const a = RawClient.on(server, { autoAck: false, answerPings: false });
    clients.push(a);
    await a.register('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    await a.request({ type: 'join_group', id: 'j', group: 'g' });
    const b = await member('bob', 'g');
    const c = await member('cy', 'g');
    await a.request({ type: 'send_group', id: 's1', text: 'one' });
    await a.request({ type: 'send_group', id: 's2', text: 'two' });
    await b.until(() => b.ofType('group_msg').length === 2);
    await c.until(() => c.ofType('group_msg').length === 2);
    expect(server.stats().unackedDeliveries).toBe(4);
    b.send({ type: 'group_ack', group: 'g', seq: 1 });
    await b.request({ type: 'list_groups', id: 'sync-b' }); // the ack has been read
    expect(server.stats().unackedDeliveries).toBe(3);
    b.ackAll();
    c.ackAll();
    await b.request({ type: 'list_groups', id: 'sync-b2' });
    await c.request({ type: 'list_groups', id: 'sync-c' });
    expect(server.stats().unackedDeliveries).toBe(0);
  });

  it('counts a member removed as unresponsive, and no longer counts its unacked deliveries', async () => {
    const a = RawClient.on(server, { autoAck: false, answerPings: false });
    clients.push(a);
    await a.register('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    await a.request({ type: 'join_group', id: 'j', group: 'g' });
    const silent = await member('sid', 'g');
    await a.request({ type: 'send_group', id: 's1', text: 'one' });
    await silent.until(() => silent.ofType('group_msg').length === 1);
    expect(server.stats()).toMatchObject({ unackedDeliveries: 1, membersRemovedUnresponsive: 0 });
    clock.advance(server.limits.ackTimeoutMs);
    await silent.until(() => silent.ofType('removed')[0]);
    expect(server.stats()).toMatchObject({ unackedDeliveries: 0, membersRemovedUnresponsive: 1 });
  });
});

import { ChatServer } from '../../src/server/chat-server';
import { RawClient } from '../helpers/raw-client';
import { FakeClock } from '../helpers/fake-clock';

describe('ChatServer groups (component, in-memory streams)', () => {
  let server: ChatServer;
  let clock: FakeClock;
  let clients: RawClient[];
  let lines: string[];

  const member = async (name: string, group?: string): Promise<RawClient> => {
    const c = RawClient.on(server, { autoAck: false, answerPings: false });
    clients.push(c);
    await c.register(name);
    if (group)
      expect(await c.request({ type: 'join_group', id: `join-${name}`, group })).toMatchObject({ type: 'reply' });
    return c;
  };

  beforeEach(() => {
    clock = new FakeClock();
    clients = [];
    lines = [];
    server = new ChatServer({ clock, limits: { heartbeatMs: 0, rateLimitPerSec: 0, maxMessageLength: 10 } });
    server.on('groupCreated', (n, g) => lines.push(`created ${n} ${g}`));
    server.on('groupCreateFailed', (n, g) => lines.push(`create-failed ${n} ${g}`));
    server.on('groupJoined', (n, g) => lines.push(`joined ${n} ${g}`));
    server.on('groupJoinFailed', (n, g) => lines.push(`join-failed ${n} ${g}`));
    server.on('groupLeft', (n, g, reason) =>
      lines.push(reason === 'unresponsive' ? `unresponsive ${n} ${g}` : `left ${n} ${g}`),
    );
    server.on('groupMessage', (n, g, t) => lines.push(`msg ${n} ${g} ${t}`));
  });
  afterEach(async () => {
    for (const c of clients) c.close();
    await server.close();
  });

  it('creates, refuses duplicates, lists groups in creation order, and refuses joining a missing group', async () => {
    const a = await member('alice');
    expect(await a.request({ type: 'create_group', id: '1', group: 'zeta' })).toEqual({ type: 'reply', id: '1' });
    expect(await a.request({ type: 'create_group', id: '2', group: 'alpha' })).toEqual({ type: 'reply', id: '2' });
    expect(await a.request({ type: 'create_group', id: '3', group: 'zeta' })).toMatchObject({ code: 'group_exists' });
    expect(await a.request({ type: 'list_groups', id: '4' })).toEqual({
      type: 'reply',
      id: '4',
      groups: ['zeta', 'alpha'],
    });
    expect(await a.request({ type: 'join_group', id: '5', group: 'nope' })).toMatchObject({ code: 'no_such_group' });
    expect(lines).toEqual([
      'created alice zeta',
      'created alice alpha',
      'create-failed alice zeta',
      'join-failed alice nope',
    ]);
  });

  it('joins, lists members in join order, switches group and leaves', async () => {
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c1', group: 'g1' });
    await a.request({ type: 'create_group', id: 'c2', group: 'g2' });
    const b = await member('bob', 'g1');
    expect(await a.request({ type: 'join_group', id: 'j', group: 'g1' })).toEqual({
      type: 'reply',
      id: 'j',
      group: 'g1',
    });
    expect(await a.request({ type: 'list_members', id: 'm' })).toEqual({
      type: 'reply',
      id: 'm',
      members: ['bob', 'alice'],
    });
    await b.request({ type: 'join_group', id: 'j2', group: 'g2' });
    expect(await a.request({ type: 'list_members', id: 'm2' })).toMatchObject({ members: ['alice'] });
    expect(await a.request({ type: 'leave_group', id: 'l' })).toEqual({ type: 'reply', id: 'l', group: 'g1' });
    expect(await a.request({ type: 'leave_group', id: 'l2' })).toMatchObject({ code: 'not_in_group' });
    expect(await a.request({ type: 'list_members', id: 'm3' })).toMatchObject({ code: 'not_in_group' });
    expect(lines.filter((l) => l.startsWith('left'))).toEqual(['left bob g1', 'left alice g1']);
  });

  it('replies to the sender and fans out to every other member, who ack', async () => {
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    await a.request({ type: 'join_group', id: 'j', group: 'g' });
    const b = await member('bob', 'g');
    const c = await member('carol', 'g');
    b.autoAck();
    c.autoAck();
    expect(await a.request({ type: 'send_group', id: 's1', text: 'hello' })).toEqual({ type: 'reply', id: 's1' });
    const expected = { type: 'group_msg', group: 'g', seq: 1, from: 'alice', text: 'hello' };
    expect(await b.until(() => b.ofType('group_msg')[0])).toEqual(expected);
    expect(await c.until(() => c.ofType('group_msg')[0])).toEqual(expected);
    await b.request({ type: 'list_members', id: 'sync-b' }); // its ack was read before this
    await c.request({ type: 'list_members', id: 'sync-c' });
    clock.advance(server.limits.ackTimeoutMs * 4);
    expect(await a.request({ type: 'list_members', id: 'm' })).toMatchObject({ members: ['alice', 'bob', 'carol'] });
    expect(a.ofType('group_msg')).toEqual([]);
    expect(lines).toContain('msg alice g hello');
  });

  it('refuses send_group outside a group and over maxMessageLength', async () => {
    const a = await member('alice');
    expect(await a.request({ type: 'send_group', id: 's', text: 'x' })).toMatchObject({ code: 'not_in_group' });
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    await a.request({ type: 'join_group', id: 'j', group: 'g' });
    expect(await a.request({ type: 'send_group', id: 's2', text: 'x'.repeat(11) })).toMatchObject({
      code: 'message_too_long',
    });
    expect(await a.request({ type: 'send_group', id: 's3', text: 'x'.repeat(10) })).toEqual({
      type: 'reply',
      id: 's3',
    });
  });

  it("reads a held member's group_ack at once (acks skip the request queue), so its ack releases the group", async () => {
    await server.close();
    server = new ChatServer({ clock, limits: { heartbeatMs: 0, rateLimitPerSec: 0 }, backlog: { maxUnacked: 4 } }); // behind past 2
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    await a.request({ type: 'join_group', id: 'j', group: 'g' });
    const b = await member('bob', 'g');
    for (const id of ['s1', 's2', 's3']) await a.request({ type: 'send_group', id, text: id });
    await b.until(() => b.ofType('group_msg').length === 3); // over the backlog bound: every member is held
    b.send({ type: 'list_members', id: 'held' });
    for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
    expect(b.frames.some((f) => 'id' in f && f.id === 'held')).toBe(false);
    b.ackAll(); // read although bob's requests are held
    expect(await b.until(() => b.frames.find((f) => 'id' in f && f.id === 'held'))).toMatchObject({
      members: ['alice', 'bob'],
    });
    expect(await a.request({ type: 'send_group', id: 's4', text: 's4' })).toEqual({ type: 'reply', id: 's4' });
  });

  it('removes a member that never acks after ackTimeoutMs and tells it so', async () => {
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    await a.request({ type: 'join_group', id: 'j', group: 'g' });
    const silent = await member('sid', 'g');
    const good = await member('gina', 'g');
    good.autoAck();
    await a.request({ type: 'send_group', id: 's1', text: 'one' });
    await silent.until(() => silent.ofType('group_msg').length === 1);
    await good.until(() => good.ofType('group_msg').length === 1);
    await good.request({ type: 'list_groups', id: 'sync' }); // gina's ack has been read
    clock.advance(server.limits.ackTimeoutMs - 1);
    expect(lines.filter((l) => l.startsWith('unresponsive'))).toEqual([]);
    clock.advance(1);
    await silent.until(() => silent.ofType('removed')[0]);
    expect(silent.ofType('removed')).toEqual([{ type: 'removed', group: 'g' }]);
    expect(lines.filter((l) => l.startsWith('unresponsive'))).toEqual(['unresponsive sid g']);
    expect(await a.request({ type: 'list_members', id: 'm' })).toMatchObject({ members: ['alice', 'gina'] });
    await a.request({ type: 'send_group', id: 's2', text: 'two' });
    await good.until(() => good.ofType('group_msg').length === 2);
    expect(silent.ofType('group_msg')).toHaveLength(1);
  });

  it('two senders x 100 messages: two other members see one identical order, each sender in order', async () => {
    const s1 = await member('s1');
    await s1.request({ type: 'create_group', id: 'c', group: 'g' });
    await s1.request({ type: 'join_group', id: 'j', group: 'g' });
    const s2 = await member('s2', 'g');
    const r1 = await member('r1', 'g');
    const r2 = await member('r2', 'g');
    for (const c of [s1, s2, r1, r2]) c.autoAck();
    for (let i = 0; i < 100; i++) {
      s1.send({ type: 'send_group', id: `a${i}`, text: `a${i}` });
      s2.send({ type: 'send_group', id: `b${i}`, text: `b${i}` });
    }
    const seen = async (c: RawClient) => {
      await c.until(() => c.ofType('group_msg').length >= 200);
      return c.ofType('group_msg').map((m) => `${m.seq}:${m.from}:${m.text}`);
    };
    const [v1, v2] = [await seen(r1), await seen(r2)];
    expect(v1).toHaveLength(200);
    expect(v2).toEqual(v1);
    expect(r1.ofType('group_msg').map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const texts = r1.ofType('group_msg').map((m) => m.text);
    expect(texts.filter((t) => t.startsWith('a'))).toEqual(Array.from({ length: 100 }, (_, i) => `a${i}`));
    expect(texts.filter((t) => t.startsWith('b'))).toEqual(Array.from({ length: 100 }, (_, i) => `b${i}`));
    await s1.until(() => s1.ofType('group_msg').length >= 100);
    expect(s1.ofType('group_msg').every((m) => m.from === 's2')).toBe(true);
  });

  it('handles join_group then send_group sent back to back in order', async () => {
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    const b = await member('bob', 'g');
    a.send({ type: 'join_group', id: 'j', group: 'g' });
    expect(await a.request({ type: 'send_group', id: 's', text: 'hi' })).toEqual({ type: 'reply', id: 's' });
    expect(await b.until(() => b.ofType('group_msg')[0])).toMatchObject({ from: 'alice', text: 'hi' });
  });

  it('bounds groups per creator and in all (group_quota, too_many_groups), and logs no creation for them', async () => {
    await server.close();
    server = new ChatServer({
      clock,
      limits: { heartbeatMs: 0, rateLimitPerSec: 0, maxGroups: 3, maxGroupsPerClient: 2 },
    });
    server.on('groupCreated', (n, g) => lines.push(`created ${n} ${g}`));
    server.on('groupCreateFailed', (n, g) => lines.push(`create-failed ${n} ${g}`));
    const a = await member('alice');
    const b = await member('bob');
    expect(await a.request({ type: 'create_group', id: '1', group: 'a1' })).toEqual({ type: 'reply', id: '1' });
    expect(await a.request({ type: 'create_group', id: '2', group: 'a2' })).toEqual({ type: 'reply', id: '2' });
    expect(await a.request({ type: 'create_group', id: '3', group: 'a3' })).toMatchObject({
      type: 'error',
      code: 'group_quota',
    });
    expect(await b.request({ type: 'create_group', id: '4', group: 'b1' })).toEqual({ type: 'reply', id: '4' });
    expect(await b.request({ type: 'create_group', id: '5', group: 'b2' })).toMatchObject({
      type: 'error',
      code: 'too_many_groups',
    });
    expect(await b.request({ type: 'list_groups', id: '6' })).toEqual({
      type: 'reply',
      id: '6',
      groups: ['a1', 'a2', 'b1'],
    });
    expect(lines).toEqual(['created alice a1', 'created alice a2', 'created bob b1']);
  });

  it('skips list requests still queued when their connection closes (nobody reads the answer)', async () => {
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'g' });
    let listed = 0;
    server.on('groupsListed', () => listed++);
    const gone = await member('gone');
    // One write of 300 listings; the server answers a turn's worth, then the connection goes.
    void gone.sendRaw(
      Array.from({ length: 300 }, (_, i) => JSON.stringify({ type: 'list_groups', id: `l${i}` })).join('\n') + '\n',
    );
    await gone.until(() => gone.frames.some((f) => 'id' in f && f.id === 'l0'));
    const offline = new Promise<void>((resolve) => server.once('tableUpdated', () => resolve()));
    gone.close();
    await offline; // queued after every listing it sent: they have all been run or skipped
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThan(300);
    expect(await a.request({ type: 'list_groups', id: 'mine' })).toEqual({ type: 'reply', id: 'mine', groups: ['g'] });
  });

  it('tells every other member of a join and of each way of leaving (docs/protocol.md `presence`)', async () => {
    const watcher = await member('wendy');
    await watcher.request({ type: 'create_group', id: 'c1', group: 'g' });
    await watcher.request({ type: 'create_group', id: 'c2', group: 'other' });
    await watcher.request({ type: 'join_group', id: 'jw', group: 'g' });
    const seen = (n: number) =>
      watcher.until(() => watcher.ofType('presence').length >= n && watcher.ofType('presence'));
    const leaver = await member('lee', 'g'); // 1 joined
    await leaver.request({ type: 'leave_group', id: 'l' }); // 2 left
    const switcher = await member('sam', 'g'); // 3 joined
    await switcher.request({ type: 'join_group', id: 's', group: 'other' }); // 4 left
    const dereg = await member('dee', 'g'); // 5 joined
    await dereg.request({ type: 'dereg', id: 'd', name: 'dee' }); // 6 left
    const closer = await member('cal', 'g'); // 7 joined
    closer.close(); // 8 left
    await seen(8);
    const silent = await member('sid', 'g'); // 9 joined
    watcher.autoAck();
    await watcher.request({ type: 'send_group', id: 'm', text: 'ping' });
    await silent.until(() => silent.ofType('group_msg').length === 1);
    clock.advance(server.limits.ackTimeoutMs);
    await silent.until(() => silent.ofType('removed')[0]); // 10 left
    const shown = (await seen(10)).map((p) => `${p.name} ${p.state} ${p.group}`);
    expect(shown).toEqual([
      'lee joined g',
      'lee left g',
      'sam joined g',
      'sam left g',
      'dee joined g',
      'dee left g',
      'cal joined g',
      'cal left g',
      'sid joined g',
      'sid left g',
    ]);
    // Nobody is told about itself, and the group it switched to told its members.
    expect(leaver.ofType('presence')).toEqual([]);
    expect(switcher.ofType('presence')).toEqual([]);
  });

  it('joins a group named in another case as the group it is, and replies with its name as shown', async () => {
    const a = await member('alice');
    await a.request({ type: 'create_group', id: 'c', group: 'RoomA' });
    expect(await a.request({ type: 'create_group', id: 'c2', group: 'rooma' })).toMatchObject({ code: 'group_exists' });
    expect(await a.request({ type: 'join_group', id: 'j', group: 'ROOMA' })).toEqual({
      type: 'reply',
      id: 'j',
      group: 'RoomA',
    });
    const b = await member('Bob', 'rooma');
    b.autoAck();
    await a.request({ type: 'send_group', id: 's', text: 'hi' });
    expect(await b.until(() => b.ofType('group_msg')[0])).toMatchObject({ group: 'RoomA', from: 'alice' });
    expect(await b.request({ type: 'list_members', id: 'm' })).toMatchObject({ members: ['alice', 'Bob'] });
    expect(lines).toContain('joined Bob RoomA');
  });
});

import { signedRegister } from '../helpers/test-identity';
import { randomBytes } from 'node:crypto';
import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { eventually } from '../helpers/eventually';
import { closeAllRawClients, nextId, RawClient } from '../helpers/raw-client';

/**
 * Hostile end-to-end tests against a real `chatapp -s 0` process (docs/usage.md "Server" "the
 * server never crashes on anything a client sends", §7). Each case attacks the
 * server over raw TCP, checks the attacker got the documented error frame
 * and/or close, then checks the server is still healthy: the long-lived
 * members still exchange group messages, a new client can still register and
 * join, nothing reached stderr, and its memory stays bounded.
 */

const FRAME_TIMEOUT_MS = 500;
const MAX_INVALID = 3;
const MAX_FRAME_BYTES = 8192;
const RATE = 50;
/** Generous memory bound: a leak or an unbounded buffer shows up far above it, normal use far below. */
const RSS_LIMIT_MB = 300;
/** Safety net for waits that depend on a configured deadline (10x it; never an assertion about speed). */
const DEADLINE_WAIT_MS = FRAME_TIMEOUT_MS * 10;
const REGISTER_TIMEOUT_MS = 1000;

const SERVER_ARGS = [
  '--max-clients',
  '400',
  '--max-frame-bytes',
  String(MAX_FRAME_BYTES),
  '--frame-timeout',
  String(FRAME_TIMEOUT_MS),
  '--register-timeout',
  String(REGISTER_TIMEOUT_MS),
  '--rate-limit-per-sec',
  String(RATE),
  '--rate-burst',
  String(RATE),
  '--max-invalid-frames',
  String(MAX_INVALID),
  '--max-message-length',
  '1000',
];

let server: StartedServer;
let alice: RawClient;
let bob: RawClient;
let round = 0;

beforeAll(async () => {
  server = await startServer(SERVER_ARGS, { keepAcrossTests: true });
  alice = await RawClient.registered(server.port, 'alice');
  bob = await RawClient.registered(server.port, 'bob');
  expect((await alice.request({ type: 'create_group', group: 'room' })).type).toBe('reply');
  for (const c of [alice, bob]) expect((await c.request({ type: 'join_group', group: 'room' })).type).toBe('reply');
});

afterAll(async () => {
  await closeAllRawClients();
  await server?.proc.stop();
});

/**
 * After every attack: the members registered before it still get each other's
 * group messages, a brand-new client can register and join and receives them
 * too, the server printed nothing to stderr and its RSS is bounded.
 */
async function assertHealthy(): Promise<void> {
  expect(server.proc.alive).toBe(true);
  const n = ++round;
  const fresh = await RawClient.registered(server.port, `fresh${n}`);
  expect(await fresh.request({ type: 'join_group', group: 'room' })).toMatchObject({ type: 'reply', group: 'room' });
  const text = `still alive ${n}`;
  expect((await alice.request({ type: 'send_group', text })).type).toBe('reply');
  for (const member of [bob, fresh]) {
    await member.waitFor((f) => f.type === 'group_msg' && f.from === 'alice' && f.text === text, `group message ${n}`);
  }
  expect((await fresh.request({ type: 'dereg', name: `fresh${n}` })).type).toBe('reply');
  fresh.close();
  expect(alice.isClosed || bob.isClosed).toBe(false);
  expect([alice.badOutput, bob.badOutput]).toEqual([[], []]);
  expect(server.proc.output('stderr')).toBe('');
  expect(server.proc.rssMb()).toBeLessThan(RSS_LIMIT_MB);
}

afterEach(() => {
  expect(server.proc.alive).toBe(true);
});

describe('hostile clients against a real server', () => {
  it('garbage text: an invalid_json error per line, then too_many_invalid and a close', async () => {
    const attacker = await RawClient.connect(server.port);
    await attacker.sendRaw('hello\nGET / HTTP/1.1\n{"type":\n}}}}\nmore\nand more\n');
    const codes = await attacker.waitClosed();
    expect(codes).toEqual([...Array<string>(MAX_INVALID).fill('invalid_json'), 'too_many_invalid']);
    await assertHealthy();
  });

  it('binary noise: error frames only from the catalogue, ending in a fatal one and a close', async () => {
    const attacker = await RawClient.connect(server.port);
    await attacker.sendRaw(randomBytes(256 * 1024));
    const codes = await attacker.waitClosed();
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes.slice(0, -1))).toEqual(
      new Set(codes.slice(0, -1).filter((c) => c === 'invalid_json' || c === 'bad_frame')),
    );
    expect(['too_many_invalid', 'frame_too_large']).toContain(codes[codes.length - 1]);
    await assertHealthy();
  });

  it('a few invalid lines are recoverable: the same connection can still register', async () => {
    const client = await RawClient.connect(server.port);
    await client.sendRaw('{oops\n\u0000\u0001\u0002\n[1,2\n');
    const answer = await client.register('recovered');
    expect(answer.type).toBe('reply');
    expect(client.errorCodes()).toEqual(['invalid_json', 'invalid_json', 'invalid_json']);
    client.close();
    await assertHealthy();
  });

  it('wrong types, missing fields, unknown types and extra keys: bad_frame with the request id, connection kept', async () => {
    // Invalid frames are forgiven at one per second (a valid one in between does not reset them): the
    // bad lines are shared by connections, each within its burst of maxInvalidFrames.
    const typists = await Promise.all(
      Array.from({ length: 7 }, (_, i) => RawClient.registered(server.port, `typist${i}`)),
    );
    const [client, other] = [typists[5]!, typists[6]!];
    const bad: Array<[string, string]> = [
      ['w1', '{"type":"send_group","id":"w1","text":42}'],
      ['w2', '{"type":"join_group","id":"w2"}'],
      ['w3', '{"type":"create_group","id":"w3","group":"roomB;"}'],
      ['w4', '{"type":"launch_missiles","id":"w4"}'],
      ['w5', '{"type":"register","id":"w5","v":"1","name":"x","port":"80","key":"k"}'],
      ['w6', '{"id":"w6"}'],
      ['w7', '{"type":"send_group","id":"w7","text":"x","extra":1}'],
      ['w8', '{"type":"create_group","id":"w8","group":"' + 'g'.repeat(33) + '"}'],
      ['w9', '{"type":"dereg","id":"w9","name":null}'],
      ['w10', '{"type":"list_groups","id":"w10","id2":{"nested":[1,2,{"deep":true}]}}'],
    ];
    const half = (i: number): RawClient => typists[Math.floor(i / 2)]!; // two bad lines each
    for (const [i, [, line]] of bad.entries()) {
      await half(i).sendRaw(`${line}\n`);
      expect((await half(i).request({ type: 'list_groups' })).type).toBe('reply');
    }
    for (const [i, [id]] of bad.entries())
      expect(await half(i).answerTo(id)).toMatchObject({ type: 'error', code: 'bad_frame', id });
    // no request id to correlate: still bad_frame, still connected
    await client.sendRaw('null\n123\n');
    expect((await client.request({ type: 'list_groups' })).type).toBe('reply');
    await other.sendRaw('{"type":"group_ack","group":"room","seq":-1}\n{"type":"list_groups","id":""}\n');
    expect((await other.request({ type: 'list_groups' })).type).toBe('reply');
    expect(typists.flatMap((t) => t.errorCodes()).filter((c) => c !== 'bad_frame')).toEqual([]);
    expect(typists.some((t) => t.isClosed)).toBe(false);
    for (const t of typists) t.close();
    await assertHealthy();
  });

  it('requests before registering get not_registered; acting as another client gets not_self', async () => {
    const anon = await RawClient.connect(server.port);
    const requests = [
      { type: 'list_groups' },
      { type: 'create_group', group: 'anon' },
      { type: 'join_group', group: 'room' },
      { type: 'leave_group' },
      { type: 'list_members' },
      { type: 'send_group', text: 'x' },
      { type: 'dereg', name: 'bob' },
    ];
    for (const frame of requests) {
      expect(await anon.request(frame)).toMatchObject({ type: 'error', code: 'not_registered' });
    }
    anon.send({ type: 'group_ack', group: 'room', seq: 1_000_000 }); // ignored, never answered
    const mallory = await RawClient.registered(server.port, 'mallory');
    expect(await mallory.request({ type: 'dereg', name: 'bob' })).toMatchObject({ type: 'error', code: 'not_self' });
    expect(await mallory.register('bob')).toMatchObject({ type: 'error', code: 'already_registered' });
    const impostor = await RawClient.connect(server.port);
    expect(await impostor.register('bob')).toMatchObject({ type: 'error', code: 'name_in_use' });
    // mallory forging acks for bob's messages must not stop bob's deliveries
    mallory.send({ type: 'group_ack', group: 'room', seq: 1_000_000 });
    expect(bob.isClosed).toBe(false);
    for (const c of [anon, mallory, impostor]) c.close();
    await assertHealthy();
  });

  it('a wrong protocol version is refused with unsupported_version and a close', async () => {
    const client = await RawClient.connect(server.port);
    client.send({ ...signedRegister(await client.challenge(), { name: 'future', id: 'v99', port: 1 }), v: 99 });
    expect(await client.waitClosed()).toEqual(['unsupported_version']);
    await assertHealthy();
  });

  it('a connection that never registers is closed with register_timeout after --register-timeout', async () => {
    const idle = await RawClient.connect(server.port); // answers pings, so only the register deadline applies
    expect(await idle.waitClosed(REGISTER_TIMEOUT_MS * 10)).toEqual(['register_timeout']);
    await assertHealthy();
  });

  it('a request id repeated 20 times is performed once: one group message, 20 identical replies', async () => {
    const sender = await RawClient.registered(server.port, 'repeater');
    expect((await sender.request({ type: 'join_group', group: 'room' })).type).toBe('reply');
    const frame = { type: 'send_group', id: nextId('dup'), text: 'only once please' };
    await sender.sendRaw(Array.from({ length: 20 }, () => JSON.stringify(frame) + '\n').join(''));
    await sender.waitFor((f) => f.type === 'reply' && f.id === frame.id, 'the reply');
    // a later message from the same sender proves every copy has been handled before we count
    expect((await sender.request({ type: 'send_group', text: 'after the copies' })).type).toBe('reply');
    await bob.waitFor((f) => f.type === 'group_msg' && f.text === 'after the copies', 'the marker message');
    expect(bob.groupMessages('room').filter((m) => m.text === 'only once please')).toHaveLength(1);
    const answers = sender.frames.filter((f) => (f.type === 'reply' || f.type === 'error') && f.id === frame.id);
    expect(answers).toEqual(Array.from({ length: 20 }, () => ({ type: 'reply', id: frame.id })));
    sender.close();
    await assertHealthy();
  });

  it('prototype-pollution keys are bad_frame; names like __proto__ and constructor are ordinary names', async () => {
    const attacker = await RawClient.connect(server.port);
    await attacker.sendRaw('{"type":"list_groups","id":"p1","__proto__":{"admin":true}}\n');
    await attacker.sendRaw('{"type":"list_groups","id":"p2","constructor":{"prototype":{"admin":true}}}\n');
    expect(await attacker.answerTo('p1')).toMatchObject({ type: 'error', code: 'bad_frame', id: 'p1' });
    expect(await attacker.answerTo('p2')).toMatchObject({ type: 'error', code: 'bad_frame', id: 'p2' });
    attacker.close();

    const tricky = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];
    const clients: RawClient[] = [];
    for (const name of tricky) clients.push(await RawClient.registered(server.port, name));
    for (const name of tricky)
      expect((await clients[0]!.request({ type: 'create_group', group: name })).type).toBe('reply');
    const groups = await clients[0]!.request({ type: 'list_groups' });
    expect(groups.type === 'reply' && groups.groups).toEqual(expect.arrayContaining(['room', ...tricky]));
    for (const c of clients) expect((await c.request({ type: 'join_group', group: '__proto__' })).type).toBe('reply');
    const members = await clients[1]!.request({ type: 'list_members' });
    expect(members.type === 'reply' && members.members).toEqual(tricky);
    expect((await clients[0]!.request({ type: 'send_group', text: 'polluted?' })).type).toBe('reply');
    for (const c of clients.slice(1)) {
      await c.waitFor(
        (f) => f.type === 'group_msg' && f.group === '__proto__' && f.from === '__proto__',
        'group message in __proto__',
      );
    }
    // everyone else saw these names arrive as ordinary table entries
    await alice.waitFor(
      (f) => f.type === 'table' && f.clients.some((e) => e.name === 'hasOwnProperty'),
      'table entry hasOwnProperty',
    );
    for (const c of clients) c.close();
    await assertHealthy();
  });

  it('a multi-megabyte line: frame_too_large as soon as the limit is passed, then a close, memory bounded', async () => {
    const attacker = await RawClient.connect(server.port);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    // 8 MB offered; the server stops reading after MAX_FRAME_BYTES and closes, so most writes fail
    for (let i = 0; i < 128 && !attacker.isClosed; i++) await attacker.sendRaw(chunk);
    expect(await attacker.waitClosed()).toEqual(['frame_too_large']);

    const oneShot = await RawClient.connect(server.port);
    await oneShot.sendRaw(
      Buffer.concat([
        Buffer.from('{"type":"send_group","id":"big","text":"'),
        Buffer.alloc(4 * 1024 * 1024, 'b'),
        Buffer.from('"}\n'),
      ]),
    );
    expect(await oneShot.waitClosed()).toEqual(['frame_too_large']);
    await assertHealthy();
  });

  it('a line that never ends: frame_timeout and a close after --frame-timeout', async () => {
    // It does not answer pings: a pong would finish its line.
    const attacker = await RawClient.connect(server.port, { answerPings: false });
    await attacker.sendRaw('{"type":"register","id":"slow","v":1,"name":"sloth"');
    expect(await attacker.waitClosed(DEADLINE_WAIT_MS)).toEqual(['frame_timeout']);
    // a registered client can be slowloris too
    const member = await RawClient.registered(server.port, 'sloth2', { answerPings: false });
    await member.sendRaw('{"type":"send_group","id":"never","text":"');
    expect(await member.waitClosed(DEADLINE_WAIT_MS)).toEqual(['frame_timeout']);
    await assertHealthy();
  });

  it('150 connections holding half-sent frames stall nobody and are all closed with frame_timeout', async () => {
    const held: RawClient[] = [];
    for (let i = 0; i < 150; i++) {
      const c = await RawClient.connect(server.port, { answerPings: false });
      await c.sendRaw(`{"type":"list_groups","id":"held${i}"`);
      held.push(c);
    }
    await assertHealthy(); // while all 150 are held open
    const codes = await Promise.all(held.map((c) => c.waitClosed(DEADLINE_WAIT_MS)));
    expect(new Set(codes.map((c) => c.join(',')))).toEqual(new Set(['frame_timeout']));
    await assertHealthy();
  });

  it('a burst beyond --rate-limit-per-sec: every request answered once, the excess rate_limited, accepted ones delivered in order', async () => {
    const sender = await RawClient.registered(server.port, 'burster');
    const listener = await RawClient.registered(server.port, 'listener');
    expect((await sender.request({ type: 'create_group', group: 'burstroom' })).type).toBe('reply');
    for (const c of [sender, listener])
      expect((await c.request({ type: 'join_group', group: 'burstroom' })).type).toBe('reply');
    await waitForRefill(sender);

    const ids = Array.from({ length: 6 * RATE }, () => nextId('b'));
    await sender.sendRaw(
      Buffer.concat(
        ids.map((id, i) => Buffer.from(JSON.stringify({ type: 'send_group', id, text: `burst ${i}` }) + '\n')),
      ),
    );
    const answers = await Promise.all(ids.map((id) => sender.answerTo(id)));
    const accepted = ids.flatMap((_, i) => (answers[i]!.type === 'reply' ? [`burst ${i}`] : []));
    const limited = answers.filter((a) => a.type === 'error');
    expect(limited.every((a) => a.type === 'error' && a.code === 'rate_limited')).toBe(true);
    expect(limited.length).toBeGreaterThan(0);
    // the bucket holds RATE tokens; this connection spent at most 4 since it registered, and time only adds
    expect(accepted.length).toBeGreaterThanOrEqual(RATE - 4);
    // exactly one answer per id
    const answered = sender.frames.filter(
      (f) => (f.type === 'reply' || f.type === 'error') && f.id !== undefined && f.id.startsWith('b'),
    );
    expect(answered.length).toBe(ids.length);

    const last = accepted[accepted.length - 1]!;
    await listener.waitFor((f) => f.type === 'group_msg' && f.text === last, 'the last accepted burst message');
    const got = listener.groupMessages('burstroom');
    expect(got.map((m) => m.text)).toEqual(accepted);
    expect(got.every((m, i) => i === 0 || m.seq > got[i - 1]!.seq)).toBe(true);
    expect(sender.isClosed || listener.isClosed).toBe(false);
    // once the bucket refills, the same connection is served again
    await waitForRefill(sender);
    for (const c of [sender, listener]) c.close();
    await assertHealthy();
  });
});

/**
 * Waits until a request on `client` is not rate limited, i.e. the token bucket
 * has refilled: a state the server announces by no event, so it is retried.
 */
async function waitForRefill(client: RawClient): Promise<void> {
  await eventually(
    async () => {
      const answer = await client.request({ type: 'list_groups' });
      if (answer.type !== 'reply') expect(answer).toMatchObject({ code: 'rate_limited' });
      return answer.type === 'reply';
    },
    'the token bucket to refill',
    { everyMs: 30 },
  );
}

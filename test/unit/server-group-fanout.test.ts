import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import type { FramedConnection } from '../../src/net/framed-connection';
import { GroupFanout, type BacklogLimits } from '../../src/server/group-fanout';
import { Session } from '../../src/server/session';
import { ReplyCaches } from '../../src/server/reply-cache';
import { systemClock } from '../../src/util/clock';
import { FakeClock } from '../helpers/fake-clock';
import { TypedEmitter } from '../../src/util/typed-emitter';

/** A connection stand-in: records sent bytes, lets the test mark it congested or drained. */
class StubConn extends TypedEmitter<{ drain: []; close: [] }> {
  sent: Buffer[] = [];
  congested = false;
  open = true;
  paused = false;
  get outboundBytes(): number {
    return this.congested ? 1 << 20 : 0;
  }
  sendEncoded(bytes: Buffer): void {
    this.sent.push(bytes);
  }
  sendShared(shared: { bytes: Buffer }): void {
    this.sent.push(shared.bytes);
  }
  send(): void {}
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  drain(): void {
    this.congested = false;
    this.emit('drain');
  }
}

function setup(names: string[], backlog?: BacklogLimits) {
  const clock = new FakeClock();
  const conns = new Map<string, StubConn>();
  const sessions = new Map<string, Session & { name: string }>();
  names.forEach((name, i) => {
    const conn = new StubConn();
    const session = new Session(
      i + 1,
      conn as unknown as FramedConnection<ClientToServerFrame, ServerToClientFrame>,
      new ReplyCaches(16, systemClock).fresh(),
      () => undefined,
      () => clock.now(),
    );
    session.setName(name);
    conns.set(name, conn);
    sessions.set(name, session as Session & { name: string });
  });
  const unresponsive: string[] = [];
  const fanout = new GroupFanout(
    {
      onUnresponsive: (session, g, reason) =>
        unresponsive.push(reason === 'slow' ? `${session.name}@${g}:slow` : `${session.name}@${g}`),
    },
    clock,
    500,
    256 * 1024,
    backlog,
  );
  for (const session of sessions.values()) fanout.add('g', session);
  return { clock, conns, sessions, fanout, unresponsive, s: (n: string) => sessions.get(n)! };
}

describe('GroupFanout', () => {
  it('numbers messages per group and sends one shared encoding to every other member', () => {
    const { fanout, conns, s } = setup(['a', 'b', 'c']);
    expect(fanout.publish('g', s('a'), 'hi')).toBe(1);
    expect(fanout.publish('g', s('b'), 'yo')).toBe(2);
    expect(conns.get('a')!.sent.map(String)).toEqual([
      '{"type":"group_msg","group":"g","seq":2,"from":"b","text":"yo"}\n',
    ]);
    expect(conns.get('c')!.sent).toHaveLength(2);
    expect(conns.get('b')!.sent[0]).toBe(conns.get('c')!.sent[0]); // encoded once, same bytes
  });

  it('uses at most one timer per group however many deliveries are outstanding', () => {
    const { fanout, clock, s } = setup(['a', 'b', 'c', 'd']);
    for (let i = 0; i < 50; i++) fanout.publish('g', s('a'), `m${i}`);
    expect(clock.pending).toBe(1);
  });

  it('cumulative acks clear deliveries; a member behind by ackTimeoutMs is reported once', () => {
    const { fanout, clock, s, unresponsive } = setup(['a', 'b', 'c']);
    fanout.publish('g', s('a'), 'one');
    clock.advance(200);
    fanout.publish('g', s('a'), 'two');
    fanout.ack('g', 'b', 2);
    fanout.ack('g', 'c', 1);
    clock.advance(300); // t=500: c's 'one' is acked, 'two' is due at 700
    expect(unresponsive).toEqual([]);
    clock.advance(200);
    expect(unresponsive).toEqual(['c@g']);
    fanout.publish('g', s('a'), 'three');
    clock.advance(1000);
    expect(unresponsive).toEqual(['c@g', 'b@g']);
    expect(clock.pending).toBe(0);
  });

  it('a check that runs late because the process stalled judges nobody then: acks read after the stall count, a member still silent is reported once the process runs on time', () => {
    const { fanout, clock, s, unresponsive } = setup(['a', 'b', 'c']);
    fanout.publish('g', s('a'), 'one');
    clock.stall(800); // a long turn: the check due at t=500 runs at t=800
    clock.advance(0);
    expect(unresponsive).toEqual([]);
    fanout.ack('g', 'b', 1); // b's ack was waiting, unread, behind the stall
    clock.advance(299);
    expect(unresponsive).toEqual([]); // judged again as long after the stall as it lasted (300 ms)
    clock.advance(1);
    expect(unresponsive).toEqual(['c@g']);
  });

  it('a check on time still reports a member past its deadline', () => {
    const { fanout, clock, s, unresponsive } = setup(['a', 'b']);
    fanout.publish('g', s('a'), 'one');
    clock.stall(100); // late, but by less than a quarter of the deadline: not a stall
    clock.advance(400);
    expect(unresponsive).toEqual(['b@g']);
  });

  it('stops delivering to a member reported unresponsive', () => {
    const { fanout, clock, conns, s } = setup(['a', 'b']);
    fanout.publish('g', s('a'), 'one');
    clock.advance(500);
    fanout.publish('g', s('a'), 'two');
    expect(conns.get('b')!.sent).toHaveLength(1);
  });

  it('one congested member of three holds nobody: the others are never paced by one reader', () => {
    const { fanout, conns, s, unresponsive, clock } = setup(['a', 'b', 'slow']);
    conns.get('slow')!.congested = true;
    fanout.publish('g', s('a'), 'x');
    expect([s('a').held, s('b').held, s('slow').held]).toEqual([false, false, false]);
    fanout.ack('g', 'b', 1);
    fanout.ack('g', 'slow', 1);
    clock.advance(1000);
    expect(unresponsive).toEqual([]);
  });

  it('holds every member while more than half of the others are congested, and releases them as they drain', () => {
    const { fanout, conns, s, unresponsive, clock } = setup(['a', 'b', 'c', 'd']);
    conns.get('b')!.congested = true;
    fanout.publish('g', s('a'), 'x');
    expect(s('a').held).toBe(false); // 1 of 3 behind
    conns.get('c')!.congested = true;
    fanout.publish('g', s('a'), 'y');
    expect([s('a').held, s('b').held, s('c').held, s('d').held]).toEqual([true, true, true, true]);
    expect(conns.get('a')!.paused).toBe(false); // still read: acks keep arriving
    conns.get('c')!.drain();
    expect(s('a').held).toBe(false);
    for (const m of ['b', 'c', 'd']) fanout.ack('g', m, 2);
    clock.advance(1000);
    expect(unresponsive).toEqual([]);
  });

  it('a member past the backlog bound is removed as slow; past half of it, it is behind', () => {
    const { fanout, s, unresponsive } = setup(['a', 'b', 'c'], { maxUnacked: 4, maxGroupUnacked: 1e6 });
    for (let i = 1; i <= 3; i++) fanout.publish('g', s('a'), `m${i}`);
    fanout.ack('g', 'b', 3);
    expect(s('a').held).toBe(false); // c is behind (3 > 2), but c alone is not more than half of b and c
    fanout.publish('g', s('a'), 'm4');
    fanout.ack('g', 'b', 4);
    expect(unresponsive).toEqual([]);
    fanout.publish('g', s('a'), 'm5'); // c: 5 unacked > 4
    expect(unresponsive).toEqual(['c@g:slow']);
  });

  it('behind is released under a quarter of the bound (hysteresis)', () => {
    const { fanout, s } = setup(['a', 'b'], { maxUnacked: 8, maxGroupUnacked: 1e6 });
    for (let i = 1; i <= 5; i++) fanout.publish('g', s('a'), `m${i}`); // b: 5 > 4
    expect(s('a').held).toBe(true); // b is the only other member
    fanout.ack('g', 'b', 2); // 3 left: not under a quarter
    expect(s('a').held).toBe(true);
    fanout.ack('g', 'b', 3); // 2 left
    expect(s('a').held).toBe(false);
  });

  it('in a large group the per-member bound shrinks to maxGroupUnacked ÷ members (at least 16)', () => {
    const names = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const { fanout, s, unresponsive } = setup(names, { maxUnacked: 1024, maxGroupUnacked: 160 });
    for (let i = 1; i <= 16; i++) fanout.publish('g', s('m0'), `x${i}`);
    expect(unresponsive).toEqual([]);
    fanout.publish('g', s('m0'), 'x17'); // 17 unacked > 160 / 10: every other member is past it
    expect(unresponsive).toHaveLength(9);
  });

  it('a member that acks every message just inside the ack timeout never holds the group', () => {
    const { fanout, s, clock, unresponsive } = setup(['a', 'b', 'lag']);
    for (let t = 0; t < 40; t++) {
      fanout.publish('g', s('a'), `m${t + 1}`);
      fanout.ack('g', 'b', t + 1);
      if (t >= 9) fanout.ack('g', 'lag', t - 8); // 'lag' acks each message 450 ms after it was sent
      expect(s('a').held).toBe(false);
      clock.advance(50);
    }
    expect(unresponsive).toEqual([]);
  });

  it('a held-back member that never acks is still removed at its deadline, which releases the group', () => {
    const { fanout, s, clock, unresponsive } = setup(['a', 'b'], { maxUnacked: 4, maxGroupUnacked: 1e6 });
    for (let i = 1; i <= 3; i++) fanout.publish('g', s('a'), `m${i}`); // b: 3 unacked > 2
    expect(s('a').held).toBe(true);
    clock.advance(500);
    expect(unresponsive).toEqual(['b@g']);
    expect(s('a').held).toBe(false);
  });

  it('forget drops a departed member: no report for what it left unacked', () => {
    const { fanout, clock, s, unresponsive } = setup(['a', 'b']);
    fanout.publish('g', s('a'), 'x');
    fanout.forget('g', 'b');
    clock.advance(1000);
    expect(unresponsive).toEqual([]);
  });
  it('does not count ack time while we do not read a member (a long request backlog), and restarts it on resume', () => {
    const { fanout, s, unresponsive, clock } = setup(['a', 'b']);
    fanout.publish('g', s('a'), 'x');
    s('b').pause('backlog');
    clock.advance(1000);
    expect(unresponsive).toEqual([]);
    s('b').resume('backlog'); // t=1000
    clock.advance(499);
    expect(unresponsive).toEqual([]);
    clock.advance(1);
    expect(unresponsive).toEqual(['b@g']);
  });
});

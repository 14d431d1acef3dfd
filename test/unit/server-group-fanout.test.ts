import type { ClientToServerFrame } from '../../src/protocol/frames';
import type { FramedConnection } from '../../src/net/framed-connection';
import { GroupFanout, type BacklogLimits } from '../../src/server/group-fanout';
import { Session } from '../../src/server/session';
import { FakeClock } from '../helpers/fake-clock';
import { TypedEmitter } from '../../src/util/typed-emitter';

/** A connection stand-in: records sent bytes, lets the test mark it congested or drained. */
class StubConn extends TypedEmitter<{ drain: []; close: [] }> {
  sent: Buffer[] = [];
  congested = false;
  closed = false;
  paused = false;
  get outboundBytes(): number {
    return this.congested ? 1 << 20 : 0;
  }
  sendEncoded(bytes: Buffer): void {
    this.sent.push(bytes);
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
    const session = new Session(i + 1, conn as unknown as FramedConnection<ClientToServerFrame>, 16, () => undefined, () => clock.now());
    session.name = name;
    conns.set(name, conn);
    sessions.set(name, session as Session & { name: string });
  });
  let members: readonly string[] = [...names];
  const unresponsive: string[] = [];
  const fanout = new GroupFanout(
    {
      membersOf: () => members,
      sessionOf: (n) => sessions.get(n),
      sessionsEpoch: () => 0,
      onUnresponsive: (n, g) => unresponsive.push(`${n}@${g}`),
    },
    clock,
    500,
    256 * 1024,
    backlog,
  );
  const setMembers = (next: readonly string[]): void => {
    members = next;
  };
  return { clock, conns, sessions, fanout, unresponsive, setMembers, s: (n: string) => sessions.get(n)! };
}

describe('GroupFanout', () => {
  it('numbers messages per group and sends one shared encoding to every other member', () => {
    const { fanout, conns, s } = setup(['a', 'b', 'c']);
    expect(fanout.publish('g', s('a'), 'hi')).toBe(1);
    expect(fanout.publish('g', s('b'), 'yo')).toBe(2);
    expect(conns.get('a')!.sent.map(String)).toEqual(['{"type":"group_msg","group":"g","seq":2,"from":"b","text":"yo"}\n']);
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

  it('stops delivering to a member reported unresponsive', () => {
    const { fanout, clock, conns, s } = setup(['a', 'b']);
    fanout.publish('g', s('a'), 'one');
    clock.advance(500);
    fanout.publish('g', s('a'), 'two');
    expect(conns.get('b')!.sent).toHaveLength(1);
  });

  it('holds every member while a recipient is congested and releases them when it drains', () => {
    const { fanout, conns, s, unresponsive, clock } = setup(['a', 'b', 'slow']);
    conns.get('slow')!.congested = true;
    fanout.publish('g', s('a'), 'x');
    expect([s('a').held, s('b').held, s('slow').held]).toEqual([true, true, true]);
    expect(conns.get('a')!.paused).toBe(false); // still read: acks keep arriving
    fanout.ack('g', 'b', 1);
    clock.advance(400);
    conns.get('slow')!.drain();
    expect(s('a').held).toBe(false);
    fanout.ack('g', 'slow', 1);
    clock.advance(1000);
    expect(unresponsive).toEqual([]);
  });

  it('holds senders while a member has too many unacked messages, until an ack brings it under half', () => {
    const { fanout, s, clock, unresponsive } = setup(['a', 'b', 'c'], { maxUnacked: 4, maxGroupUnacked: 1e6, maxUnackedAgeMs: 125 });
    for (let i = 1; i <= 4; i++) fanout.publish('g', s('a'), `m${i}`);
    fanout.ack('g', 'b', 4);
    expect(s('a').held).toBe(false);
    fanout.publish('g', s('a'), 'm5'); // c: 5 unacked > 4
    expect(s('a').held).toBe(true);
    fanout.ack('g', 'c', 2); // 3 left: not under half
    expect(s('a').held).toBe(true);
    fanout.ack('g', 'c', 3); // 2 left
    expect(s('a').held).toBe(false);
    fanout.ack('g', 'b', 5);
    fanout.ack('g', 'c', 5);
    clock.advance(1000);
    expect(unresponsive).toEqual([]);
  });

  it('in a large group the per-member bound shrinks to maxGroupUnacked ÷ members (at least 16)', () => {
    const names = Array.from({ length: 10 }, (_, i) => `m${i}`);
    const { fanout, s } = setup(names, { maxUnacked: 1024, maxGroupUnacked: 160, maxUnackedAgeMs: 1e6 });
    for (let i = 1; i <= 16; i++) fanout.publish('g', s('m0'), `x${i}`);
    expect(s('m0').held).toBe(false);
    fanout.publish('g', s('m0'), 'x17'); // 17 unacked > 160 / 10
    expect(s('m0').held).toBe(true);
  });

  it('holds senders while a member\'s oldest unacked message is older than the age bound', () => {
    const { fanout, s, clock } = setup(['a', 'b', 'c']); // default: ackTimeoutMs / 4 = 125 ms
    fanout.publish('g', s('a'), 'one');
    fanout.ack('g', 'b', 1);
    clock.advance(126);
    fanout.publish('g', s('b'), 'two'); // c's 'one' is 126 ms old
    expect([s('a').held, s('b').held]).toEqual([true, true]);
    fanout.ack('g', 'c', 1); // c's oldest is now 'two', sent just now
    fanout.ack('g', 'a', 2);
    expect([s('a').held, s('b').held, s('c').held]).toEqual([false, false, false]);
  });

  it('a held-back member that never acks is still removed at its deadline, which releases the group', () => {
    const { fanout, s, clock, unresponsive } = setup(['a', 'b', 'c'], { maxUnacked: 1, maxGroupUnacked: 1e6, maxUnackedAgeMs: 125 });
    fanout.publish('g', s('a'), 'one');
    fanout.publish('g', s('a'), 'two'); // b and c: 2 unacked
    expect(s('a').held).toBe(true);
    fanout.ack('g', 'b', 2);
    expect(s('a').held).toBe(true);
    clock.advance(500);
    expect(unresponsive).toEqual(['c@g']);
    expect(s('a').held).toBe(false);
  });

  it('forget drops a departed member: no report for what it left unacked', () => {
    const { fanout, clock, s, unresponsive, setMembers } = setup(['a', 'b']);
    fanout.publish('g', s('a'), 'x');
    setMembers(['a']);
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

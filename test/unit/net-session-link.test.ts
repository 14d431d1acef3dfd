import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import type { CloseInfo } from '../../src/net/connection-types';
import { SessionLink, type SessionLinkLimits } from '../../src/net/session-link';
import { FakeClock } from '../helpers/fake-clock';

/** The end of the turn: the link hands its queued frames over from setImmediate, as sockets flush. */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const LIMITS: SessionLinkLimits = { maxOutboundBytes: 1000, drainTimeoutMs: 2000, rateLimitPerSec: 10, rateBurst: 2 };

function setup(limits: SessionLinkLimits = LIMITS) {
  const clock = new FakeClock();
  const link = new SessionLink(limits, clock);
  const batches: ServerToClientFrame[][] = [];
  const toCore: ClientToServerFrame[] = [];
  const closes: CloseInfo[] = [];
  const peer = { backlog: 0, closedWith: [] as (string | undefined)[] };
  link.attach({
    receive: (frames) => batches.push([...frames]),
    backlogBytes: () => peer.backlog,
    closed: (code) => peer.closedWith.push(code),
  });
  link.on('frame', (frame) => toCore.push(frame));
  link.on('close', (info) => closes.push(info));
  return { clock, link, batches, toCore, closes, peer };
}

const groupMsg = (seq: number): ServerToClientFrame => ({ type: 'group_msg', group: 'g', seq, from: 'a', text: 't' });

describe('SessionLink', () => {
  it('hands the frames of one turn to the peer as the same objects, in order, in one batch', async () => {
    const { link, batches } = setup();
    const first = groupMsg(1);
    link.sendShared({
      frame: first,
      get bytes(): never {
        throw new Error('a link never encodes');
      },
    });
    link.send(groupMsg(2));
    expect(batches).toEqual([]); // nothing before the end of the turn
    await endOfTurn();
    expect(batches).toHaveLength(1);
    expect(batches[0]![0]).toBe(first); // no JSON in between
    expect(batches[0]!.map((f) => (f.type === 'group_msg' ? f.seq : 0))).toEqual([1, 2]);
  });

  it('over the rate, requests wait and reach the core later, in order — never refused', async () => {
    const { link, toCore, clock, batches } = setup();
    for (let i = 1; i <= 4; i++) link.deliver({ type: 'send_group', id: `r${i}`, text: `m${i}` });
    link.deliver({ type: 'group_ack', group: 'g', seq: 1 }); // acks never wait
    expect(toCore.map((f) => ('id' in f ? f.id : f.type))).toEqual(['r1', 'r2', 'group_ack']);
    clock.advance(100);
    clock.advance(100);
    expect(toCore.map((f) => ('id' in f ? f.id : f.type))).toEqual(['r1', 'r2', 'group_ack', 'r3', 'r4']);
    await endOfTurn();
    expect(batches).toEqual([]); // no rate_limited error went back
  });

  it('a request the client schema refuses is answered bad_frame and never reaches the core', async () => {
    const { link, toCore, batches } = setup();
    link.deliver({ type: 'send_group', id: 'x', text: 5 } as unknown as ClientToServerFrame);
    await endOfTurn();
    expect(toCore).toEqual([]);
    expect(batches[0]).toEqual([expect.objectContaining({ type: 'error', id: 'x', code: 'bad_frame' })]);
  });

  it("counts the peer's send queue as outbound bytes: over the bound congested, under it again 'drain'", () => {
    const { link, peer } = setup();
    let drains = 0;
    link.on('drain', () => drains++);
    peer.backlog = 1500;
    link.wrote();
    expect([link.outboundBytes, link.congested]).toEqual([1500, true]);
    peer.backlog = 200;
    link.drained();
    expect([link.congested, drains]).toEqual([false, 1]);
  });

  it('a peer past 4× the bound is dropped at once as slow_consumer; the core and the peer hear why', async () => {
    const { link, peer, closes } = setup();
    peer.backlog = 4001;
    link.wrote();
    expect(link.open).toBe(false);
    await endOfTurn();
    expect(closes).toEqual([{ code: 'slow_consumer', byPeer: false }]);
    expect(peer.closedWith).toEqual(['slow_consumer']);
  });

  it('a peer congested longer than the drain timeout is dropped as slow_consumer', async () => {
    const { link, peer, clock, closes } = setup();
    peer.backlog = 1500;
    link.wrote();
    clock.advance(1999);
    expect(link.open).toBe(true);
    clock.advance(1001);
    expect(link.open).toBe(false);
    await endOfTurn();
    expect(closes).toEqual([{ code: 'slow_consumer', byPeer: false }]);
  });

  it('a close by the gateway reaches the core as a close by the peer; nothing more is handed over', async () => {
    const { link, closes, batches, peer } = setup();
    link.send(groupMsg(1));
    link.peerClosed();
    link.send(groupMsg(2));
    await endOfTurn();
    expect(closes).toEqual([{ byPeer: true }]);
    expect(batches).toEqual([]);
    expect(peer.closedWith).toEqual([]);
    expect(link.closed).toBe(true);
  });

  it('close(code) sends the error frame first, then the close', async () => {
    const { link, batches, peer } = setup();
    link.close('register_timeout');
    await endOfTurn();
    expect(batches).toEqual([[expect.objectContaining({ type: 'error', code: 'register_timeout' })]]);
    expect(peer.closedWith).toEqual(['register_timeout']);
  });
});

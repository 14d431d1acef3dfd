import { FramedConnection, type CloseInfo, type ConnectionLimits } from '../../src/net/framed-connection';
import { sharedTicker, SharedTicker } from '../../src/net/ticker';
import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { SERVER_SIDE } from '../../src/protocol/link-frames';
import { FakeClock } from '../helpers/fake-clock';
import { testLimits } from '../helpers/connection-limits';
import { memoryDuplexPair } from '../../src/net/memory-duplex';

const LIMITS: ConnectionLimits = testLimits({ heartbeatMs: 100 });

const settle = async (turns = 20): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

describe('SharedTicker', () => {
  it('sweeps every member with one reading of the clock per period, from one timer', () => {
    const clock = new FakeClock();
    const ticker = new SharedTicker(clock, 100);
    const seen: Array<[string, number]> = [];
    ticker.add({ tick: (now) => seen.push(['a', now]) });
    ticker.add({ tick: (now) => seen.push(['b', now]) });
    expect(clock.pending).toBe(1);
    clock.advance(250);
    expect(seen).toEqual([
      ['a', 100],
      ['b', 100],
      ['a', 200],
      ['b', 200],
    ]);
  });

  it('stops ticking a removed member and clears its timer when the last one leaves', () => {
    const clock = new FakeClock();
    const ticker = new SharedTicker(clock, 100);
    const ticks = { a: 0, b: 0 };
    const a = { tick: (): void => void ticks.a++ };
    const b = { tick: (): void => void ticks.b++ };
    ticker.add(a);
    ticker.add(b);
    clock.advance(100);
    ticker.remove(a);
    clock.advance(100);
    expect(ticks).toEqual({ a: 1, b: 2 });
    expect(ticker.running).toBe(true);
    ticker.remove(b);
    expect(ticker.running).toBe(false);
    expect(clock.pending).toBe(0);
    ticker.remove(b); // removing twice is harmless
    ticker.add(a); // and a new member re-arms it
    expect(clock.pending).toBe(1);
  });

  it('tolerates a member leaving during the sweep', () => {
    const clock = new FakeClock();
    const ticker = new SharedTicker(clock, 100);
    const order: string[] = [];
    const b = { tick: (): void => void order.push('b') };
    const a = {
      tick: (): void => {
        order.push('a');
        ticker.remove(b);
      },
    };
    ticker.add(a);
    ticker.add(b);
    clock.advance(100);
    expect(order).toEqual(['a']);
    expect(ticker.size).toBe(1);
  });

  it('is shared per clock and period', () => {
    const clock = new FakeClock();
    expect(sharedTicker(clock, 100)).toBe(sharedTicker(clock, 100));
    expect(sharedTicker(clock, 100)).not.toBe(sharedTicker(clock, 50));
    expect(sharedTicker(clock, 100)).not.toBe(sharedTicker(new FakeClock(), 100));
  });
});

describe('FramedConnection on the shared ticker', () => {
  function open(clock: FakeClock): {
    conn: FramedConnection<ClientToServerFrame, ServerToClientFrame>;
    closes: CloseInfo[];
    talk: () => void;
  } {
    const [near, far] = memoryDuplexPair();
    far.on('data', () => undefined);
    far.on('end', () => far.end());
    far.on('error', () => undefined);
    const conn = new FramedConnection(near, SERVER_SIDE, LIMITS, clock);
    const closes: CloseInfo[] = [];
    conn.on('close', (info) => closes.push(info));
    return { conn, closes, talk: () => void far.write('{"type":"pong"}\n') };
  }

  it('runs one timer for many connections and still times out each silent one on its own', async () => {
    const clock = new FakeClock();
    const quiet = open(clock);
    const talker = open(clock);
    const late = open(clock);
    expect(clock.pending).toBe(1);
    for (let i = 0; i < 5; i++) {
      talker.talk();
      await settle();
      clock.advance(100);
      await settle();
    }
    expect(quiet.closes).toEqual([{ code: 'heartbeat_timeout', byPeer: false }]);
    expect(late.closes).toEqual([{ code: 'heartbeat_timeout', byPeer: false }]);
    expect(talker.closes).toEqual([]);
    expect(talker.conn.state).toBe('open');
    expect(sharedTicker(clock, 100).size).toBe(1); // the closed ones were swept out
    talker.conn.close();
    await settle();
    expect(talker.closes).toEqual([{ byPeer: false }]);
    expect(sharedTicker(clock, 100).size).toBe(0);
    expect(clock.pending).toBe(0); // no timer left once every connection is gone
  });
});

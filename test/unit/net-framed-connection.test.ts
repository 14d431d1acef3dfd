import type { Duplex } from 'node:stream';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { ServerToClientFrame, type ClientToServerFrame } from '../../src/protocol/frames';
import { SERVER_SIDE } from '../../src/protocol/link-frames';
import { FramedConnection, type CloseInfo, type ConnectionLimits } from '../../src/net/framed-connection';
import { FakeClock } from '../helpers/fake-clock';
import { testLimits } from '../helpers/connection-limits';
import { memoryDuplexPair } from '../../src/net/memory-duplex';

const LIMITS: ConnectionLimits = testLimits();
/** The server's rate-limit exemption (ChatServer passes the same). */
const ACKS: ReadonlySet<ClientToServerFrame['type']> = new Set(['group_ack']);

/** The far end of the pair: records every frame the connection sent, answers end with end. */
class Peer {
  readonly frames: ServerToClientFrame[] = [];
  readonly undecodable: string[] = [];
  ended = false;
  writes = 0;
  private readonly decoder = new FrameDecoder(
    ServerToClientFrame,
    { maxFrameBytes: 1 << 20 },
    {
      frame: (f) => this.frames.push(f),
      error: (e) => this.undecodable.push(e.code),
    },
  );

  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.writes++;
      this.decoder.push(chunk);
    });
    stream.on('end', () => {
      this.ended = true;
      stream.end();
    });
    stream.on('error', () => undefined);
  }

  send(text: string): void {
    this.stream.write(Buffer.from(text, 'utf8'));
  }

  errors(): Array<[string, string | undefined]> {
    return this.frames.flatMap((f) => (f.type === 'error' ? [[f.code, f.id] as [string, string | undefined]] : []));
  }
}

/** Lets queued stream events and setImmediate write batches run, until `done()` or a bounded number of turns. */
async function settle(done: () => boolean = () => false, turns = 50): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setImmediate(r));
}

interface Harness {
  clock: FakeClock;
  conn: FramedConnection<ClientToServerFrame, ServerToClientFrame>;
  peer: Peer;
  received: ClientToServerFrame[];
  closes: CloseInfo[];
  faults: Error[];
}

const open: Harness[] = [];

function setup(overrides: Partial<ConnectionLimits> = {}, rateExempt = ACKS): Harness {
  const clock = new FakeClock();
  const [near, far] = memoryDuplexPair();
  const conn = new FramedConnection(near, SERVER_SIDE, { ...LIMITS, ...overrides }, clock, rateExempt);
  const h: Harness = { clock, conn, peer: new Peer(far), received: [], closes: [], faults: [] };
  conn.on('frame', (f) => h.received.push(f));
  conn.on('close', (info) => h.closes.push(info));
  conn.on('fault', (e) => h.faults.push(e));
  open.push(h);
  return h;
}

afterEach(() => {
  for (const h of open.splice(0)) {
    h.conn.destroy();
    h.peer.stream.destroy();
  }
});

describe('FramedConnection', () => {
  it('emits valid frames in order, including frames split across chunks', async () => {
    const h = setup();
    h.peer.send('{"type":"list_groups","id":"a"}\n{"type":"create_gr');
    h.peer.send('oup","id":"b","group":"g1"}\n');
    await settle(() => h.received.length === 2);
    expect(h.received).toEqual([
      { type: 'list_groups', id: 'a' },
      { type: 'create_group', id: 'b', group: 'g1' },
    ]);
    expect(h.peer.frames).toEqual([]);
  });

  it('answers ping with pong and does not emit the ping', async () => {
    const h = setup();
    h.peer.send('{"type":"ping"}\n{"type":"pong"}\n');
    await settle(() => h.peer.frames.length > 0);
    expect(h.peer.frames).toEqual([{ type: 'pong' }]);
    expect(h.received).toEqual([]);
  });

  it('answers invalid JSON with an error frame and keeps the connection', async () => {
    const h = setup();
    h.peer.send('{nope\n{"type":"list_groups","id":"after"}\n');
    await settle(() => h.received.length === 1 && h.peer.frames.length === 1);
    expect(h.peer.errors()).toEqual([['invalid_json', undefined]]);
    expect(h.received).toEqual([{ type: 'list_groups', id: 'after' }]);
    expect(h.conn.state).toBe('open');
  });

  it('answers a schema-invalid frame with bad_frame carrying its id', async () => {
    const h = setup();
    h.peer.send('{"type":"create_group","id":"r1","group":"roomB;"}\n');
    await settle(() => h.peer.frames.length === 1);
    expect(h.peer.errors()).toEqual([['bad_frame', 'r1']]);
    expect(h.conn.state).toBe('open');
  });

  it('tolerates maxInvalidFrames invalid frames in a row, closes with too_many_invalid on the next', async () => {
    const h = setup({ maxInvalidFrames: 3 });
    h.peer.send('x\n'.repeat(3));
    await settle(() => h.peer.frames.length === 3);
    expect(h.conn.state).toBe('open');
    h.peer.send('x\n');
    await settle(() => h.closes.length === 1);
    expect(h.peer.errors().map(([c]) => c)).toEqual([
      'invalid_json',
      'invalid_json',
      'invalid_json',
      'too_many_invalid',
    ]);
    expect(h.closes).toEqual([{ code: 'too_many_invalid', byPeer: false }]);
  });

  it('a valid frame in between does not wash a run of invalid ones away; only time forgives them', async () => {
    const h = setup({ maxInvalidFrames: 2 });
    h.peer.send('x\nx\n{"type":"ping"}\n{"type":"list_groups","id":"ok"}\nx\n');
    await settle(() => h.closes.length === 1);
    expect(h.received).toEqual([{ type: 'list_groups', id: 'ok' }]);
    expect(h.peer.errors().map(([c]) => c)).toEqual(['invalid_json', 'invalid_json', 'too_many_invalid']);
  });

  it('forgives one invalid frame per second', async () => {
    const h = setup({ maxInvalidFrames: 2 });
    h.peer.send('x\nx\n');
    await settle(() => h.peer.frames.length === 2);
    h.clock.advance(1000);
    h.peer.send('x\n');
    await settle(() => h.peer.frames.length === 3);
    expect(h.conn.state).toBe('open');
  });

  it('closes an oversized frame with frame_too_large, even before its newline', async () => {
    const h = setup({ maxFrameBytes: 64 });
    h.peer.send('{"type":"send_group","id":"1","text":"' + 'a'.repeat(100));
    await settle(() => h.closes.length === 1);
    expect(h.peer.errors()).toEqual([['frame_too_large', undefined]]);
    expect(h.closes).toEqual([{ code: 'frame_too_large', byPeer: false }]);
    expect(h.received).toEqual([]);
  });

  it('closes a frame left half-sent past frameTimeoutMs with frame_timeout', async () => {
    const h = setup({ frameTimeoutMs: 500 });
    h.peer.send('{"type":"pi');
    await settle();
    h.clock.advance(400);
    await settle();
    expect(h.conn.state).toBe('open');
    h.peer.send('n'); // trickling bytes does not extend the deadline (slowloris)
    await settle();
    h.clock.advance(400);
    await settle(() => h.closes.length === 1);
    expect(h.peer.errors()).toEqual([['frame_timeout', undefined]]);
    expect(h.closes).toEqual([{ code: 'frame_timeout', byPeer: false }]);
  });

  it('restarts the frame deadline whenever a frame completes, so a busy pipelined sender is not timed out', async () => {
    const h = setup({ frameTimeoutMs: 500 });
    h.peer.send('{"type":"list_groups","id":"a0"}\n{"type":"list_gr');
    for (let i = 1; i <= 6; i++) {
      await settle();
      h.clock.advance(400);
      // each chunk finishes the frame begun before it and begins the next one
      h.peer.send(`oups","id":"a${i}"}\n{"type":"list_gr`);
    }
    await settle(() => h.received.length === 7);
    expect(h.received).toHaveLength(7);
    expect(h.closes).toEqual([]);
  });

  it('does not time out an idle connection with no partial frame', async () => {
    const h = setup({ frameTimeoutMs: 500 });
    h.peer.send('{"type":"list_groups","id":"a"}\n');
    await settle();
    h.clock.advance(5000);
    await settle();
    expect(h.conn.state).toBe('open');
    expect(h.closes).toEqual([]);
  });

  it('sends pings when idle and closes with heartbeat_timeout after 3 silent intervals', async () => {
    const h = setup({ heartbeatMs: 100 });
    h.clock.advance(100);
    await settle(() => h.peer.frames.length > 0);
    expect(h.peer.frames[0]).toEqual({ type: 'ping' });
    h.clock.advance(200);
    await settle();
    expect(h.conn.state).toBe('open');
    h.clock.advance(200);
    await settle(() => h.closes.length === 1);
    expect(h.closes).toEqual([{ code: 'heartbeat_timeout', byPeer: false }]);
  });

  it("does not count a stall of this process against the peer's heartbeat", async () => {
    const h = setup({ heartbeatMs: 100 });
    h.clock.advance(100);
    await settle(() => h.peer.frames.length > 0);
    h.clock.stall(3000); // our event loop was blocked for 3 s; the peer's pong waits unread
    h.clock.advance(0);
    await settle();
    expect(h.conn.state).toBe('open');
    h.clock.advance(300); // silent for 3 intervals after the stall: dead after all
    await settle(() => h.closes.length === 1);
    expect(h.closes).toEqual([{ code: 'heartbeat_timeout', byPeer: false }]);
  });

  it('keeps a connection alive while the peer keeps talking', async () => {
    const h = setup({ heartbeatMs: 100 });
    for (let i = 0; i < 20; i++) {
      h.peer.send('{"type":"pong"}\n');
      await settle();
      h.clock.advance(100);
      await settle();
    }
    expect(h.conn.state).toBe('open');
    expect(h.closes).toEqual([]);
  });

  it('does not count silence or an unfinished frame against the peer while reading is paused', async () => {
    const h = setup({ heartbeatMs: 100, frameTimeoutMs: 500 });
    h.peer.send('{"type":"list_gr');
    await settle();
    h.conn.pause(); // e.g. server flow control while a recipient is congested
    for (let i = 0; i < 20; i++) {
      h.clock.advance(100);
      await settle();
    }
    expect(h.conn.state).toBe('open');
    h.conn.resume();
    h.peer.send('oups","id":"late"}\n');
    await settle(() => h.received.length === 1);
    expect(h.received).toEqual([{ type: 'list_groups', id: 'late' }]);
    h.clock.advance(500); // silent again, now while reading: dead after 3 intervals
    await settle(() => h.closes.length === 1);
    expect(h.closes).toEqual([{ code: 'heartbeat_timeout', byPeer: false }]);
  });

  it('answers frames over the rate limit with rate_limited and the frame id', async () => {
    const h = setup({ rateLimitPerSec: 1, rateBurst: 2 });
    h.peer.send('{"type":"list_groups","id":"a"}\n{"type":"list_groups","id":"b"}\n{"type":"list_groups","id":"c"}\n');
    await settle(() => h.peer.frames.length === 1);
    expect(h.received.map((f) => (f as { id: string }).id)).toEqual(['a', 'b']);
    expect(h.peer.errors()).toEqual([['rate_limited', 'c']]);
    h.clock.advance(1000);
    h.peer.send('{"type":"list_groups","id":"d"}\n');
    await settle(() => h.received.length === 3);
    expect(h.received.map((f) => (f as { id: string }).id)).toEqual(['a', 'b', 'd']);
    expect(h.conn.state).toBe('open');
  });

  it('never rate limits acknowledgements: a dropped ack would read as an unresponsive member', async () => {
    const h = setup({ rateLimitPerSec: 1, rateBurst: 1 });
    h.peer.send('{"type":"list_groups","id":"a"}\n{"type":"list_groups","id":"b"}\n');
    h.peer.send('{"type":"group_ack","group":"g","seq":1}\n{"type":"group_ack","group":"g","seq":2}\n');
    await settle(() => h.received.length === 3 && h.peer.frames.length === 1);
    expect(h.received).toEqual([
      { type: 'list_groups', id: 'a' },
      { type: 'group_ack', group: 'g', seq: 1 },
      { type: 'group_ack', group: 'g', seq: 2 },
    ]);
    expect(h.peer.errors()).toEqual([['rate_limited', 'b']]);
  });

  it('exempts only the frame types its owner lists: without the set, acks are limited like any frame', async () => {
    const h = setup({ rateLimitPerSec: 1, rateBurst: 1 }, new Set());
    h.peer.send('{"type":"group_ack","group":"g","seq":1}\n{"type":"group_ack","group":"g","seq":2}\n');
    await settle(() => h.received.length === 1 && h.peer.frames.length === 1);
    expect(h.received).toEqual([{ type: 'group_ack', group: 'g', seq: 1 }]);
    expect(h.peer.errors()).toEqual([['rate_limited', undefined]]);
  });

  it('reports a throwing listener as a fault and closes only that connection with internal_error', async () => {
    const h = setup();
    h.conn.on('frame', () => {
      throw new Error('boom');
    });
    h.peer.send('{"type":"list_groups","id":"a"}\n');
    await settle(() => h.closes.length === 1);
    expect(h.faults.map((e) => e.message)).toEqual(['boom']);
    expect(h.peer.errors()).toEqual([['internal_error', undefined]]);
    expect(h.closes).toEqual([{ code: 'internal_error', byPeer: false }]);
  });

  it('batches frames sent in one turn into one ordered write', async () => {
    const h = setup();
    for (let i = 0; i < 100; i++) h.conn.send({ type: 'reply', id: `r${i}` });
    await settle(() => h.peer.frames.length === 100);
    expect(h.peer.frames.map((f) => (f as { id: string }).id)).toEqual(Array.from({ length: 100 }, (_, i) => `r${i}`));
    expect(h.peer.writes).toBe(1);
  });

  it('sends pre-encoded bytes unchanged', async () => {
    const h = setup();
    const bytes = encodeFrame<ServerToClientFrame>({ type: 'removed', group: 'g' });
    h.conn.sendEncoded(bytes);
    await settle(() => h.peer.frames.length === 1);
    expect(h.peer.frames).toEqual([{ type: 'removed', group: 'g' }]);
  });

  it('reports the code of a fatal error sent with sendError in the close event', async () => {
    const h = setup();
    h.conn.sendError('register_timeout', 'No registration within the deadline');
    await settle(() => h.closes.length === 1);
    expect(h.peer.errors()).toEqual([['register_timeout', undefined]]);
    expect(h.closes).toEqual([{ code: 'register_timeout', byPeer: false }]);
  });

  it('reports a close by the peer as byPeer without a code, and sends nothing after', async () => {
    const h = setup();
    h.peer.stream.end();
    await settle(() => h.closes.length === 1);
    expect(h.closes).toEqual([{ byPeer: true }]);
    h.conn.send({ type: 'ping' });
    await settle();
    expect(h.peer.frames).toEqual([]);
  });

  it('leaves no timers behind once closed', async () => {
    const h = setup({ heartbeatMs: 100 });
    h.conn.close('shutting_down');
    await settle(() => h.closes.length === 1);
    expect(h.closes).toEqual([{ code: 'shutting_down', byPeer: false }]);
    expect(h.clock.pending).toBe(0);
  });

  it('destroys a reader whose queue stays congested past drainTimeoutMs with slow_consumer', async () => {
    const h = setup({ maxOutboundBytes: 100, drainTimeoutMs: 500 });
    h.peer.stream.pause(); // the peer stops reading
    // The memory pair pushes straight into the peer's buffer, so fake a full socket buffer.
    Object.defineProperty(h.conn, 'outboundBytes', { get: () => 200 });
    h.conn.send({ type: 'reply', id: 'x'.repeat(50) });
    await settle();
    expect(h.conn.congested).toBe(true);
    h.clock.advance(1000);
    await settle(() => h.closes.length === 1);
    expect(h.closes).toEqual([{ code: 'slow_consumer', byPeer: false }]);
  });

  it('drops a reader at once when its queue passes 4 × maxOutboundBytes, without waiting for the drain timeout', async () => {
    const h = setup({ maxOutboundBytes: 100, drainTimeoutMs: 500 });
    h.peer.stream.pause();
    Object.defineProperty(h.conn, 'outboundBytes', { get: () => 401 });
    h.conn.send({ type: 'reply', id: 'x' });
    await settle(() => h.closes.length === 1);
    expect(h.clock.now()).toBe(0);
    expect(h.closes).toEqual([{ code: 'slow_consumer', byPeer: false }]);
  });
});

describe('FramedConnection closing', () => {
  it('tells closing from closed: open → closing at close() → closed once the stream is gone', async () => {
    const h = setup();
    expect([h.conn.state, h.conn.open, h.conn.closing, h.conn.closed]).toEqual(['open', true, false, false]);
    h.conn.close();
    expect([h.conn.state, h.conn.open, h.conn.closing, h.conn.closed]).toEqual(['closing', false, true, false]);
    h.conn.send({ type: 'reply', id: 'late' }); // dropped: no frame leaves a closing connection
    await settle(() => h.closes.length === 1);
    expect([h.conn.state, h.conn.open, h.conn.closing, h.conn.closed]).toEqual(['closed', false, false, true]);
    expect(h.peer.frames).toEqual([]);
  });

  it('closeAndWait sends the error, resolves with the close info once closed, and again at once when already closed', async () => {
    const h = setup();
    const info = await h.conn.closeAndWait('shutting_down');
    expect(info).toEqual({ code: 'shutting_down', byPeer: false });
    expect(h.conn.closed).toBe(true);
    expect(h.peer.errors()).toEqual([['shutting_down', undefined]]);
    expect(h.closes).toEqual([info]);
    await expect(h.conn.closeAndWait('internal_error')).resolves.toEqual(info);
    expect(h.peer.errors()).toEqual([['shutting_down', undefined]]); // nothing more sent
  });

  it('closeAndWait on a connection the peer is closing waits for it, and reports the peer', async () => {
    const h = setup();
    h.peer.stream.end();
    await settle(() => h.conn.closing || h.conn.closed);
    await expect(h.conn.closeAndWait('shutting_down')).resolves.toEqual({ byPeer: true });
  });

  it('closeAndWait ends when a silent peer never closes its end: the stream is destroyed after the end grace', async () => {
    const clock = new FakeClock();
    const [near, far] = memoryDuplexPair();
    far.on('data', () => undefined); // reads, but never ends its side
    far.on('error', () => undefined);
    const conn = new FramedConnection(near, SERVER_SIDE, LIMITS, clock);
    let closed = false;
    const waiting = conn.closeAndWait().then((info) => {
      closed = true;
      return info;
    });
    await settle();
    expect([closed, conn.state]).toEqual([false, 'closing']);
    clock.advance(1_000);
    await expect(waiting).resolves.toEqual({ byPeer: false });
    expect(clock.pending).toBe(0);
    far.destroy();
  });
});

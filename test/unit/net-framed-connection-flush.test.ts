import { Duplex } from 'node:stream';
import { FramedConnection, type ConnectionLimits } from '../../src/net/framed-connection';
import { asEncodedFrame } from '../../src/protocol/codec';
import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { SERVER_SIDE } from '../../src/protocol/link-frames';
import { FakeClock } from '../helpers/fake-clock';
import { testLimits } from '../helpers/connection-limits';

const LIMITS: ConnectionLimits = testLimits({ maxFrameBytes: 1 << 16 });

/** A sink that, like a socket, accepts several chunks per call, and records each call. */
class WritevSink extends Duplex {
  readonly calls: Buffer[][] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.calls.push([chunk]);
    cb();
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: () => void): void {
    this.calls.push(chunks.map((c) => c.chunk));
    cb();
  }
}

const settle = async (turns = 5): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

describe('FramedConnection flush', () => {
  let sink: WritevSink;
  let conn: FramedConnection<ClientToServerFrame, ServerToClientFrame>;
  beforeEach(() => {
    sink = new WritevSink();
    conn = new FramedConnection(sink, SERVER_SIDE, LIMITS, new FakeClock());
  });
  afterEach(() => conn.destroy());

  it('hands large frames queued in one turn to the stream as one writev, same buffers, in order', async () => {
    const frames = [1, 2, 3].map((n) => Buffer.alloc(1000, 48 + n));
    for (const f of frames) conn.sendEncoded(asEncodedFrame<ServerToClientFrame>(f));
    expect(conn.outboundBytes).toBe(3000);
    await settle();
    expect(sink.calls).toHaveLength(1);
    expect(sink.calls[0]).toEqual(frames);
    expect(sink.calls[0]![0]).toBe(frames[0]); // not copied
    expect(conn.outboundBytes).toBe(0);
  });

  it('copies small frames into one buffer and one write', async () => {
    const frames = [1, 2, 3].map((n) => Buffer.alloc(100, 48 + n));
    for (const f of frames) conn.sendEncoded(asEncodedFrame<ServerToClientFrame>(f));
    await settle();
    expect(sink.calls).toEqual([[Buffer.concat(frames)]]);
    expect(conn.outboundBytes).toBe(0);
  });
});

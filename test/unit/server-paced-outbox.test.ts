import { EventEmitter } from 'node:events';
import { asEncodedFrame } from '../../src/protocol/codec';
import type { ServerToClientFrame } from '../../src/protocol/frames';
import { PacedOutbox, type ChunkSource, type PacedConnection } from '../../src/server/paced-outbox';

/** A connection stand-in: `outboundBytes` grows with every frame until the test "flushes" it. */
function fakeConnection() {
  const events = new EventEmitter();
  const sent: string[] = [];
  const conn = {
    open: true,
    congested: false,
    outboundBytes: 0,
    sendEncoded: (b: Buffer) => {
      sent.push(b.toString('utf8'));
      conn.outboundBytes += b.length;
    },
    on: (event: string, listener: () => void) => events.on(event, listener),
  };
  return { conn, sent, events, paced: conn as unknown as PacedConnection };
}

/** A source of `n` frames of 100 bytes each, named `<tag><i>`. */
function source(tag: string, n: number): ChunkSource {
  let i = 0;
  return {
    next: () => (i < n ? asEncodedFrame<ServerToClientFrame>(Buffer.from(`${tag}${i++}`.padEnd(100, '.'))) : null),
  };
}

const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('PacedOutbox', () => {
  it('sends at once while the queue is within budget, and resolves when the last frame is queued', async () => {
    const { sent, paced } = fakeConnection();
    const outbox = new PacedOutbox(paced, 10_000);
    await outbox.send(source('a', 5));
    expect(sent.map((s) => s.replace(/\.+$/, ''))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(outbox.idle).toBe(true);
  });

  it("over budget and not congested: continues after this turn's flush, jobs strictly in order", async () => {
    const { conn, sent, paced } = fakeConnection();
    const outbox = new PacedOutbox(paced, 250); // 3 frames of 100 bytes, then wait
    const order: string[] = [];
    const first = outbox.send(source('a', 5)).then(() => order.push('a done'));
    const second = outbox.send(source('b', 2)).then(() => order.push('b done'));
    expect(sent).toHaveLength(3);
    conn.outboundBytes = 0; // the write batcher flushed; the kernel took it all
    await nextTurn();
    conn.outboundBytes = 0;
    await Promise.all([first, second]);
    expect(sent.map((s) => s.replace(/\.+$/, ''))).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1']);
    expect(order).toEqual(['a done', 'b done']);
  });

  it('congested: waits for drain, and a close ends every job without sending more', async () => {
    const { conn, sent, events, paced } = fakeConnection();
    const outbox = new PacedOutbox(paced, 150);
    conn.congested = true;
    let done = false;
    const job = outbox.send(source('a', 10)).then(() => (done = true));
    expect(sent).toHaveLength(2);
    await nextTurn();
    expect(sent).toHaveLength(2); // no drain yet: nothing more
    conn.outboundBytes = 0;
    events.emit('drain');
    expect(sent).toHaveLength(4);
    conn.open = false;
    events.emit('close');
    await job;
    expect(done).toBe(true);
    events.emit('drain');
    expect(sent).toHaveLength(4);
    await expect(outbox.send(source('late', 1))).resolves.toBeUndefined();
    expect(sent).toHaveLength(4);
  });
});

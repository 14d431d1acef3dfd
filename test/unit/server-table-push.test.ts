import { EventEmitter } from 'node:events';
import type { ClientEntry, ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import type { FramedConnection } from '../../src/net/framed-connection';
import { Session } from '../../src/server/session';
import { ReplyCaches } from '../../src/server/reply-cache';
import { systemClock } from '../../src/util/clock';
import { TablePusher } from '../../src/server/table-push';
import { FakeClock } from '../helpers/fake-clock';

const KEY = Buffer.alloc(32, 1).toString('base64');
const entry = (name: string, online = true): ClientEntry => ({ name, host: '127.0.0.1', port: 1, online, key: KEY });

type TableFrame = { rev: number; full: boolean; more?: true; clients: ClientEntry[] };

/**
 * A session whose connection records every frame it is sent. `outboundBytes`
 * is what the test says is still queued; 'drain' is emitted by the test.
 */
function recordingSession(id: number, budget = Number.POSITIVE_INFINITY) {
  const frames: TableFrame[] = [];
  const events = new EventEmitter();
  const conn = {
    open: true,
    outboundBytes: 0,
    congested: false,
    on: (event: string, listener: () => void) => events.on(event, listener),
    send: (f: object) => frames.push(f as TableFrame),
    sendEncoded: (b: Buffer) => {
      frames.push(JSON.parse(b.toString('utf8')) as TableFrame);
      conn.outboundBytes += b.length;
    },
  };
  const session = new Session(
    id,
    conn as unknown as FramedConnection<ClientToServerFrame, ServerToClientFrame>,
    new ReplyCaches(4, systemClock).fresh(),
    () => undefined,
    () => 0,
    budget,
  );
  return { session, frames, conn, events };
}

/** Frames as [rev, full, more, names]. */
const summary = (frames: TableFrame[]) =>
  frames.map((f) => [f.rev, f.full, f.more === true, f.clients.map((c) => c.name)]);

describe('TablePusher', () => {
  it('sends each online session one delta per turn listing every change, with rising rev', () => {
    const a = recordingSession(1);
    const pusher = new TablePusher(() => [a.session], 1 << 15);
    void pusher.sendFull(a.session, [entry('a')]);
    pusher.noteChanged(entry('b'));
    pusher.noteChanged(entry('c'));
    pusher.noteChanged(entry('b', false));
    pusher.flush();
    expect(a.frames.map((f) => [f.rev, f.full, f.clients.map((c) => `${c.name}:${c.online}`)])).toEqual([
      [1, true, ['a:true']],
      [2, false, ['c:true', 'b:false']],
    ]);
  });

  it('a session whose full table came mid-turn gets only the changes made after it', () => {
    const old = recordingSession(1);
    const fresh = recordingSession(2);
    const pusher = new TablePusher(() => [old.session, fresh.session], 1 << 15);
    void pusher.sendFull(old.session, [entry('old')]);
    pusher.noteChanged(entry('fresh'));
    void pusher.sendFull(fresh.session, [entry('old'), entry('fresh')]);
    pusher.flush();
    expect(fresh.frames.map((f) => f.rev)).toEqual([1]); // nothing new for it
    pusher.noteChanged(entry('x'));
    void pusher.sendFull(recordingSession(3).session, []); // unrelated full table in the same turn
    pusher.flush();
    expect(fresh.frames.at(-1)).toMatchObject({ rev: 2, full: false, clients: [{ name: 'x' }] });
    expect(old.frames.map((f) => f.clients.map((c) => c.name))).toEqual([['old'], ['fresh'], ['x']]);
  });

  it('skips sessions that have not had their full table yet', () => {
    const pending = recordingSession(1);
    const pusher = new TablePusher(() => [pending.session], 1 << 15);
    pusher.noteChanged(entry('a'));
    pusher.flush();
    expect(pending.frames).toEqual([]);
  });

  it('splits a full table in chunks of one rev: full on the first, more on all but the last', () => {
    const a = recordingSession(1);
    const pusher = new TablePusher(() => [a.session], 400); // about 3 entries per chunk
    void pusher.sendFull(
      a.session,
      ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((n) => entry(n)),
    );
    const frames = summary(a.frames);
    expect(frames.length).toBeGreaterThan(2);
    expect(frames.map(([rev]) => rev)).toEqual(frames.map(() => 1));
    expect(frames.map(([, full]) => full)).toEqual(frames.map((_, i) => i === 0));
    expect(frames.map(([, , more]) => more)).toEqual(frames.map((_, i) => i < frames.length - 1));
    expect(frames.flatMap(([, , , names]) => names as string[])).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    for (const f of a.frames) expect(Buffer.byteLength(JSON.stringify(f.clients))).toBeLessThanOrEqual(400);
  });

  it('splits a large delta in chunks of one rev, encoded once for every recipient', () => {
    const a = recordingSession(1);
    const b = recordingSession(2);
    const pusher = new TablePusher(() => [a.session, b.session], 400);
    void pusher.sendFull(a.session, [entry('a')]);
    void pusher.sendFull(b.session, [entry('a')]);
    for (const n of ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']) pusher.noteChanged(entry(n));
    pusher.flush();
    const deltas = summary(a.frames.slice(1));
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map(([rev, full]) => [rev, full])).toEqual(deltas.map(() => [2, false]));
    expect(deltas.map(([, , more]) => more)).toEqual(deltas.map((_, i) => i < deltas.length - 1));
    expect(deltas.flatMap(([, , , names]) => names as string[])).toEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
    expect(summary(b.frames.slice(1))).toEqual(deltas);
  });

  it('paces a full table by the outbound queue, holds deltas back and sends them merged after it', async () => {
    const a = recordingSession(1, 500); // over 500 queued bytes: wait for 'drain'
    const pusher = new TablePusher(() => [a.session], 400);
    const names = Array.from({ length: 12 }, (_, i) => `e${i}`);
    let complete = false;
    const done = pusher
      .sendFull(
        a.session,
        names.map((n) => entry(n)),
      )
      .then(() => (complete = true));
    const firstBurst = a.frames.length;
    expect(firstBurst).toBeLessThan(4); // stopped once over the budget
    a.conn.congested = true;
    pusher.noteChanged(entry('late1'));
    pusher.noteChanged(entry('e1', false));
    pusher.flush();
    pusher.noteChanged(entry('late2'));
    pusher.flush();
    expect(a.frames.length).toBe(firstBurst); // no delta overtakes the full table
    for (let guard = 0; guard < 20 && !complete; guard++) {
      a.conn.outboundBytes = 0; // the reader caught up
      a.events.emit('drain');
      await Promise.resolve();
    }
    await done;
    const frames = summary(a.frames);
    const full = frames.filter(([rev]) => rev === 1);
    expect(full.flatMap(([, , , n]) => n as string[])).toEqual(names);
    expect(frames.slice(full.length)).toEqual([[2, false, false, ['late1', 'e1', 'late2']]]);
    a.conn.outboundBytes = 0;
    pusher.noteChanged(entry('live'));
    pusher.flush();
    expect(summary(a.frames).at(-1)).toEqual([3, false, false, ['live']]);
  });

  it('forgets a full table whose connection closed mid-way', async () => {
    const a = recordingSession(1, 100);
    const pusher = new TablePusher(() => [a.session], 400);
    const done = pusher.sendFull(
      a.session,
      Array.from({ length: 12 }, (_, i) => entry(`e${i}`)),
    );
    const sent = a.frames.length;
    a.conn.open = false;
    a.events.emit('close');
    await done; // resolves: the waiting request queue moves on
    a.events.emit('drain');
    expect(a.frames.length).toBe(sent);
  });

  it('with flushMs, pushes deltas at least flushMs apart, coalescing every change in between', () => {
    const clock = new FakeClock();
    const a = recordingSession(1);
    const pusher = new TablePusher(() => [a.session], 1 << 15, clock, 50);
    void pusher.sendFull(a.session, [entry('a')]);
    pusher.noteChanged(entry('z'));
    pusher.flush(); // t=0: a change after a quiet spell goes out at once
    expect(clock.pending).toBe(0);
    pusher.noteChanged(entry('b'));
    clock.advance(30);
    pusher.noteChanged(entry('c'));
    expect(clock.pending).toBe(1); // one timer, armed by the first change, due 50 ms after the last push
    expect(a.frames).toHaveLength(2);
    clock.advance(20);
    expect(summary(a.frames)).toEqual([
      [1, true, false, ['a']],
      [2, false, false, ['z']],
      [3, false, false, ['b', 'c']],
    ]);
    expect(clock.pending).toBe(0);
    pusher.noteChanged(entry('d'));
    pusher.close();
    expect(clock.pending).toBe(0);
  });

  it('sends equal full tables from the cache, re-encoding only the chunks that changed', () => {
    const pusher = new TablePusher(() => [], 200);
    const entries = ['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => entry(n));
    const first = recordingSession(1);
    void pusher.sendFull(first.session, entries);
    const changed = [...entries.slice(0, 4), entry('n5', false), entry('n6')];
    const second = recordingSession(2);
    void pusher.sendFull(second.session, changed);
    const names = (frames: TableFrame[]) => frames.flatMap((f) => f.clients.map((c) => `${c.name}:${c.online}`));
    expect(names(first.frames)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => `${n}:true`));
    expect(names(second.frames)).toEqual([...['n1', 'n2', 'n3', 'n4'].map((n) => `${n}:true`), 'n5:false', 'n6:true']);
    expect(second.frames.map((f) => [f.full, f.more === true])).toEqual(
      second.frames.map((_, i) => [i === 0, i < second.frames.length - 1]),
    );
    expect(second.frames.length).toBeGreaterThan(1);
  });
});

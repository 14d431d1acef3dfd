import type { ClientEntry, ClientToServerFrame } from '../../src/protocol/frames';
import type { FramedConnection } from '../../src/net/framed-connection';
import { Session } from '../../src/server/session';
import { TablePusher } from '../../src/server/table-push';

const KEY = Buffer.alloc(32, 1).toString('base64');
const entry = (name: string, online = true): ClientEntry => ({ name, host: '127.0.0.1', port: 1, online, key: KEY });

/** A session whose connection records every frame it is sent. */
function recordingSession(id: number) {
  const frames: Array<{ rev: number; full: boolean; clients: ClientEntry[] }> = [];
  const conn = {
    closed: false,
    send: (f: object) => frames.push(f as (typeof frames)[number]),
    sendEncoded: (b: Buffer) => frames.push(JSON.parse(b.toString('utf8')) as (typeof frames)[number]),
  };
  const session = new Session(id, conn as unknown as FramedConnection<ClientToServerFrame>, 4, () => undefined, () => 0);
  return { session, frames };
}

describe('TablePusher', () => {
  it('sends each online session one delta per turn listing every change, with rising rev', () => {
    const a = recordingSession(1);
    const pusher = new TablePusher(() => [a.session]);
    pusher.sendFull(a.session, [entry('a')]);
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
    const pusher = new TablePusher(() => [old.session, fresh.session]);
    pusher.sendFull(old.session, [entry('old')]);
    pusher.noteChanged(entry('fresh'));
    pusher.sendFull(fresh.session, [entry('old'), entry('fresh')]);
    pusher.flush();
    expect(fresh.frames.map((f) => f.rev)).toEqual([1]); // nothing new for it
    pusher.noteChanged(entry('x'));
    pusher.sendFull(recordingSession(3).session, []); // unrelated full table in the same turn
    pusher.flush();
    expect(fresh.frames.at(-1)).toMatchObject({ rev: 2, full: false, clients: [{ name: 'x' }] });
    expect(old.frames.map((f) => f.clients.map((c) => c.name))).toEqual([['old'], ['fresh'], ['x']]);
  });

  it('skips sessions that have not had their full table yet', () => {
    const pending = recordingSession(1);
    const pusher = new TablePusher(() => [pending.session]);
    pusher.noteChanged(entry('a'));
    pusher.flush();
    expect(pending.frames).toEqual([]);
  });
});

import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import type { FramedConnection } from '../../src/net/framed-connection';
import { Session } from '../../src/server/session';
import { ReplyCaches } from '../../src/server/reply-cache';
import { systemClock } from '../../src/util/clock';

function makeSession() {
  const conn = {
    paused: 0,
    resumed: 0,
    pause() {
      this.paused++;
    },
    resume() {
      this.resumed++;
    },
  };
  const faults: unknown[] = [];
  let time = 0;
  const session = new Session(
    1,
    conn as unknown as FramedConnection<ClientToServerFrame, ServerToClientFrame>,
    new ReplyCaches(8, systemClock).fresh(),
    (e) => faults.push(e),
    () => time,
  );
  return {
    session,
    conn,
    faults,
    setTime: (t: number) => {
      time = t;
    },
  };
}

describe('Session task queue', () => {
  it('runs a task at once when idle (synchronous fast path)', () => {
    const { session } = makeSession();
    const log: string[] = [];
    session.enqueue(() => {
      log.push('a');
    });
    expect(log).toEqual(['a']);
  });

  it('runs tasks strictly in order, later ones waiting for an asynchronous one', async () => {
    const { session } = makeSession();
    const log: string[] = [];
    let release!: () => void;
    session.enqueue(
      () =>
        new Promise<void>((r) => {
          release = () => {
            log.push('slow');
            r();
          };
        }),
    );
    session.enqueue(() => {
      log.push('fast');
    });
    expect(log).toEqual([]);
    const done = new Promise<void>((r) =>
      session.enqueue(() => {
        log.push('last');
        r();
      }),
    );
    release();
    await done;
    expect(log).toEqual(['slow', 'fast', 'last']);
  });

  it('reports a throwing or rejecting task as a fault and keeps going', async () => {
    const { session, faults } = makeSession();
    session.enqueue(() => {
      throw new Error('sync');
    });
    session.enqueue(() => Promise.reject(new Error('async')));
    await new Promise<void>((r) => session.enqueue(() => r()));
    expect(faults.map((f) => (f as Error).message)).toEqual(['sync', 'async']);
  });

  it('pauses reading only for a backlog, and records when it resumed', () => {
    const { session, conn, setTime } = makeSession();
    session.pause('flow');
    expect(conn.paused).toBe(0); // flow control holds tasks; acks must still be read
    session.pause('backlog');
    expect(conn.paused).toBe(1);
    session.resume('flow');
    expect(session.paused).toBe(true);
    setTime(42);
    session.resume('backlog');
    expect(conn.resumed).toBe(1);
    expect(session.paused).toBe(false);
    expect(session.resumedAt).toBe(42);
  });

  it('holds tasks while paused for flow, then runs them in order after resume (never inside resume)', async () => {
    const { session } = makeSession();
    const log: string[] = [];
    session.pause('flow');
    expect(session.held).toBe(true);
    session.enqueue(() => {
      log.push('a');
    });
    session.enqueue(() => {
      log.push('b');
    });
    expect(log).toEqual([]);
    session.resume('flow');
    session.enqueue(() => {
      log.push('c');
    }); // read after the resume: still after the held ones
    expect(log).toEqual([]);
    await Promise.resolve();
    expect(log).toEqual(['a', 'b', 'c']);
  });
});

import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import type { FramedConnection } from '../../src/net/framed-connection';
import { ReplyCaches } from '../../src/server/reply-cache';
import { systemClock } from '../../src/util/clock';
import { Session } from '../../src/server/session';
import { TurnBudget } from '../../src/server/turn-budget';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function session(id: number, budget: TurnBudget): Session {
  const conn = { pause() {}, resume() {} };
  return new Session(
    id,
    conn as unknown as FramedConnection<ClientToServerFrame, ServerToClientFrame>,
    new ReplyCaches(4, systemClock).fresh(),
    () => undefined,
    () => 0,
    Number.POSITIVE_INFINITY,
    budget,
  );
}

describe('TurnBudget: fair scheduling across connections', () => {
  it('runs at most perTurn tasks of one session per event-loop turn, in order, and the rest in later turns', async () => {
    const budget = new TurnBudget(3);
    const s = session(1, budget);
    const log: number[] = [];
    for (let i = 0; i < 8; i++)
      s.enqueue(() => {
        log.push(i);
      });
    expect(log).toEqual([0, 1, 2]);
    await nextTurn();
    expect(log).toEqual([0, 1, 2, 3, 4, 5]);
    await nextTurn();
    expect(log).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it("a flooding session does not use up another session's turn", () => {
    const budget = new TurnBudget(2);
    const flood = session(1, budget);
    const quiet = session(2, budget);
    const log: string[] = [];
    for (let i = 0; i < 100; i++)
      flood.enqueue(() => {
        log.push('flood');
      });
    quiet.enqueue(() => {
      log.push('quiet');
    });
    expect(log).toEqual(['flood', 'flood', 'quiet']);
  });
});

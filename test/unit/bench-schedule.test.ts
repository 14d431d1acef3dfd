import { achievedRate, SendSchedule, type ScheduleOptions } from '../../bench/schedule';

describe('SendSchedule (fixed schedule, no coordinated omission)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  /** A schedule on jest's fake clock (Date.now), starting at once. */
  const schedule = (options: Omit<ScheduleOptions, 'now' | 'leadMs'>): SendSchedule =>
    new SendSchedule({ ...options, now: () => Date.now(), leadMs: 0 });

  it('sends each member at its phase plus k periods', () => {
    const sends: Array<[number, number]> = [];
    const s = schedule({
      members: 2,
      rate: 10,
      messages: 3,
      send: (i, dueAt) => sends.push([i, dueAt]),
      alive: () => true,
    });
    jest.advanceTimersByTime(1_000);
    expect(sends).toEqual([
      [0, 0],
      [1, 50],
      [0, 100],
      [1, 150],
      [0, 200],
      [1, 250],
    ]);
    expect(s.scheduled).toBe(6);
    expect(s.firstDueAt(1)).toBe(50);
  });

  it('catches up after a stall, stamping every message with its own due time, never skipping one', () => {
    const sends: Array<[number, number]> = [];
    schedule({
      members: 1,
      rate: 100,
      messages: 5,
      send: (_i, dueAt) => sends.push([Date.now(), dueAt]),
      alive: () => true,
    });
    jest.setSystemTime(35); // the load generator was busy: the first timer fires 35 ms late
    jest.advanceTimersByTime(0);
    expect(sends).toEqual([
      [35, 0],
      [35, 10],
      [35, 20],
      [35, 30],
    ]);
    jest.advanceTimersByTime(100);
    expect(sends.at(-1)).toEqual([40, 40]);
    expect(sends).toHaveLength(5);
  });

  it('stops a member that is no longer alive', () => {
    let alive = true;
    const dues: number[] = [];
    schedule({
      members: 1,
      rate: 100,
      messages: 10,
      send: (_i, dueAt) => {
        dues.push(dueAt);
        alive = dues.length < 2;
      },
      alive: () => alive,
    });
    jest.advanceTimersByTime(1_000);
    expect(dues).toEqual([0, 10]);
  });
});

describe('achievedRate', () => {
  it('is exactly the rate when every send is on time, and lower when sends fall behind', () => {
    const first = (i: number): number => i * 25;
    // 20 msg/s: 5 sends span 4 periods of 50 ms.
    expect(
      achievedRate(
        [
          { sent: 5, lastSendAt: 200 },
          { sent: 5, lastSendAt: 225 },
        ],
        first,
      ),
    ).toBe(20);
    expect(achievedRate([{ sent: 5, lastSendAt: 400 }], first)).toBe(10);
    expect(achievedRate([{ sent: 1, lastSendAt: 0 }], first)).toBeNull();
  });
});

import { PendingAcks, type AckOutcome } from '../../src/net/pending-acks';
import { FakeClock } from '../helpers/fake-clock';

/** Records how (and how many times) each wait settled. */
function track<T>(acks: PendingAcks<T>, id: string, timeoutMs: number): Array<AckOutcome<T>> {
  const outcomes: Array<AckOutcome<T>> = [];
  void acks.wait(id, timeoutMs).then((o) => outcomes.push(o));
  return outcomes;
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('PendingAcks', () => {
  it('settles an acked id with its value, once, and forgets it', async () => {
    const clock = new FakeClock();
    const acks = new PendingAcks<string>(clock);
    const outcomes = track(acks, 'a', 500);
    expect(acks.has('a')).toBe(true);
    expect(acks.settle('a', 'v')).toBe(true);
    expect(acks.settle('a', 'again')).toBe(false); // duplicate ack
    clock.advance(1000); // the timeout must not fire after the ack
    await flush();
    expect(outcomes).toEqual([{ kind: 'acked', value: 'v' }]);
    expect(acks.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('times out after exactly timeoutMs and then refuses the late ack', async () => {
    const clock = new FakeClock();
    const acks = new PendingAcks(clock);
    const outcomes = track(acks, 'a', 500);
    clock.advance(499);
    await flush();
    expect(outcomes).toEqual([]);
    clock.advance(1);
    await flush();
    expect(outcomes).toEqual([{ kind: 'timeout' }]);
    expect(acks.settle('a', undefined)).toBe(false);
    expect(acks.size).toBe(0);
  });

  it('closeAll settles every pending id as closed, once, and clears its timers', async () => {
    const clock = new FakeClock();
    const acks = new PendingAcks(clock);
    const all = ['a', 'b', 'c'].map((id) => track(acks, id, 500));
    acks.closeAll();
    clock.advance(1000);
    acks.closeAll();
    await flush();
    expect(all).toEqual([[{ kind: 'closed' }], [{ kind: 'closed' }], [{ kind: 'closed' }]]);
    expect(acks.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('refuses a second wait on an id that is still pending, and allows it once settled (retry reuses the id)', async () => {
    const clock = new FakeClock();
    const acks = new PendingAcks(clock);
    const first = track(acks, 'a', 100);
    expect(() => acks.wait('a', 100)).toThrow();
    clock.advance(100);
    const second = track(acks, 'a', 100);
    acks.settle('a', undefined);
    await flush();
    expect(first).toEqual([{ kind: 'timeout' }]);
    expect(second).toEqual([{ kind: 'acked', value: undefined }]);
  });

  it('keeps independent ids independent', async () => {
    const clock = new FakeClock();
    const acks = new PendingAcks<number>(clock);
    const a = track(acks, 'a', 100);
    const b = track(acks, 'b', 300);
    clock.advance(200);
    acks.settle('b', 2);
    await flush();
    expect(a).toEqual([{ kind: 'timeout' }]);
    expect(b).toEqual([{ kind: 'acked', value: 2 }]);
    expect(acks.size).toBe(0);
  });
});

import { GroupState } from '../../src/client/group-state';
import { FakeClock } from '../helpers/fake-clock';

function setup(): { clock: FakeClock; state: GroupState; acks: Array<[string, number]> } {
  const clock = new FakeClock();
  const acks: Array<[string, number]> = [];
  const state = new GroupState(clock, (group, seq) => acks.push([group, seq]));
  return { clock, state, acks };
}

describe('GroupState', () => {
  it('shows each (group, seq) once: a repeated or older seq is not shown', () => {
    const { state } = setup();
    expect([1, 2, 2, 1, 3].map((seq) => state.receive('g', seq))).toEqual([true, true, false, false, true]);
    expect(state.receive('other', 1)).toBe(true);
  });

  it('acks a batch of messages with one cumulative group_ack per group, on the next tick', () => {
    const { clock, state, acks } = setup();
    state.receive('g', 1);
    state.receive('g', 2);
    state.receive('h', 7);
    state.receive('g', 3);
    expect(acks).toEqual([]); // batched, not per frame
    clock.advance(0);
    expect(acks).toEqual([
      ['g', 3],
      ['h', 7],
    ]);
    expect(clock.pending).toBe(0);
  });

  it('acks a duplicate again (the server may have missed the first ack)', () => {
    const { clock, state, acks } = setup();
    state.receive('g', 4);
    clock.advance(0);
    expect(state.receive('g', 4)).toBe(false);
    clock.advance(0);
    expect(acks).toEqual([
      ['g', 4],
      ['g', 4],
    ]);
  });

  it('a new server session drops acks owed to the old connection but keeps the seen seqs (docs/protocol.md "Group history")', () => {
    const { clock, state, acks } = setup();
    state.receive('g', 5);
    state.resetSession();
    clock.advance(0);
    expect(acks).toEqual([]);
    expect(state.lastSeen('g')).toBe(5); // a re-join catches up from here
    expect(state.receive('g', 5)).toBe(false); // seqs go on across connections and restarts
    expect(state.receive('g', 6)).toBe(true);
    state.forget('g'); // the group was deleted: a new one of that name numbers from 1
    expect(state.receive('g', 1)).toBe(true);
  });

  it('tracks the current group and leaves no timer behind after close', () => {
    const { clock, state } = setup();
    expect(state.current).toBeNull();
    state.setCurrent('g');
    expect(state.current).toBe('g');
    state.receive('g', 1);
    state.close();
    expect(clock.pending).toBe(0);
  });
});

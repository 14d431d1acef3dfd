import { LostMembers } from '../../src/peer/lost-members';
import { FakeClock } from '../helpers/fake-clock';

const bob = { name: 'bob', instance: 'i-bob', host: '127.0.0.1', port: 5001 };
const carol = { name: 'carol', instance: 'i-carol', host: '127.0.0.1', port: 5002 };

describe('LostMembers (partition healing)', () => {
  it('keeps offering a lost member for re-dialling until the window passes', () => {
    const clock = new FakeClock();
    const lost = new LostMembers(10_000);
    lost.add(bob, clock.now());
    clock.advance(4_000);
    lost.add(carol, clock.now());
    expect(lost.due(clock.now())).toEqual([bob, carol]);
    clock.advance(6_001);
    expect(lost.due(clock.now())).toEqual([carol]);
    clock.advance(4_000);
    expect(lost.due(clock.now())).toEqual([]);
    expect(lost.size).toBe(0);
  });

  it('stops offering a member once it is linked again', () => {
    const lost = new LostMembers(10_000);
    lost.add(bob, 0);
    lost.delete('i-bob');
    expect(lost.due(1)).toEqual([]);
  });
});

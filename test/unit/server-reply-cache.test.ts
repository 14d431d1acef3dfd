import { ReplyCaches, PLAIN_REPLY } from '../../src/server/reply-cache';
import { ERROR_CODES } from '../../src/protocol/errors';
import { FakeClock } from '../helpers/fake-clock';

describe('ReplyCaches: bounded duplicate suppression', () => {
  it("a name's cache outlives its connection: a retry on a new connection finds the reply", () => {
    const caches = new ReplyCaches(8, new FakeClock(), 1000);
    const first = caches.adopt('alice', caches.fresh());
    first.set('r1', PLAIN_REPLY);
    caches.release('alice');
    expect(caches.adopt('alice', caches.fresh()).get('r1')).toBe(PLAIN_REPLY);
  });

  it("forgets replies after their time, and a released name's cache with them", () => {
    const clock = new FakeClock();
    const caches = new ReplyCaches(8, clock, 1000);
    caches.adopt('alice', caches.fresh()).set('r1', PLAIN_REPLY);
    caches.release('alice');
    expect(caches.names).toBe(1);
    clock.advance(1001); // no request comes: the expiry timer gives the memory back
    expect(caches.total).toBe(0);
    expect(caches.names).toBe(0);
    expect(caches.adopt('alice', caches.fresh()).get('r1')).toBeUndefined();
  });

  it("keeps an online name's cache object when its replies expire", () => {
    const clock = new FakeClock();
    const caches = new ReplyCaches(8, clock, 1000);
    const cache = caches.adopt('alice', caches.fresh());
    cache.set('r1', PLAIN_REPLY);
    clock.advance(1001);
    expect(caches.names).toBe(1);
    expect(caches.adopt('alice', caches.fresh())).toBe(cache);
  });

  it('bounds replies per cache and in all, oldest first, however many names arrive', () => {
    const clock = new FakeClock();
    const caches = new ReplyCaches(4, clock, 60_000, 10);
    const one = caches.fresh();
    for (let i = 0; i < 6; i++) one.set(`a${i}`, PLAIN_REPLY);
    expect(one.size).toBe(4);
    expect(one.get('a0')).toBeUndefined();
    for (let n = 0; n < 50; n++) {
      const cache = caches.adopt(`name${n}`, caches.fresh());
      for (let i = 0; i < 3; i++) cache.set(`x${i}`, PLAIN_REPLY);
      caches.release(`name${n}`);
    }
    expect(caches.total).toBeLessThanOrEqual(10);
    expect(caches.names).toBeLessThanOrEqual(4); // released names whose replies were pushed out are gone
  });

  it('two names on one connection in turn: the second starts from a fresh cache', () => {
    const caches = new ReplyCaches(8, new FakeClock(), 1000);
    const own = caches.fresh();
    const alice = caches.adopt('alice', own);
    alice.set('same', PLAIN_REPLY);
    caches.release('alice');
    const bob = caches.adopt('bob', caches.fresh());
    expect(bob.get('same')).toBeUndefined();
  });

  it('a refusal is kept as its code and given back as the same error frame, with the request id', () => {
    const caches = new ReplyCaches(8, new FakeClock(), 1000);
    const cache = caches.fresh();
    cache.set('r1', { type: 'error', id: 'r1', code: 'not_in_group', message: ERROR_CODES.not_in_group });
    cache.set('r2', { type: 'error', id: 'r2', code: 'internal_error', message: 'something else' });
    cache.set('r3', { type: 'reply', id: 'r3', group: 'room' });
    expect(cache.get('r1')).toEqual({
      type: 'error',
      id: 'r1',
      code: 'not_in_group',
      message: ERROR_CODES.not_in_group,
    });
    expect(cache.get('r2')).toEqual({ type: 'error', id: 'r2', code: 'internal_error', message: 'something else' });
    expect(cache.get('r3')).toEqual({ type: 'reply', id: 'r3', group: 'room' });
    expect([...cache.entries()].map(([id]) => id)).toEqual(['r1', 'r2', 'r3']);
  });
});

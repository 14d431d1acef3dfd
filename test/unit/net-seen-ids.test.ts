import { SeenIds } from '../../src/net/seen-ids';

describe('SeenIds', () => {
  it('reports duplicates and returns the cached value', () => {
    const seen = new SeenIds<string>(10);
    expect(seen.add('a', 'reply-a')).toBe(true);
    expect(seen.add('a', 'other')).toBe(false);
    expect(seen.has('a')).toBe(true);
    expect(seen.get('a')).toBe('reply-a');
    expect(seen.get('b')).toBeUndefined();
  });

  it('set replaces the value of a known id and adds an unknown one', () => {
    const seen = new SeenIds<string>(10);
    seen.add('a', 'pending');
    seen.set('a', 'done');
    seen.set('b', 'new');
    expect(seen.get('a')).toBe('done');
    expect(seen.get('b')).toBe('new');
    expect(seen.size).toBe(2);
  });

  it('stays bounded, forgetting the oldest ids first', () => {
    const seen = new SeenIds<number>(3);
    for (let i = 0; i < 1000; i++) seen.add(`id${i}`, i);
    expect(seen.size).toBe(3);
    expect(seen.has('id996')).toBe(false);
    expect(['id997', 'id998', 'id999'].map((id) => seen.get(id))).toEqual([997, 998, 999]);
  });

  it('does not refresh an id on set (eviction is by first sight)', () => {
    const seen = new SeenIds<number>(2);
    seen.add('a', 1);
    seen.add('b', 2);
    seen.set('a', 3);
    seen.add('c', 4);
    expect(seen.has('a')).toBe(false);
    expect(seen.get('b')).toBe(2);
    expect(seen.get('c')).toBe(4);
  });

  it('set on an unknown id also respects the capacity', () => {
    const seen = new SeenIds<number>(2);
    for (let i = 0; i < 10; i++) seen.set(`s${i}`, i);
    expect(seen.size).toBe(2);
  });

  it('rejects a capacity below one', () => {
    expect(() => new SeenIds(0)).toThrow(RangeError);
  });
});

import { LineLog, describeMatcher, matches } from '../../testkit/line-log';

describe('testkit LineLog', () => {
  it('splits appended text into lines at any chunk boundary and keeps the unfinished rest apart', () => {
    const log = new LineLog(100);
    for (const chunk of ['>>> a', 'b\n>>', '> c\n\n>>> pro', 'mpt']) log.append(chunk);
    expect(log.slice()).toEqual(['>>> ab', '>>> c', '']);
    expect(log.partial).toBe('>>> prompt');
    log.finish();
    expect(log.slice()).toEqual(['>>> ab', '>>> c', '', '>>> prompt']);
    expect(log.partial).toBe('');
  });

  it('keeps a \\r the program printed unless told that a terminal added it', () => {
    const raw = new LineLog(10);
    const tty = new LineLog(10, true);
    for (const log of [raw, tty]) log.append('one\r\ntwo\r\n');
    expect(raw.slice()).toEqual(['one\r', 'two\r']);
    expect(tty.slice()).toEqual(['one', 'two']);
  });

  it('drops the oldest lines past its bound but keeps absolute indexes, so marks stay valid', () => {
    const log = new LineLog(4);
    for (let i = 0; i < 20; i++) log.append(`line ${i}\n`);
    expect(log.length).toBe(20);
    expect(log.first).toBeGreaterThan(0);
    expect(log.slice().length).toBeGreaterThanOrEqual(4);
    expect(log.slice().length).toBeLessThanOrEqual(5);
    expect(log.at(19)).toBe('line 19');
    expect(log.at(log.first)).toBe(`line ${log.first}`);
    expect(log.at(0)).toBeUndefined();
    expect(log.slice(17)).toEqual(['line 17', 'line 18', 'line 19']);
    expect(log.find('line 18', 0)).toBe(18);
    expect(log.find('line 18', 19)).toBe(-1);
    expect(log.find('line 1', 0)).toBe(-1); // dropped: not found, never mistaken for another index
  });

  it('matches exact strings, patterns (stateless even with /g) and predicates', () => {
    const global = /x/g;
    expect([matches('x', global), matches('x', global)]).toEqual([true, true]);
    expect(matches('>>> a', '>>> a')).toBe(true);
    expect(matches('>>> ab', '>>> a')).toBe(false);
    expect(matches('abc', (l) => l.startsWith('ab'))).toBe(true);
    expect(describeMatcher('a')).toBe('"a"');
    expect(describeMatcher(/a/)).toBe('/a/');
  });
});

import type { ClientEntry } from '../../src/protocol/frames';
import { chunkEntries } from '../../src/protocol/json-chunks';
import { FullTableCache } from '../../src/server/table-cache';

const KEY = Buffer.alloc(32, 1).toString('base64');
const entry = (name: string, online = true): ClientEntry => ({ name, host: '127.0.0.1', port: 1, online, key: KEY });
const text = (chunks: readonly Buffer[]) => chunks.map(String);

describe('FullTableCache', () => {
  it('chunks exactly like chunkEntries, an empty table as one []', () => {
    const cache = new FullTableCache(300);
    const entries = Array.from({ length: 17 }, (_, i) => entry(`user${i}`));
    expect(text(cache.chunksOf(entries))).toEqual(text(chunkEntries(entries, 300)));
    expect(text(cache.chunksOf([]))).toEqual(['[]']);
  });

  it('reuses closed chunks whose entries are the same objects, and is always exactly the snapshot given', () => {
    const cache = new FullTableCache(300);
    const entries = Array.from({ length: 17 }, (_, i) => entry(`user${i}`));
    const before = cache.chunksOf(entries);
    const grown = [...entries, entry('late')];
    const after = cache.chunksOf(grown);
    expect(after[0]).toBe(before[0]); // the same bytes, not re-encoded
    expect(text(after)).toEqual(text(chunkEntries(grown, 300)));
    const changed = grown.map((e, i) => (i === 1 ? entry(e.name, false) : e));
    const again = cache.chunksOf(changed);
    expect(again[0]).not.toBe(after[0]);
    expect(again[again.length - 2]).toBe(after[after.length - 2]);
    expect(text(again)).toEqual(text(chunkEntries(changed, 300)));
  });
});

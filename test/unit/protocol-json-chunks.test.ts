import fc from 'fast-check';
import { chunkBytes, encodeTableChunk } from '../../src/protocol/chunk-frames';
import type { ClientEntry } from '../../src/protocol/frames';
import { chunkEntries, chunkNames } from '../../src/protocol/json-chunks';

const KEY = Buffer.alloc(32, 2).toString('base64');
const entry = (name: string): ClientEntry => ({ name, host: 'chat.example.org', port: 1, online: true, key: KEY });

describe('chunkNames / chunkEntries', () => {
  it('splits names into JSON arrays within the budget whose concatenation is the list, in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/), { maxLength: 200 }),
        fc.integer({ min: 40, max: 2000 }),
        (names, budget) => {
          const chunks = chunkNames(names, budget);
          const parsed = chunks.map((c) => JSON.parse(c.toString('utf8')) as string[]);
          expect(parsed.flat()).toEqual(names);
          expect(chunks.length).toBeGreaterThan(0);
          for (const [i, chunk] of chunks.entries()) {
            if (parsed[i]!.length > 1) expect(chunk.length).toBeLessThanOrEqual(budget);
            if (names.length > 0) expect(parsed[i]!.length).toBeGreaterThan(0); // no empty chunk
          }
        },
      ),
    );
  });

  it('yields one empty array for an empty list, then nothing', () => {
    const chunks = chunkEntries([], 100);
    expect(chunks.map(String)).toEqual(['[]']);
  });

  it('always makes progress: an item larger than the budget is a chunk of its own', () => {
    expect(
      chunkEntries([entry('a'), entry('b')], 10).map((c) => (JSON.parse(String(c)) as ClientEntry[]).length),
    ).toEqual([1, 1]);
  });

  it('keeps a 3,000-entry table frame by frame under half of maxFrameBytes', () => {
    const entries = Array.from({ length: 3000 }, (_, i) => entry(`client-${i}`.padEnd(32, 'z')));
    const chunks = chunkEntries(entries, chunkBytes(65536));
    const frames = chunks.map((json, i) => encodeTableChunk(1, i === 0, i < chunks.length - 1, json));
    expect(frames.length).toBeGreaterThan(5);
    for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(65536 / 2);
    const decoded = frames.map(
      (f) => JSON.parse(f.toString('utf8')) as { more?: boolean; full: boolean; clients: ClientEntry[] },
    );
    expect(decoded.flatMap((f) => f.clients)).toEqual(entries);
    expect(decoded.map((f) => f.more ?? false)).toEqual(decoded.map((_, i) => i < decoded.length - 1));
  });
});

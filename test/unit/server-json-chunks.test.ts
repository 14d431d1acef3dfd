import fc from 'fast-check';
import type { ClientEntry } from '../../src/protocol/frames';
import { chunkBytes, JsonChunker, tableFrame } from '../../src/server/json-chunks';

const KEY = Buffer.alloc(32, 2).toString('base64');
const entry = (name: string): ClientEntry => ({ name, host: 'chat.example.org', port: 1, online: true, key: KEY });

describe('JsonChunker', () => {
  it('splits names into JSON arrays within the budget whose concatenation is the list, in order', () => {
    fc.assert(fc.property(
      fc.array(fc.stringMatching(/^[A-Za-z0-9_.-]{1,32}$/), { maxLength: 200 }),
      fc.integer({ min: 40, max: 2000 }),
      (names, budget) => {
        const chunks = JsonChunker.names(names, budget).rest();
        const parsed = chunks.map((c) => JSON.parse(c) as string[]);
        expect(parsed.flat()).toEqual(names);
        expect(chunks.length).toBeGreaterThan(0);
        for (const [i, chunk] of chunks.entries()) {
          if (parsed[i]!.length > 1) expect(Buffer.byteLength(chunk)).toBeLessThanOrEqual(budget);
          if (names.length > 0) expect(parsed[i]!.length).toBeGreaterThan(0); // no empty chunk
        }
      },
    ));
  });

  it('yields one empty array for an empty list, then nothing', () => {
    const chunker = JsonChunker.entries([], 100);
    expect(chunker.next()).toBe('[]');
    expect(chunker.done).toBe(true);
    expect(chunker.next()).toBeNull();
  });

  it('always makes progress: an item larger than the budget is a chunk of its own', () => {
    expect(JsonChunker.entries([entry('a'), entry('b')], 10).rest().map((c) => (JSON.parse(c) as ClientEntry[]).length)).toEqual([1, 1]);
  });

  it('keeps a 3,000-entry table frame by frame under half of maxFrameBytes', () => {
    const entries = Array.from({ length: 3000 }, (_, i) => entry(`client-${i}`.padEnd(32, 'z')));
    const chunks = JsonChunker.entries(entries, chunkBytes(65536)).rest();
    const frames = chunks.map((json, i) => tableFrame(1, i === 0, i < chunks.length - 1, json));
    expect(frames.length).toBeGreaterThan(5);
    for (const frame of frames) expect(frame.length).toBeLessThanOrEqual(65536 / 2);
    const decoded = frames.map((f) => JSON.parse(f.toString('utf8')) as { more?: boolean; full: boolean; clients: ClientEntry[] });
    expect(decoded.flatMap((f) => f.clients)).toEqual(entries);
    expect(decoded.map((f) => f.more ?? false)).toEqual(decoded.map((_, i) => i < decoded.length - 1));
  });
});

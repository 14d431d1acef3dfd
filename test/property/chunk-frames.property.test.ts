import fc from 'fast-check';
import { encodeListPart, encodeListReply, encodeTableChunk } from '../../src/protocol/chunk-frames';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { ServerToClientFrame } from '../../src/protocol/frames';
import { chunkEntries, chunkNames } from '../../src/protocol/json-chunks';
import { entryArb, idArb, nameArb } from './frame-arbitraries';

/** Decodes `bytes` as server → client frames; fails the property on any decode error. */
function decode(bytes: Buffer): ServerToClientFrame[] {
  const frames: ServerToClientFrame[] = [];
  const decoder = new FrameDecoder(
    ServerToClientFrame,
    { maxFrameBytes: 1 << 20 },
    {
      frame: (frame) => frames.push(frame),
      error: (error) => {
        throw new Error(`${error.code}: ${error.message}`);
      },
    },
  );
  decoder.push(bytes);
  return frames;
}

const budgetArb = fc.integer({ min: 16, max: 4000 });
/** Ids of any Unicode too: the list encoders write the id as UTF-8. */
const anyIdArb = fc.oneof(idArb, fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }));

describe('chunked frame encoders', () => {
  it('table chunks decode with the schema, byte for byte as encodeFrame would write them', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 60 }), fc.nat(), budgetArb, (entries, rev, budget) => {
        const chunks = chunkEntries(entries, budget);
        chunks.forEach((clients, i) => {
          const full = i === 0;
          const more = i < chunks.length - 1;
          const bytes = encodeTableChunk(rev, full, more, clients);
          const frame: ServerToClientFrame = {
            type: 'table',
            rev,
            full,
            ...(more ? { more: true as const } : {}),
            clients: JSON.parse(String(clients)) as never,
          };
          expect(decode(bytes)).toEqual([frame]);
          expect(bytes.equals(encodeFrame<ServerToClientFrame>(frame))).toBe(true);
        });
        const decoded = decode(
          Buffer.concat(chunks.map((c, i) => encodeTableChunk(rev, i === 0, i < chunks.length - 1, c))),
        );
        expect(decoded.flatMap((f) => (f.type === 'table' ? f.clients : []))).toEqual(entries);
      }),
    );
  });

  it('a long list decodes as list_part frames then its reply, the items in order, byte for byte as encodeFrame', () => {
    fc.assert(
      fc.property(
        fc.array(nameArb, { maxLength: 80 }),
        anyIdArb,
        fc.constantFrom('groups' as const, 'members' as const),
        budgetArb,
        (names, id, key, budget) => {
          const chunks = chunkNames(names, budget);
          const bytes = chunks.map((items, i) =>
            i < chunks.length - 1 ? encodeListPart(id, items) : encodeListReply(id, key, items),
          );
          const frames = decode(Buffer.concat(bytes));
          const expected: ServerToClientFrame[] = chunks.map((c, i) => {
            const items = JSON.parse(String(c)) as string[];
            return i < chunks.length - 1 ? { type: 'list_part', id, items } : { type: 'reply', id, [key]: items };
          });
          expect(frames).toEqual(expected);
          expected.forEach((frame, i) => expect(bytes[i]!.equals(encodeFrame<ServerToClientFrame>(frame))).toBe(true));
          const items = frames.flatMap((f) =>
            f.type === 'list_part' ? f.items : f.type === 'reply' ? (f[key] ?? []) : [],
          );
          expect(items).toEqual(names);
        },
      ),
    );
  });
});

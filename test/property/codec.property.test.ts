import fc from 'fast-check';
import type { ZodType } from 'zod';
import { encodeFrame, FrameDecoder, type WireFrame } from '../../src/protocol/codec';
import { ClientToServerFrame, DirectFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { clientFrameArb, cutsArb, directFrameArb, serverFrameArb, splitAt } from './frame-arbitraries';

/** What a decoder reported, with error messages left out (they may name a size seen mid-stream). */
type Event = { frame: unknown } | { error: string; id?: string; fatal: boolean };

function decode<F>(schema: ZodType<F>, chunks: Buffer[], maxFrameBytes: number): Event[] {
  const events: Event[] = [];
  const decoder = new FrameDecoder(
    schema,
    { maxFrameBytes },
    {
      frame: (frame) => events.push({ frame }),
      error: (e) =>
        events.push(
          e.id === undefined ? { error: e.code, fatal: e.fatal } : { error: e.code, id: e.id, fatal: e.fatal },
        ),
    },
  );
  for (const chunk of chunks) decoder.push(chunk);
  expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxFrameBytes + 1);
  return events;
}

const byteByByte = (bytes: Buffer): Buffer[] => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));

/** Fragments that make random streams hit the interesting paths: newlines, CR, JSON, frames, bad frames. */
const fragmentArb = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
  fc
    .constantFrom(
      '\n',
      '\r\n',
      '\r',
      '{',
      '}',
      '"',
      '\\',
      '{"type":"ping"}\n',
      '{"type":"list_groups","id":"q"}\n',
      '{"type":"list_groups","id":"q","x":1}\n',
      '{"__proto__":{"a":1},"type":"ping"}\n',
      'null\n',
      '[]\n',
      '1e999\n',
      '{"type":"send_group","id":"s","text":"\u00e9\ud83d\ude00"}\n',
      '\xff\xfe\n',
    )
    .map((s) => Buffer.from(s, 'latin1')),
  clientFrameArb.map((f) => encodeFrame(f)),
);
const streamArb = fc.array(fragmentArb, { maxLength: 25 }).map((parts) => Buffer.concat(parts));

describe('FrameDecoder properties', () => {
  it('never throws on arbitrary bytes in arbitrary chunks, and stops after one fatal error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), cutsArb, fc.integer({ min: 1, max: 200 }), (raw, cuts, max) => {
        const events = decode(ClientToServerFrame, splitAt(Buffer.from(raw), cuts), max);
        const fatal = events.findIndex((e) => 'error' in e && e.fatal);
        expect(fatal === -1 || fatal === events.length - 1).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('reports the same frames and errors however a mixed stream is chunked (one push, random cuts, byte by byte)', () => {
    fc.assert(
      fc.property(streamArb, cutsArb, fc.integer({ min: 16, max: 300 }), (bytes, cuts, max) => {
        const whole = decode(ClientToServerFrame, [bytes], max);
        expect(decode(ClientToServerFrame, splitAt(bytes, cuts), max)).toEqual(whole);
        expect(decode(ClientToServerFrame, byteByByte(bytes), max)).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it.each([
    ['client → server', ClientToServerFrame as ZodType<unknown>, clientFrameArb as fc.Arbitrary<WireFrame>],
    ['server → client', ServerToClientFrame as ZodType<unknown>, serverFrameArb as fc.Arbitrary<WireFrame>],
    ['direct', DirectFrame as ZodType<unknown>, directFrameArb as fc.Arbitrary<WireFrame>],
  ])('round-trips any sequence of valid %s frames under any chunking', (_label, schema, arb) => {
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 12 }), cutsArb, fc.boolean(), (frames, cuts, crlf) => {
        const lines = frames.map((f) => {
          const b = encodeFrame(f);
          return crlf ? Buffer.concat([b.subarray(0, -1), Buffer.from('\r\n')]) : b;
        });
        const bytes = Buffer.concat(lines);
        const expected = frames.map((frame) => ({ frame }));
        expect(decode(schema, [bytes], 1 << 16)).toEqual(expected);
        expect(decode(schema, splitAt(bytes, cuts), 1 << 16)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('treats lines at the size limit the same however they are chunked (limit counts the frame, not CR/LF)', () => {
    const base = '{"type":"send_group","id":"s","text":""}';
    fc.assert(
      fc.property(
        fc.integer({ min: base.length, max: 120 }),
        fc.integer({ min: -2, max: 2 }),
        fc.boolean(),
        cutsArb,
        (max, delta, cr, cuts) => {
          const size = Math.max(base.length, max + delta);
          const frame = { type: 'send_group', id: 's', text: 'a'.repeat(size - base.length) };
          const bytes = Buffer.from(JSON.stringify(frame) + (cr ? '\r\n' : '\n') + '{"type":"ping"}\n');
          const expected =
            size <= max ? [{ frame }, { frame: { type: 'ping' } }] : [{ error: 'frame_too_large', fatal: true }];
          expect(decode(ClientToServerFrame, [bytes], max)).toEqual(expected);
          expect(decode(ClientToServerFrame, splitAt(bytes, cuts), max)).toEqual(expected);
          expect(decode(ClientToServerFrame, byteByByte(bytes), max)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes valid frames fed one byte at a time (nats.js style)', () => {
    fc.assert(
      fc.property(fc.array(clientFrameArb, { minLength: 1, maxLength: 5 }), (frames) => {
        const bytes = Buffer.concat(frames.map((f) => encodeFrame(f)));
        expect(decode(ClientToServerFrame, byteByByte(bytes), 1 << 16)).toEqual(frames.map((frame) => ({ frame })));
      }),
      { numRuns: 100 },
    );
  });

  it('rejects a valid frame with any extra key (prototype keys included) as bad_frame, with its id, never crashing', () => {
    const extraKey = fc.oneof(
      fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'extra', ''),
      fc.string({ maxLength: 10 }),
    );
    fc.assert(
      fc.property(clientFrameArb, extraKey, fc.jsonValue(), (frame, key, value) => {
        fc.pre(!Object.prototype.hasOwnProperty.call(frame, key));
        // Built as text so a `__proto__` key is an own property on the wire, as an attacker would send it.
        const body = JSON.stringify(frame).slice(0, -1) + `,${JSON.stringify(key)}:${JSON.stringify(value)}}`;
        const events = decode(ClientToServerFrame, [Buffer.from(body + '\n')], 1 << 16);
        const id = (frame as { id?: string }).id;
        expect(events).toEqual([
          id === undefined ? { error: 'bad_frame', fatal: false } : { error: 'bad_frame', id, fatal: false },
        ]);
        expect(Object.keys(Object.prototype)).toEqual([]); // nothing leaked onto every object
      }),
      { numRuns: 300 },
    );
  });

  it('rejects arbitrary JSON values that are not frames as bad_frame (never a frame, never a crash)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        fc.pre(!(typeof value === 'object' && value !== null && !Array.isArray(value) && 'type' in value));
        const events = decode(ClientToServerFrame, [Buffer.from(JSON.stringify(value) + '\n')], 1 << 16);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ error: 'bad_frame', fatal: false });
      }),
      { numRuns: 300 },
    );
  });

  it('rejects frames with a field of the wrong type as bad_frame', () => {
    const wrong = fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.array(fc.nat(), { maxLength: 2 }),
      fc.object({ maxDepth: 1 }),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(clientFrameArb, fc.nat(), wrong, (frame, pick, value) => {
        const keys = Object.keys(frame).filter((k) => k !== 'type');
        fc.pre(keys.length > 0);
        const key = keys[pick % keys.length]!;
        const mutated = { ...frame, [key]: value } as Record<string, unknown>;
        const reparsed = ClientToServerFrame.safeParse(mutated);
        fc.pre(!reparsed.success); // a random string can still be a valid id or name
        const events = decode(ClientToServerFrame, [Buffer.from(JSON.stringify(mutated) + '\n')], 1 << 16);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({ error: 'bad_frame', fatal: false });
      }),
      { numRuns: 300 },
    );
  });
});

import fc from 'fast-check';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { FATAL_CODES } from '../../src/protocol/errors';
import { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { SERVER_SIDE } from '../../src/protocol/link-frames';
import { FramedConnection, type CloseInfo } from '../../src/net/framed-connection';
import { FakeClock } from '../helpers/fake-clock';
import { memoryDuplexPair } from '../../src/net/memory-duplex';
import { clientFrameArb, cutsArb, splitAt } from './frame-arbitraries';

const MAX_INVALID = 3;
const MAX_FRAME = 256;

const fragmentArb = fc.oneof(
  { weight: 3, arbitrary: clientFrameArb.map((f) => encodeFrame(f)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom('x\n', '{}\n', '{"type":"ping"}\n', '\n', '{"type":"list_groups","id":"i","z":0}\n')
      .map((s) => Buffer.from(s)),
  },
);

const settle = async (turns = 20): Promise<void> => {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
};

describe('FramedConnection over arbitrary input', () => {
  it('emits a prefix of what the decoder finds, answers within the catalogue, and closes only with a fatal code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fragmentArb, { maxLength: 20 }), cutsArb, async (parts, cuts) => {
        const bytes = Buffer.concat(parts);
        const expected: ClientToServerFrame[] = [];
        const reference = new FrameDecoder(
          ClientToServerFrame,
          { maxFrameBytes: MAX_FRAME },
          {
            frame: (f) => {
              if (f.type !== 'ping' && f.type !== 'pong') expected.push(f);
            },
            error: () => undefined,
          },
        );
        reference.push(bytes);

        const clock = new FakeClock();
        const [near, far] = memoryDuplexPair();
        const conn = new FramedConnection(
          near,
          SERVER_SIDE,
          {
            maxFrameBytes: MAX_FRAME,
            maxOutboundBytes: 1 << 20,
            drainTimeoutMs: 1000,
            frameTimeoutMs: 1000,
            maxInvalidFrames: MAX_INVALID,
            heartbeatMs: 0,
            rateLimitPerSec: 0,
            rateBurst: 0,
          },
          clock,
        );
        const emitted: ClientToServerFrame[] = [];
        const closes: CloseInfo[] = [];
        conn.on('frame', (f) => emitted.push(f));
        conn.on('close', (c) => closes.push(c));
        const sent: ServerToClientFrame[] = [];
        const bad: string[] = [];
        const out = new FrameDecoder(
          ServerToClientFrame,
          { maxFrameBytes: 1 << 20 },
          { frame: (f) => sent.push(f), error: (e) => bad.push(e.code) },
        );
        far.on('data', (c: Buffer) => out.push(c));
        far.on('end', () => far.end());
        far.on('error', () => undefined);
        for (const chunk of splitAt(bytes, cuts)) if (!far.destroyed && !far.writableEnded) far.write(chunk);
        await settle();

        expect(bad).toEqual([]);
        expect(emitted).toEqual(expected.slice(0, emitted.length));
        const errors = sent.flatMap((f) => (f.type === 'error' ? [f.code] : []));
        expect(errors.filter((c) => FATAL_CODES.has(c)).length).toBeLessThanOrEqual(1);
        if (closes.length > 0 && closes[0]!.code !== undefined) {
          expect(FATAL_CODES.has(closes[0]!.code)).toBe(true);
          expect(errors[errors.length - 1]).toBe(closes[0]!.code);
        }
        if (conn.open) expect(emitted).toEqual(expected); // nothing lost while the link is up
        conn.destroy();
        far.destroy();
        await settle(2);
      }),
      { numRuns: 150 },
    );
  });
});

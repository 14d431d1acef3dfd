import { encodeFrame, FrameDecoder, type DecodeError } from '../../src/protocol/codec';
import type { ZodType } from 'zod';
import { ClientToServerFrame, DirectFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { ERROR_CODE_LIST } from '../../src/protocol/errors';

function decode(text: string | Buffer, maxFrameBytes = 1024) {
  const frames: unknown[] = [];
  const errors: DecodeError[] = [];
  const decoder = new FrameDecoder(
    ClientToServerFrame,
    { maxFrameBytes },
    { frame: (f) => frames.push(f), error: (e) => errors.push(e) },
  );
  decoder.push(typeof text === 'string' ? Buffer.from(text) : text);
  return { frames, errors, decoder };
}

describe('FrameDecoder error reporting (docs/protocol.md "Transport and framing")', () => {
  it('echoes a string id of 1–64 chars on bad_frame, and no other id', () => {
    const cases: Array<[string, string | undefined]> = [
      ['{"type":"nope","id":"abc"}', 'abc'],
      ['{"type":"nope","id":"' + 'x'.repeat(64) + '"}', 'x'.repeat(64)],
      ['{"type":"nope","id":"' + 'x'.repeat(65) + '"}', undefined],
      ['{"type":"nope","id":""}', undefined],
      ['{"type":"nope","id":7}', undefined],
      ['{"type":"nope","id":{"toString":"x"}}', undefined],
      ['["id","abc"]', undefined],
      ['"abc"', undefined],
    ];
    for (const [line, id] of cases) {
      const { errors } = decode(line + '\n');
      expect(errors).toHaveLength(1);
      expect([line, errors[0]!.code, errors[0]!.id, errors[0]!.fatal]).toEqual([line, 'bad_frame', id, false]);
    }
  });

  it('does not take an id from the prototype chain', () => {
    const { errors } = decode('{"type":"nope","__proto__":{"id":"inherited"}}\n');
    expect(errors.map((e) => [e.code, e.id])).toEqual([['bad_frame', undefined]]);
  });

  it('keeps error messages short even for huge invalid values', () => {
    const { errors } = decode(JSON.stringify({ type: 'x'.repeat(900) }) + '\n', 4096);
    expect(errors[0]!.message.length).toBeLessThanOrEqual(512);
  });

  it('accepts a frame of exactly maxFrameBytes, with LF or CRLF, and refuses one byte more', () => {
    const frame = { type: 'send_group', id: 'i', text: '' };
    const base = JSON.stringify(frame).length;
    const exact = { ...frame, text: 'a'.repeat(100 - base) };
    expect(decode(JSON.stringify(exact) + '\n', 100).frames).toEqual([exact]);
    expect(decode(JSON.stringify(exact) + '\r\n', 100).frames).toEqual([exact]);
    const over = decode(JSON.stringify({ ...frame, text: 'a'.repeat(101 - base) }) + '\n', 100);
    expect(over.errors.map((e) => [e.code, e.fatal])).toEqual([['frame_too_large', true]]);
  });

  it('ignores empty lines and a lone CR line, and counts multi-byte UTF-8 by bytes', () => {
    expect(decode('\n\r\n\n{"type":"ping"}\n\n')).toMatchObject({ frames: [{ type: 'ping' }], errors: [] });
    const text = 'é'.repeat(60); // 120 bytes, 60 chars
    const big = decode(JSON.stringify({ type: 'send_group', id: 'i', text }) + '\n', 100);
    expect(big.errors.map((e) => e.code)).toEqual(['frame_too_large']);
  });

  it('ignores everything after a fatal error and holds no bytes', () => {
    const { frames, errors, decoder } = decode(
      Buffer.concat([Buffer.alloc(2000, 0x61), Buffer.from('\n{"type":"ping"}\n')]),
    );
    expect(errors.map((e) => e.code)).toEqual(['frame_too_large']);
    decoder.push(Buffer.from('{"type":"ping"}\n'));
    expect(frames).toEqual([]);
    expect([decoder.bufferedBytes, decoder.hasPartialFrame]).toEqual([0, false]);
  });

  it('rejects NaN-like, exponent and non-integer numbers where integers are required', () => {
    for (const seq of ['1.5', '-1', '1e400', '"1"', 'null', '9007199254740993']) {
      const { frames, errors } = decode(`{"type":"group_ack","group":"g","seq":${seq}}\n`);
      expect([seq, frames.length, errors.map((e) => e.code)]).toEqual([seq, 0, ['bad_frame']]);
    }
  });

  it('every error code in the catalogue is a valid error frame in every direction', () => {
    for (const code of ERROR_CODE_LIST) {
      const line = encodeFrame({ type: 'error', code, message: 'm' });
      for (const schema of [ServerToClientFrame, DirectFrame] as ZodType<unknown>[]) {
        const got: unknown[] = [];
        new FrameDecoder(schema, { maxFrameBytes: 1024 }, { frame: (f) => got.push(f), error: () => undefined }).push(
          line,
        );
        expect([code, got]).toEqual([code, [{ type: 'error', code, message: 'm' }]]);
      }
    }
  });
});

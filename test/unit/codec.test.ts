import { encodeFrame, FrameDecoder, type DecodeError } from '../../src/protocol/codec';
import { ClientToServerFrame } from '../../src/protocol/frames';

function decodeAll(chunks: Buffer[], maxFrameBytes = 1024) {
  const frames: ClientToServerFrame[] = [];
  const errors: DecodeError[] = [];
  const decoder = new FrameDecoder(
    ClientToServerFrame,
    { maxFrameBytes },
    {
      frame: (f) => frames.push(f),
      error: (e) => errors.push(e),
    },
  );
  for (const chunk of chunks) decoder.push(chunk);
  return { frames, errors, decoder };
}

describe('FrameDecoder', () => {
  it('decodes a valid frame split at every byte boundary', () => {
    const bytes = encodeFrame({ type: 'send_group', id: 'a1', text: 'héllo' });
    for (let cut = 0; cut <= bytes.length; cut++) {
      const { frames, errors } = decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(errors).toEqual([]);
      expect(frames).toEqual([{ type: 'send_group', id: 'a1', text: 'héllo' }]);
    }
  });

  it('rejects prototype-pollution keys as bad_frame and keeps the request id', () => {
    const { frames, errors } = decodeAll([Buffer.from('{"type":"list_groups","id":"x","__proto__":{"p":1}}\n')]);
    expect(frames).toEqual([]);
    expect(errors.map((e) => [e.code, e.id, e.fatal])).toEqual([['bad_frame', 'x', false]]);
    expect(({} as Record<string, unknown>)['p']).toBeUndefined();
  });

  it('fails fatally on an oversized line before it ends', () => {
    const { errors, decoder } = decodeAll([Buffer.alloc(2000, 0x61)]);
    expect(errors.map((e) => e.code)).toEqual(['frame_too_large']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('reports invalid JSON and carries on with the next line', () => {
    const { frames, errors } = decodeAll([Buffer.from('{nope\n{"type":"ping"}\n')]);
    expect(errors.map((e) => e.code)).toEqual(['invalid_json']);
    expect(frames).toEqual([{ type: 'ping' }]);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { encodeFrame, FrameDecoder, type DecodeError } from '../../src/protocol/codec';
import { MeshFrame } from '../../src/protocol/mesh-frames';

function decode(line: string): { frames: MeshFrame[]; errors: DecodeError[] } {
  const frames: MeshFrame[] = [];
  const errors: DecodeError[] = [];
  const decoder = new FrameDecoder(
    MeshFrame,
    { maxFrameBytes: 4096 },
    {
      frame: (f) => frames.push(f),
      error: (e) => errors.push(e),
    },
  );
  decoder.push(Buffer.from(line + '\n'));
  return { frames, errors };
}

const member = { name: 'bob', peer: 'i-bob', host: '127.0.0.1', port: 5001 };
const valid: MeshFrame[] = [
  { type: 'hello', id: 'h1', v: 1, name: 'alice', peer: 'i-alice', port: 5000 },
  { type: 'welcome', id: 'h1', name: 'bob', peer: 'i-bob', members: [member] },
  { type: 'hello', id: 'h2', v: 1, name: 'carol', peer: 'i-carol', port: 5002, to: 'i-bob', joining: true },
  { type: 'members', members: [member] },
  { type: 'joined' },
  { type: 'msg', id: 'm1', text: 'hi' },
  { type: 'msg_ack', id: 'm1' },
  { type: 'bye' },
  { type: 'error', id: 'h1', code: 'name_in_use', message: 'Name alice is already in use' },
  { type: 'ping' },
  { type: 'pong' },
];

describe('MeshFrame', () => {
  it.each(valid.map((f) => [f.type, f] as const))('round-trips a valid %s frame', (_type, frame) => {
    expect(decode(encodeFrame(frame).toString().trim())).toEqual({ frames: [frame], errors: [] });
  });

  it.each([
    ['an unknown field', '{"type":"bye","extra":1}'],
    ['a bad name', '{"type":"hello","id":"h","v":1,"name":"a b","peer":"p","port":1}'],
    ['a port out of range', '{"type":"hello","id":"h","v":1,"name":"a","peer":"p","port":70000}'],
    ['an unknown type', '{"type":"relay","id":"x"}'],
    [
      'joining: false (only true is sent)',
      '{"type":"hello","id":"h","v":1,"name":"a","peer":"p","port":1,"joining":false}',
    ],
    ['a malformed member entry', '{"type":"members","members":[{"name":"bob"}]}'],
  ])('rejects %s as bad_frame', (_label, line) => {
    const { frames, errors } = decode(line);
    expect(frames).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['bad_frame']);
  });

  it('is documented frame by frame in docs/protocol-mesh.md', () => {
    const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'protocol-mesh.md'), 'utf8');
    for (const frame of valid) expect(doc).toContain(`\`${frame.type}\``);
    expect(doc).toMatch(/^## Partitions$/m);
  });
});

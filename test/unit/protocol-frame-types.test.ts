import { FramedConnection } from '../../src/net/framed-connection';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { encodeTableChunk } from '../../src/protocol/chunk-frames';
import type { ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { chunkEntries } from '../../src/protocol/json-chunks';
import { CLIENT_SIDE, MESH_LINK, SERVER_SIDE } from '../../src/protocol/link-frames';
import type { MeshFrame } from '../../src/protocol/mesh-frames';
import { FakeClock } from '../helpers/fake-clock';
import { testLimits } from '../helpers/connection-limits';
import { memoryDuplexPair } from '../../src/net/memory-duplex';

/**
 * Outbound frames are typed: each `@ts-expect-error` below is a frame the
 * compiler must refuse. `npm test` type-checks this file first (build:test),
 * so if any of them compiled, the directive would be unused and the build fail.
 */
function wrongFramesDoNotCompile(
  server: FramedConnection<ClientToServerFrame, ServerToClientFrame>,
  client: FramedConnection<ServerToClientFrame, ClientToServerFrame>,
): void {
  // @ts-expect-error a client → server request on the server's end
  server.send({ type: 'list_groups', id: 'a' });
  // @ts-expect-error a mesh frame on a chat server connection
  server.send({ type: 'bye' });
  // @ts-expect-error a field the frame does not have
  server.send({ type: 'removed', group: 'g', reason: 'late' });
  // @ts-expect-error a required field missing
  server.send({ type: 'group_msg', group: 'g', seq: 1, from: 'a' });
  // @ts-expect-error an error code outside the catalogue
  server.send({ type: 'error', code: 'no_such_code', message: 'm' });
  // @ts-expect-error a server → client frame on the client's end
  client.send({ type: 'reply', id: 'a' });
  // @ts-expect-error bytes encoded for the mesh, queued on a chat connection
  server.sendEncoded(encodeFrame<MeshFrame>({ type: 'bye' }));
  // @ts-expect-error a table chunk is a server → client frame, not a client's
  client.sendEncoded(encodeTableChunk(1, true, false, chunkEntries([], 100)[0]!));
  // @ts-expect-error untyped bytes
  server.sendEncoded(Buffer.from('{"type":"ping"}\n'));
  // @ts-expect-error encoding an object that is no frame at all
  encodeFrame({ type: 'ping', extra: 1 });
}

describe('typed outbound frames', () => {
  it('refuses wrong frames at compile time (see the @ts-expect-error lines)', () => {
    expect(wrongFramesDoNotCompile).toBeInstanceOf(Function);
  });

  it('sends what its link admits, and the peer decodes it with its schema', async () => {
    const [near, far] = memoryDuplexPair();
    const server = new FramedConnection(near, SERVER_SIDE, testLimits(), new FakeClock());
    const got: ServerToClientFrame[] = [];
    const decoder = new FrameDecoder(
      CLIENT_SIDE.receives,
      { maxFrameBytes: 1024 },
      {
        frame: (f) => got.push(f),
        error: (e) => got.push({ type: 'error', code: e.code, message: e.message }),
      },
    );
    far.on('data', (chunk: Buffer) => decoder.push(chunk));
    far.on('end', () => far.end());
    server.send({ type: 'removed', group: 'g' });
    server.sendEncoded(encodeTableChunk(1, true, false, chunkEntries([], 100)[0]!));
    while (got.length < 2) await new Promise((r) => setImmediate(r));
    expect(got).toEqual([
      { type: 'removed', group: 'g' },
      { type: 'table', rev: 1, full: true, clients: [] },
    ]);
    await server.closeAndWait();
  });

  it('gives each link its own schemas (mesh links read and write one union)', () => {
    expect(MESH_LINK.receives).toBe(MESH_LINK.sends);
    expect(SERVER_SIDE.sends).toBe(CLIENT_SIDE.receives);
    expect(SERVER_SIDE.receives).toBe(CLIENT_SIDE.sends);
  });
});

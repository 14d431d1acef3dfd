import net from 'node:net';
import { expectCleanStderr } from '../helpers/e2e-chat';
import { closeAllRawClients, RawLink } from '../helpers/raw-client';
import { startChat } from '../helpers/peer-process';
import { encodeFrame, FrameDecoder } from '../../src/protocol/codec';
import { MeshFrame } from '../../src/protocol/mesh-frames';

/** Sockets and servers opened by these tests, closed after each. */
const opened: Array<net.Server | net.Socket> = [];

afterEach(async () => {
  for (const item of opened.splice(0)) {
    if (item instanceof net.Server) item.close();
    else item.destroy();
  }
  await closeAllRawClients();
});

/** A raw member greeting `port` as `name`; it has finished joining once this resolves. */
async function greet(port: number, name: string): Promise<RawLink<MeshFrame>> {
  const link = await RawLink.open(port, MeshFrame);
  link.send({ type: 'hello', id: `h-${name}`, v: 1, name, peer: `p-${name}`, port: 1 });
  await link.waitFor((f) => f.type === 'welcome', `welcome for ${name}`);
  link.send({ type: 'joined' });
  return link;
}

/** The first frame dialled to a fake member's port, and a way to answer on that link. */
interface Dialled {
  readonly frame: MeshFrame;
  reply(frame: MeshFrame): void;
}

/** A listening socket on 127.0.0.1 standing in for a member's port; `firstFrame` resolves with what is dialled to it. */
async function fakeMemberPort(): Promise<{ port: number; firstFrame: Promise<Dialled> }> {
  let deliver!: (dialled: Dialled) => void;
  const firstFrame = new Promise<Dialled>((resolve) => (deliver = resolve));
  const server = net.createServer((socket) => {
    opened.push(socket);
    socket.on('error', () => undefined);
    const reply = (frame: MeshFrame): void => void socket.write(encodeFrame(frame));
    const decoder = new FrameDecoder(
      MeshFrame,
      { maxFrameBytes: 1 << 16 },
      {
        frame: (frame) => deliver({ frame, reply }),
        error: () => undefined,
      },
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  });
  opened.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, firstFrame };
}

// docs/protocol-mesh.md, "Joining": member lists are gossiped, and a listed member one lacks is dialled.
describe('peer mode: gossip', () => {
  afterEach(() => expectCleanStderr()); // docs/usage.md "How output looks": nothing on stderr in these runs

  it('tells every member the new member list when a new member is accepted', async () => {
    const alice = await startChat('alice');
    const xav = await greet(alice.port, 'xav');
    const from = xav.frames.length;
    await greet(alice.port, 'yan');
    const gossip = await xav.waitFor((f) => f.type === 'members', 'members gossip', 5000, from);
    expect(gossip).toMatchObject({ type: 'members', members: [{ name: 'yan', peer: 'p-yan', port: 1 }] });
  });

  it('dials a member it learned of only from a members frame, expecting that instance, and gossips it once linked', async () => {
    const alice = await startChat('alice');
    const zed = await fakeMemberPort();
    const xav = await greet(alice.port, 'xav');
    xav.send({ type: 'members', members: [{ name: 'zed', peer: 'p-zed', host: '127.0.0.1', port: zed.port }] });
    const dialled = await zed.firstFrame;
    expect(dialled.frame).toMatchObject({ type: 'hello', name: 'alice', to: 'p-zed' });
    // The link alice opened is accepted: she tells her other members (the dialling side gossips too).
    const from = xav.frames.length;
    dialled.reply({
      type: 'welcome',
      id: (dialled.frame as { id: string }).id,
      name: 'zed',
      peer: 'p-zed',
      members: [],
    });
    const gossip = await xav.waitFor((f) => f.type === 'members', 'members gossip', 5000, from);
    expect(gossip).toMatchObject({ type: 'members', members: [{ name: 'zed', peer: 'p-zed', port: zed.port }] });
  });
});

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { ClientProcess } from '../helpers/hostile-server';
import { closeAllRawClients, RawLink } from '../helpers/raw-socket';
import { MeshFrame } from '../../src/protocol/mesh-frames';

/**
 * Hostile input on a mesh peer's listen port (SPEC §6, §7: "all modes"):
 * garbage, binary noise, oversized and half-sent frames are refused, and the
 * two real peers keep chatting, each message shown once.
 */

const PEER_ARGS = ['--max-invalid-frames', '3', '--max-frame-bytes', '8192', '--frame-timeout', '500'];

let ann: ClientProcess;
let ben: ClientProcess;
let round = 0;

beforeAll(async () => {
  ann = await ClientProcess.peer('ann', null, PEER_ARGS);
  const from = ann.mark();
  ben = await ClientProcess.peer('ben', ann.meshPort, PEER_ARGS);
  await ann.waitForLine('>>> [ben has joined the chat]', from);
}, 20_000);

afterAll(async () => {
  await closeAllRawClients();
  await Promise.all([ann, ben].map((p) => p?.stop()));
});

async function meshLink(options: { answerPings?: boolean } = {}): Promise<RawLink<MeshFrame>> {
  return RawLink.open(ann.meshPort, MeshFrame, options);
}

/** ben → ann and ann → ben still arrive, once each; nothing went to stderr. */
async function assertMeshHealthy(): Promise<void> {
  const n = ++round;
  const [fromAnn, fromBen] = [ann.mark(), ben.mark()];
  ben.type(`from ben ${n}`);
  ann.type(`from ann ${n}`);
  await ann.waitForLine(`>>> ben: from ben ${n}`, fromAnn);
  await ben.waitForLine(`>>> ann: from ann ${n}`, fromBen);
  expect([ann.count(`>>> ben: from ben ${n}`), ben.count(`>>> ann: from ann ${n}`)]).toEqual([1, 1]);
  expect([ann.alive, ben.alive]).toEqual([true, true]);
  expect([ann.stderr, ben.stderr]).toEqual(['', '']);
}

describe("hostile input on a mesh peer's port", () => {
  it('garbage lines: invalid_json, then too_many_invalid and a close', async () => {
    const link = await meshLink();
    await link.sendRaw('hi\nthere\n{"type":\nSSH-2.0\n');
    expect(await link.waitClosed()).toEqual(['invalid_json', 'invalid_json', 'invalid_json', 'too_many_invalid']);
    await assertMeshHealthy();
  });

  it('binary noise and a multi-megabyte line are refused with a close', async () => {
    const noise = await meshLink();
    await noise.sendRaw(randomBytes(128 * 1024));
    const codes = await noise.waitClosed();
    expect(['too_many_invalid', 'frame_too_large']).toContain(codes[codes.length - 1]);
    const big = await meshLink();
    await big.sendRaw(Buffer.alloc(2 * 1024 * 1024, 'm'));
    expect(await big.waitClosed()).toEqual(['frame_too_large']);
    await assertMeshHealthy();
  });

  it('a chat message on a link that never said hello is never shown', async () => {
    const link = await meshLink();
    link.send({ type: 'msg', id: 'sneaky-1', text: 'unannounced' });
    link.send({ type: 'bye' });
    link.send({ type: 'members', members: [{ name: 'ghost', peer: 'p-ghost', host: '127.0.0.1', port: 1 }] });
    await assertMeshHealthy();
    expect(ann.stdout.some((l) => l.includes('unannounced') || l.includes('ghost'))).toBe(false);
    link.close();
  });

  it('a half-sent frame held open is closed with frame_timeout', async () => {
    const link = await meshLink({ answerPings: false });
    await link.sendRaw('{"type":"hello","id":"slow"');
    expect(await link.waitClosed(5000)).toEqual(['frame_timeout']);
    await assertMeshHealthy();
  });
});

describe('mesh name theft', () => {
  // Fresh peers per case: a successful theft breaks the mesh it happens in.
  it.each(['member', 'greeted peer itself'])('a stranger greeting with the name of the %s and a tiny instance id is refused; nobody is pushed out', async (target) => {
    const cat = await ClientProcess.peer('cat', null, PEER_ARGS);
    let dan: ClientProcess | null = null;
    try {
      const joined = cat.mark();
      dan = await ClientProcess.peer('dan', cat.meshPort, PEER_ARGS);
      await cat.waitForLine('>>> [dan has joined the chat]', joined);
      const name = target === 'member' ? 'dan' : 'cat';
      const link = await RawLink.open(cat.meshPort, MeshFrame);
      const [fromCat, fromDan] = [cat.mark(), dan.mark()];
      link.send({ type: 'hello', id: `steal-${name}`, v: 1, name, peer: '00000000-0000-7000-8000-000000000000', port: 1 });
      // SPEC §6: a name already used in the mesh is refused
      const verdict = await link.waitFor((f) => f.type === 'error' || f.type === 'welcome', 'a verdict on the hello').catch((e: Error) => e.message);
      expect(verdict).toMatchObject({ type: 'error', code: 'name_in_use' });
      dan.type('still here');
      await cat.waitForLine('>>> dan: still here', fromCat);
      for (const [p, from] of [[cat, fromCat], [dan, fromDan]] as const) {
        expect(p.stdout.slice(from).filter((l) => /already in use|disconnected|has left/.test(l))).toEqual([]);
        expect(p.alive).toBe(true);
      }
    } finally {
      await Promise.all([cat.stop(), dan?.stop()]);
    }
  });
});

describe('mesh gossip flood', () => {
  it('a greeted stranger gossiping 900 unreachable members neither shows them nor stalls the chat', async () => {
    const cat = await ClientProcess.peer('cat', null); // default 64 KiB frames: the gossip must fit
    let dan: ClientProcess | null = null;
    try {
      const joined = cat.mark();
      dan = await ClientProcess.peer('dan', cat.meshPort);
      await cat.waitForLine('>>> [dan has joined the chat]', joined);
      const closedPort = await freePort(); // bound and released: connections to it are refused
      const eve = await RawLink.open(cat.meshPort, MeshFrame);
      const from = cat.mark();
      eve.send({ type: 'hello', id: 'eve-hello', v: 1, name: 'eve', peer: 'ffffffff-ffff-7fff-bfff-ffffffffffff', port: closedPort });
      await eve.waitFor((f) => f.type === 'welcome', 'welcome');
      eve.send({ type: 'joined' });
      const fakes = Array.from({ length: 900 }, (_, i) => ({ name: `f${i}`, peer: `p${i}`, host: '127.0.0.1', port: closedPort }));
      eve.send({ type: 'members', members: fakes });
      eve.send({ type: 'msg', id: 'eve-1', text: 'from eve' });
      await cat.waitForLine('>>> eve: from eve', from);
      const fromDan = dan.mark();
      cat.type('after the flood');
      await dan.waitForLine('>>> cat: after the flood', fromDan);
      expect(cat.stdout.slice(from).filter((l) => /\bf\d+\b/.test(l))).toEqual([]);
      expect([cat.alive, dan.alive]).toEqual([true, true]);
      expect([cat.stderr, dan.stderr]).toEqual(['', '']);
      expect(cat.rssMb()).toBeLessThan(300);
    } finally {
      await Promise.all([cat.stop(), dan?.stop()]);
    }
  });
});

/** A port that was free a moment ago (bound on 127.0.0.1 port 0, then released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

import { randomBytes } from 'node:crypto';
import { joinChat, startChat, type StartedPeer } from '../helpers/peer-process';
import { closedPort as freePort } from '../helpers/ports';
import { closeAllRawClients, RawLink } from '../helpers/raw-client';
import { MeshFrame } from '../../src/protocol/mesh-frames';

/**
 * Hostile input on a mesh peer's listen port (docs/usage.md "Peer mode"; docs/protocol.md "Limits": "all modes"):
 * garbage, binary noise, oversized and half-sent frames are refused, and the
 * two real peers keep chatting, each message shown once.
 */

const PEER_ARGS = ['--max-invalid-frames', '3', '--max-frame-bytes', '8192', '--frame-timeout', '500'];

let ann: StartedPeer;
let ben: StartedPeer;
let round = 0;

beforeAll(async () => {
  ann = await startChat('ann', PEER_ARGS, { keepAcrossTests: true });
  const from = ann.proc.mark();
  ben = await joinChat('ben', [ann.address], 1, PEER_ARGS, { keepAcrossTests: true });
  await ann.proc.waitForLine('>>> [ben has joined the chat]', { from });
}, 20_000);

afterAll(async () => {
  await closeAllRawClients();
  await Promise.all([ann, ben].map((p) => p?.proc.stop('endInput')));
});

async function meshLink(options: { answerPings?: boolean } = {}): Promise<RawLink<MeshFrame>> {
  return RawLink.open(ann.port, MeshFrame, options);
}

/** ben → ann and ann → ben still arrive, once each; nothing went to stderr. */
async function assertMeshHealthy(): Promise<void> {
  const n = ++round;
  const [fromAnn, fromBen] = [ann.proc.mark(), ben.proc.mark()];
  ben.proc.send(`from ben ${n}`);
  ann.proc.send(`from ann ${n}`);
  await ann.proc.waitForLine(`>>> ben: from ben ${n}`, { from: fromAnn });
  await ben.proc.waitForLine(`>>> ann: from ann ${n}`, { from: fromBen });
  const count = (p: StartedPeer, line: string): number => p.proc.linesMatching(line).length;
  expect([count(ann, `>>> ben: from ben ${n}`), count(ben, `>>> ann: from ann ${n}`)]).toEqual([1, 1]);
  expect([ann.proc.alive, ben.proc.alive]).toEqual([true, true]);
  expect([ann.proc.output('stderr'), ben.proc.output('stderr')]).toEqual(['', '']);
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
    expect(ann.proc.lines().some((l) => l.includes('unannounced') || l.includes('ghost'))).toBe(false);
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
  it.each(['member', 'greeted peer itself'])(
    'a stranger greeting with the name of the %s and a tiny instance id is refused; nobody is pushed out',
    async (target) => {
      const cat = await startChat('cat', PEER_ARGS);
      let dan: StartedPeer | null = null;
      try {
        const joined = cat.proc.mark();
        dan = await joinChat('dan', [cat.address], 1, PEER_ARGS);
        await cat.proc.waitForLine('>>> [dan has joined the chat]', { from: joined });
        const name = target === 'member' ? 'dan' : 'cat';
        const link = await RawLink.open(cat.port, MeshFrame);
        const [fromCat, fromDan] = [cat.proc.mark(), dan.proc.mark()];
        link.send({
          type: 'hello',
          id: `steal-${name}`,
          v: 1,
          name,
          peer: '00000000-0000-7000-8000-000000000000',
          port: 1,
        });
        // docs/usage.md "Peer mode": a name already used in the mesh is refused
        const verdict = await link
          .waitFor((f) => f.type === 'error' || f.type === 'welcome', 'a verdict on the hello')
          .catch((e: Error) => e.message);
        expect(verdict).toMatchObject({ type: 'error', code: 'name_in_use' });
        dan.proc.send('still here');
        await cat.proc.waitForLine('>>> dan: still here', { from: fromCat });
        for (const [p, from] of [
          [cat, fromCat],
          [dan, fromDan],
        ] as const) {
          expect(p.proc.lines('stdout', from).filter((l) => /already in use|disconnected|has left/.test(l))).toEqual(
            [],
          );
          expect(p.proc.alive).toBe(true);
        }
      } finally {
        await Promise.all([cat.proc.stop('endInput'), dan?.proc.stop('endInput')]);
      }
    },
  );
});

describe('mesh gossip flood', () => {
  it('a greeted stranger gossiping 900 unreachable members neither shows them nor stalls the chat', async () => {
    const cat = await startChat('cat'); // default 64 KiB frames: the gossip must fit
    let dan: StartedPeer | null = null;
    try {
      const joined = cat.proc.mark();
      dan = await joinChat('dan', [cat.address], 1);
      await cat.proc.waitForLine('>>> [dan has joined the chat]', { from: joined });
      const closedPort = await freePort(); // bound and released: connections to it are refused
      const eve = await RawLink.open(cat.port, MeshFrame);
      const from = cat.proc.mark();
      eve.send({
        type: 'hello',
        id: 'eve-hello',
        v: 1,
        name: 'eve',
        peer: 'ffffffff-ffff-7fff-bfff-ffffffffffff',
        port: closedPort,
      });
      await eve.waitFor((f) => f.type === 'welcome', 'welcome');
      eve.send({ type: 'joined' });
      const fakes = Array.from({ length: 900 }, (_, i) => ({
        name: `f${i}`,
        peer: `p${i}`,
        host: '127.0.0.1',
        port: closedPort,
      }));
      eve.send({ type: 'members', members: fakes });
      eve.send({ type: 'msg', id: 'eve-1', text: 'from eve' });
      await cat.proc.waitForLine('>>> eve: from eve', { from });
      const fromDan = dan.proc.mark();
      cat.proc.send('after the flood');
      await dan.proc.waitForLine('>>> cat: after the flood', { from: fromDan });
      expect(cat.proc.lines('stdout', from).filter((l) => /\bf\d+\b/.test(l))).toEqual([]);
      expect([cat.proc.alive, dan.proc.alive]).toEqual([true, true]);
      expect([cat.proc.output('stderr'), dan.proc.output('stderr')]).toEqual(['', '']);
      expect(cat.proc.rssMb()).toBeLessThan(300);
    } finally {
      await Promise.all([cat.proc.stop('endInput'), dan?.proc.stop('endInput')]);
    }
  });
});

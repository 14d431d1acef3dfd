import net from 'node:net';
import { joinChat, spawnPeer, startChat, type StartedPeer } from '../helpers/peer-process';
import { closeAllRawClients, RawLink } from '../helpers/raw-client';
import { MeshFrame } from '../../src/protocol/mesh-frames';
import { CLAIM_CREDIT } from '../../src/peer/vouch-ledger';

/**
 * Mesh gossip must not turn members into a traffic amplifier
 * (docs/security.md, "Peer mode"; docs/protocol-mesh.md, "Dialling gossiped
 * members"). A raw-socket member lies in `members` frames, naming hundreds
 * of fake members at addresses outside the mesh; listeners standing for those
 * outside addresses count the connections the real peers open to them. The
 * count must stay within the documented bound, and the honest members must
 * keep chatting (each message shown once) while the lie goes on.
 */

/** A 2 s ack deadline: on a loaded 2-core machine a late ack must not read as a lost message. */
const PEER_ARGS = ['--ack-timeout', '2000'];
const FAKES_PER_LIST = 800;
const ROUND_MS = 200;
const ROUNDS = 15; // 3 s of gossip, as in the review: 800 fakes every 200 ms

let peers: StartedPeer[] = [];
const listeners: net.Server[] = [];
let chatRound = 0;

beforeAll(async () => {
  const kept = { keepAcrossTests: true };
  const ann = await startChat('ann', PEER_ARGS, kept);
  const ben = await joinChat('ben', [ann.address], 1, PEER_ARGS, kept);
  const cat = await joinChat('cat', [ann.address], 2, PEER_ARGS, kept);
  peers = [ann, ben, cat];
  await ann.proc.waitForLine('>>> [cat has joined the chat]', { from: 0 });
  await ben.proc.waitForLine('>>> [cat has joined the chat]', { from: 0 });
}, 20_000);

afterAll(async () => {
  await closeAllRawClients();
  for (const server of listeners) server.close();
  await Promise.all(peers.map((p) => p.proc.stop('endInput')));
});

/** A listener on 127.0.0.1 standing for an outside service: it counts the connections it gets and drops each at once. */
async function outsideAddress(): Promise<{ port: number; connections: () => number }> {
  let count = 0;
  const server = net.createServer((socket) => {
    count++;
    socket.on('error', () => undefined);
    socket.destroy();
  });
  listeners.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, connections: () => count };
}

/** Greets every real peer as member `name` (finished joining), claiming to listen on `port`. */
async function joinAs(name: string, instance: string, port: number): Promise<Array<RawLink<MeshFrame>>> {
  return Promise.all(
    peers.map(async (peer) => {
      const link = await RawLink.open(peer.port, MeshFrame);
      link.send({ type: 'hello', id: `${name}-hello`, v: 1, name, peer: instance, port });
      await link.waitFor((f) => f.type === 'welcome', `welcome for ${name}`);
      link.send({ type: 'joined' });
      return link;
    }),
  );
}

/**
 * Sends a fresh list of fake members on every link each ROUND_MS, ROUNDS times;
 * `ports(i)` is the port of fake i. Resolves once every link has acked a
 * message sent after the last list, so each peer has handled every list.
 */
async function gossipLies(links: Array<RawLink<MeshFrame>>, tag: string, ports: (i: number) => number): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    const fakes = Array.from({ length: FAKES_PER_LIST }, (_, i) => ({
      name: `${tag}${round}x${i}`,
      peer: `${tag}-${round}-${i}`,
      host: '127.0.0.1',
      port: ports(i),
    }));
    for (const link of links) link.send({ type: 'members', members: fakes });
    await new Promise((resolve) => setTimeout(resolve, ROUND_MS)); // the attack's cadence, not a wait for an event
  }
  await Promise.all(
    links.map((link, i) => {
      const from = link.frames.length;
      link.send({ type: 'msg', id: `${tag}-probe-${i}`, text: 'probe' });
      return link.waitFor((f) => f.type === 'msg_ack' && f.id === `${tag}-probe-${i}`, 'probe ack', 10_000, from);
    }),
  );
}

/** A line typed by each honest peer reaches the other two exactly once; nobody left or went to stderr. */
async function assertHonestChat(): Promise<void> {
  const n = ++chatRound;
  const marks = peers.map((p) => p.proc.mark());
  for (const p of peers) p.proc.send(`${p.name} says ${n}`);
  for (const [i, p] of peers.entries()) {
    for (const sender of peers.filter((s) => s !== p)) {
      const line = `>>> ${sender.name}: ${sender.name} says ${n}`;
      await p.proc.waitForLine(line, { from: marks[i] });
      expect(p.proc.linesMatching(line, { from: marks[i] })).toHaveLength(1);
    }
  }
  for (const [i, p] of peers.entries()) {
    expect(p.proc.linesMatching(/disconnected|has left|No ACK from (ann|ben|cat)/, { from: marks[i] })).toEqual([]);
  }
  expect(peers.map((p) => p.proc.alive)).toEqual([true, true, true]);
  expect(peers.map((p) => p.proc.output('stderr'))).toEqual(['', '', '']);
}

describe('mesh gossip as a traffic amplifier', () => {
  it(`800 fake members at one outside address every ${ROUND_MS} ms: that address gets at most one connection per peer; the others keep chatting`, async () => {
    const outside = await outsideAddress();
    // eve even claims the outside address as her own port: peers that learn of her by gossip dial it too.
    const eve = await joinAs('eve', 'ffffffff-ffff-7fff-bfff-fffffffffffe', outside.port);
    const attack = gossipLies(eve, 'a', () => outside.port);
    await assertHonestChat(); // during the attack
    await attack;
    await assertHonestChat();
    // docs/protocol-mesh.md: an address whose dial failed is not dialled again from gossip for 30 s
    expect(outside.connections()).toBeLessThanOrEqual(peers.length);
  }, 30_000);

  it(`fakes spread over many outside ports: each peer opens at most ${CLAIM_CREDIT} connections on the liar's word`, async () => {
    const outside = await Promise.all(Array.from({ length: 16 }, () => outsideAddress()));
    const decoy = await outsideAddress(); // mallory's own claimed port: dropped connections, not counted
    const mallory = await joinAs('mallory', 'ffffffff-ffff-7fff-bfff-fffffffffffd', decoy.port);
    const attack = gossipLies(mallory, 'b', (i) => outside[i % outside.length]!.port);
    await assertHonestChat();
    // A newcomer joining during the lie still reaches every honest member (mallory's claimed port drops every connection).
    const dan = spawnPeer('dan', [peers[1]!.address], PEER_ARGS);
    try {
      await dan.waitForLine(/^>>> \[Joined the chat with \d+ other peers?\]$/, { from: 0 });
      expect(dan.lines()).toContain('>>> [Joined the chat with 3 other peers]');
      const marks = peers.map((p) => p.proc.mark());
      dan.send('dan is here');
      await Promise.all(peers.map((p, i) => p.proc.waitForLine('>>> dan: dan is here', { from: marks[i] })));
    } finally {
      await dan.stop('endInput');
    }
    await attack;
    await assertHonestChat();
    const total = outside.reduce((sum, o) => sum + o.connections(), 0);
    // docs/protocol-mesh.md: a member's word is good for CLAIM_CREDIT failed dials, then its gossip is ignored
    expect(total).toBeLessThanOrEqual(peers.length * CLAIM_CREDIT);
  }, 30_000);
});

import { expectCleanStderr } from '../helpers/e2e-chat';
import type { CliProcess } from '../../testkit/cli-process';
import { joinChat, listPeers, reachablePort, spawnPeer, startChat, type StartedPeer } from '../helpers/peer-process';

/** Waits until `peer` knows `other`: counted in its join, or announced after it. */
async function waitUntilLinked(peer: CliProcess, other: string, joinedWith: number): Promise<void> {
  await peer.waitForLine(
    new RegExp(
      `^>>> \\[(Joined the chat with ${joinedWith} other ${joinedWith === 1 ? 'peer' : 'peers'}|${other} has joined the chat)\\]$`,
    ),
    { from: 0 },
  );
}

// docs/usage.md "Peer mode": no split view when peers join at the same moment through different members.
describe('peer mode: simultaneous joins', () => {
  afterEach(() => expectCleanStderr()); // docs/usage.md "How output looks": nothing on stderr in these runs

  it('two peers joining at once through different members end up connected to everyone', async () => {
    const alice = await startChat('alice');
    const bob = await joinChat('bob', [alice.address], 1);
    const carolProc = spawnPeer('carol', [alice.address]);
    const daveProc = spawnPeer('dave', [bob.address]);
    const [carolPort, davePort] = await Promise.all([reachablePort(carolProc), reachablePort(daveProc)]);
    const carol: StartedPeer = { proc: carolProc, name: 'carol', port: carolPort, address: `127.0.0.1:${carolPort}` };
    const dave: StartedPeer = { proc: daveProc, name: 'dave', port: davePort, address: `127.0.0.1:${davePort}` };

    for (const p of [alice, bob]) {
      await p.proc.waitForLine('>>> [carol has joined the chat]', { from: 0 });
      await p.proc.waitForLine('>>> [dave has joined the chat]', { from: 0 });
    }
    await waitUntilLinked(carol.proc, 'dave', 3);
    await waitUntilLinked(dave.proc, 'carol', 3);

    const everyone = [alice, bob, carol, dave];
    for (const p of everyone) {
      const expected = everyone.filter((o) => o !== p).map((o) => `${o.name} ${o.address}`);
      expect(await listPeers(p, 3)).toEqual(expected);
    }
    // And a message from each newcomer reaches every other member once.
    carol.proc.send('hi from carol');
    dave.proc.send('hi from dave');
    for (const p of everyone) {
      for (const sender of [carol, dave].filter((s) => s !== p)) {
        await p.proc.waitForLine(`>>> ${sender.name}: hi from ${sender.name}`, { from: 0 });
      }
    }
  });

  it('refuses one of two peers that join at once with the same name through different members', async () => {
    const alice = await startChat('alice');
    const bob = await joinChat('bob', [alice.address], 1);
    const first = spawnPeer('carol', [alice.address]);
    const second = spawnPeer('carol', [bob.address]);
    const loser = await Promise.race([first.exit.then(() => first), second.exit.then(() => second)]);
    const winner = loser === first ? second : first;
    expect(loser.exited?.code).toBe(1);
    expect(loser.linesMatching('>>> [Name carol is already in use. Try another one.]')).toHaveLength(1);
    const winnerPort = await reachablePort(winner);
    // The winner links to both members as part of its join (no one may refuse it).
    await winner.waitForLine('>>> [Joined the chat with 2 other peers]', { from: 0 });
    for (const p of [alice, bob]) {
      await p.proc.waitForLine('>>> [carol has joined the chat]', { from: 0 });
      expect((await listPeers(p, 2)).filter((e) => e.startsWith('carol '))).toEqual([`carol 127.0.0.1:${winnerPort}`]);
    }
    expect(winner.exited).toBeNull();
  });
});

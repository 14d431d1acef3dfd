import { expectCleanStderr } from '../helpers/e2e-chat';
import { startCli } from '../../testkit/cli-process';
import { closedPort } from '../helpers/ports';
import { joinChat, listPeers, reachablePort, spawnPeer, startChat } from '../helpers/peer-process';

// docs/usage.md "Peer mode": create, join through any member, name uniqueness, messages exactly once.
describe('peer mode: joining and messages', () => {
  afterEach(() => expectCleanStderr()); // docs/usage.md "How output looks": nothing on stderr in these runs

  it('starts a new chat, joins via the first live address, and a third peer joins via the second member', async () => {
    const dead = await closedPort();
    const alice = await startChat('alice');
    const bob = await joinChat('bob', [`127.0.0.1:${dead}`, alice.address], 1);
    await alice.proc.waitForLine('>>> [bob has joined the chat]');
    const carol = await joinChat('carol', [bob.address], 2);
    await alice.proc.waitForLine('>>> [carol has joined the chat]');
    await bob.proc.waitForLine('>>> [carol has joined the chat]');

    expect(await listPeers(carol, 2)).toEqual([`alice ${alice.address}`, `bob ${bob.address}`]);
    expect(await listPeers(alice, 2)).toEqual([`bob ${bob.address}`, `carol ${carol.address}`]);

    // Every peer sends two messages, then a marker; once a receiver has every
    // marker, each message must have been shown on it exactly once.
    const peers = [alice, bob, carol];
    for (const p of peers) {
      p.proc.send(`one from ${p.name}`);
      p.proc.send(`two from ${p.name}`);
      p.proc.send(`done ${p.name}`);
    }
    for (const receiver of peers) {
      for (const sender of peers.filter((p) => p !== receiver)) {
        await receiver.proc.waitForLine(`>>> ${sender.name}: done ${sender.name}`, { from: 0 });
        for (const text of [`one from ${sender.name}`, `two from ${sender.name}`]) {
          expect(receiver.proc.linesMatching(`>>> ${sender.name}: ${text}`)).toHaveLength(1);
        }
      }
      expect(receiver.proc.linesMatching(new RegExp(`^>>> ${receiver.name}: `))).toEqual([]);
      expect(receiver.proc.linesMatching(/No ACK/)).toEqual([]);
    }
  });

  it('says [No peer answered] before starting a new chat when no given address answers; counts are grammatical', async () => {
    const dead = await closedPort();
    const lonely = spawnPeer('lonely', [`127.0.0.1:${dead}`]);
    await reachablePort(lonely);
    expect(lonely.lines()[0]).toBe('>>> [No peer answered]');
    expect(lonely.lines()[1]).toMatch(/^>>> \[New chat started, reachable at \S+:\d+\]$/);
    // Started without addresses: no such line.
    const alice = await startChat('alice');
    expect(alice.proc.linesMatching('>>> [No peer answered]')).toEqual([]);
    const bob = spawnPeer('bob', [alice.address]);
    await bob.waitForLine('>>> [Joined the chat with 1 other peer]', { from: 0 });
    const carol = spawnPeer('carol', [alice.address]);
    await carol.waitForLine('>>> [Joined the chat with 2 other peers]', { from: 0 });
  });

  it('refuses a name already in the mesh with exit code 1', async () => {
    const alice = await startChat('alice');
    await joinChat('bob', [alice.address], 1);
    await alice.proc.waitForLine('>>> [bob has joined the chat]');
    const before = alice.proc.mark();
    const dupBob = spawnPeer('bob', [alice.address]);
    await dupBob.waitForLine('>>> [Name bob is already in use. Try another one.]');
    expect((await dupBob.waitForExit()).code).toBe(1);
    const dupAlice = spawnPeer('alice', [alice.address]);
    await dupAlice.waitForLine('>>> [Name alice is already in use. Try another one.]');
    expect((await dupAlice.waitForExit()).code).toBe(1);
    expect(alice.proc.linesMatching(/has joined/, { from: before })).toEqual([]);
  });

  it('ignores empty lines, lists the commands, and refuses an over-long message without sending it', async () => {
    const alice = await startChat('alice', ['--max-message-length', '10']);
    const bob = await joinChat('bob', [alice.address], 1);
    alice.proc.send('');
    alice.proc.send('   ');
    alice.proc.send('help');
    await alice.proc.waitForLines(['>>> peers', '>>> exit', '>>> help', '>>> <message>']);
    alice.proc.send('x'.repeat(11));
    await alice.proc.waitForLine('>>> [Message too long: 11 characters, maximum is 10. Not sent.]');
    alice.proc.send('short');
    await bob.proc.waitForLine('>>> alice: short');
    expect(bob.proc.linesMatching(/^>>> alice: /)).toEqual(['>>> alice: short']);
  });
});

describe('peer mode: listen port', () => {
  it('reports a listen port in use on stderr with exit code 1', async () => {
    const alice = await startChat('alice');
    const second = startCli(['-p', 'zed', String(alice.port)], { label: 'peer zed' });
    await second.waitForLine(`>>> [Port ${alice.port} is already in use]`, { stream: 'stderr' });
    expect((await second.waitForExit()).code).toBe(1);
  });
});

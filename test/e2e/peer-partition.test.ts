import { expectCleanStderr } from '../helpers/e2e-chat';
import { joinChat, listPeers, startChat } from '../helpers/peer-process';

// docs/protocol-mesh.md "Partitions": a member cut off (here: stopped) is
// reported disconnected, then re-linked once it answers again.
describe('peer mode: partitions', () => {
  afterEach(() => expectCleanStderr()); // docs/usage.md "How output looks": nothing on stderr in these runs

  it('re-links a member that went silent once it answers again', async () => {
    const limits = ['--heartbeat', '100', '--ack-timeout', '200', '--retries', '2'];
    const alice = await startChat('alice', limits);
    const bob = await joinChat('bob', [alice.address], 1, limits);
    await alice.proc.waitForLine('>>> [bob has joined the chat]');

    bob.proc.kill('SIGSTOP');
    await alice.proc.waitForLine('>>> [bob disconnected]');
    bob.proc.kill('SIGCONT');
    await alice.proc.waitForLine('>>> [bob has joined the chat]');

    expect(await listPeers(alice, 1)).toEqual([`bob ${bob.address}`]);
    alice.proc.send('welcome back');
    await bob.proc.waitForLine('>>> alice: welcome back', { from: 0 });
    bob.proc.send('thanks');
    await alice.proc.waitForLine('>>> bob: thanks');
  });
});

import { expectCleanStderr } from '../helpers/e2e-chat';
import { joinChat, startChat } from '../helpers/peer-process';

// docs/usage.md "Peer mode": leaving with a goodbye, and members that vanish without one.
describe('peer mode: leaving', () => {
  afterEach(() => expectCleanStderr()); // docs/usage.md "How output looks": nothing on stderr in these runs

  it('says goodbye on exit, end of input and SIGTERM, each with exit code 0', async () => {
    const alice = await startChat('alice');
    const bob = await joinChat('bob', [alice.address], 1);
    const carol = await joinChat('carol', [alice.address], 2);
    const dave = await joinChat('dave', [bob.address], 3);

    bob.proc.send('exit');
    expect((await bob.proc.waitForExit()).code).toBe(0);
    carol.proc.endInput();
    expect((await carol.proc.waitForExit()).code).toBe(0);
    dave.proc.kill('SIGTERM');
    expect((await dave.proc.waitForExit()).code).toBe(0);

    await alice.proc.waitForLines([
      '>>> [bob has left the chat]',
      '>>> [carol has left the chat]',
      '>>> [dave has left the chat]',
    ]);
    expect(alice.proc.linesMatching(/disconnected/)).toEqual([]);
    // docs/usage.md "Peer mode": the one leaving is told too, as its last line.
    for (const peer of [bob, carol, dave]) expect(peer.proc.lines().at(-1)).toBe('>>> [You left the chat]');
  });

  it('reports a member killed without goodbye as disconnected', async () => {
    const alice = await startChat('alice', ['--heartbeat', '100']);
    const bob = await joinChat('bob', [alice.address], 1, ['--heartbeat', '100']);
    bob.proc.kill('SIGKILL');
    await alice.proc.waitForLine('>>> [bob disconnected]');
  });

  it('detects a stopped (silent) member by heartbeat', async () => {
    const alice = await startChat('alice', ['--heartbeat', '100']);
    const bob = await joinChat('bob', [alice.address], 1, ['--heartbeat', '100']);
    bob.proc.kill('SIGSTOP');
    await alice.proc.waitForLine('>>> [bob disconnected]');
  });

  it('reports a member that does not ack a message in time', async () => {
    const limits = ['--heartbeat', '5000', '--ack-timeout', '200'];
    const alice = await startChat('alice', limits);
    const bob = await joinChat('bob', [alice.address], 1, limits);
    const carol = await joinChat('carol', [alice.address], 2, limits);
    await bob.proc.waitForLine('>>> [carol has joined the chat]');
    bob.proc.kill('SIGSTOP');
    alice.proc.send('are you there');
    await carol.proc.waitForLine('>>> alice: are you there');
    await alice.proc.waitForLine('>>> [No ACK from bob, message not delivered]');
    expect(alice.proc.linesMatching(/No ACK from carol/)).toEqual([]);
  });
});

import { expectCleanStderr } from '../helpers/e2e-chat';
import { closeAllRawClients, RawLink } from '../helpers/raw-client';
import { joinChat, startChat } from '../helpers/peer-process';
import { MeshFrame } from '../../src/protocol/mesh-frames';

afterEach(() => closeAllRawClients());

// docs/protocol-mesh.md: what a peer's port answers to links that are not quite right.
describe('peer mode: link rules', () => {
  afterEach(() => expectCleanStderr()); // docs/usage.md "How output looks": nothing on stderr in these runs

  it('refuses a hello meant for another instance (a reused address) with wrong_recipient', async () => {
    const alice = await startChat('alice');
    const link = await RawLink.open(alice.port, MeshFrame);
    const from = alice.proc.mark();
    link.send({ type: 'hello', id: 'h1', v: 1, name: 'zed', peer: 'p-zed', port: 1, to: 'some-other-instance' });
    expect(await link.waitClosed()).toEqual(['wrong_recipient']);
    link.close();
    alice.proc.send('peers');
    await alice.proc.waitForLine('>>> [No other peers in the chat]', { from });
  });

  it('an established peer ignores a forged name_in_use and keeps chatting', async () => {
    const alice = await startChat('alice');
    const bob = await joinChat('bob', [alice.address], 1);
    const link = await RawLink.open(alice.port, MeshFrame);
    link.send({ type: 'hello', id: 'h1', v: 1, name: 'eve', peer: 'p-eve', port: 1 });
    await link.waitFor((f) => f.type === 'welcome', 'welcome');
    link.send({ type: 'error', code: 'name_in_use', message: 'Name alice is already in use' });
    link.send({ type: 'msg', id: 'e1', text: 'from eve' });
    await link.waitFor((f) => f.type === 'msg_ack', 'msg_ack');
    await alice.proc.waitForLine('>>> eve: from eve', { from: 0 });
    alice.proc.send('still here');
    await bob.proc.waitForLine('>>> alice: still here');
    expect(alice.proc.exited).toBeNull();
    expect(alice.proc.linesMatching(/already in use/)).toEqual([]);
  });

  it('answers a frame sent before hello with not_registered and shows nothing', async () => {
    const alice = await startChat('alice');
    const link = await RawLink.open(alice.port, MeshFrame);
    link.send({ type: 'msg', id: 'x1', text: 'sneaky' });
    await link.waitFor((f) => f.type === 'error' && f.code === 'not_registered', 'not_registered');
    link.send({ type: 'hello', id: 'h1', v: 2, name: 'zed', peer: 'p-zed', port: 1 });
    expect(await link.waitClosed()).toEqual(['not_registered', 'unsupported_version']);
    expect(alice.proc.linesMatching(/sneaky|zed/)).toEqual([]);
  });
});

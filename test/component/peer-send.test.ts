import { MeshPeer } from '../../src/peer/mesh-peer';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';

const LIMITS = { ...DEFAULT_LIMITS, maxMessageLength: 10, ackTimeoutMs: 2_000 };

const peers: MeshPeer[] = [];
afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.leave()));
});

async function started(name: string, addresses: { host: string; port: number }[] = []): Promise<MeshPeer> {
  const peer = new MeshPeer({ name, listenPort: 0, listenHost: '127.0.0.1', limits: LIMITS });
  peers.push(peer);
  await peer.start(addresses);
  return peer;
}

describe('MeshPeer.send results (values, never thrown, like ChatClient)', () => {
  it('resolves too_long past maxMessageLength and sends nothing', async () => {
    const alice = await started('alice');
    const bob = await started('bob', [{ host: '127.0.0.1', port: alice.port }]);
    const shown: string[] = [];
    alice.on('message', (from, text) => shown.push(`${from}: ${text}`));
    await expect(bob.send('x'.repeat(11))).resolves.toBe('too_long');
    const report = await bob.send('x'.repeat(10));
    expect(report).toEqual({ id: expect.any(String), recipients: ['alice'], missing: [] });
    expect(shown).toEqual([`bob: ${'x'.repeat(10)}`]); // only the message that fit
  });
});

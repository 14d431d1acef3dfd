import { MAX_PARALLEL_DIALS, MAX_QUEUED_DIALS, MemberDiscovery } from '../../src/peer/member-discovery';
import type { MeshLink } from '../../src/peer/mesh-link';
import { MemberTable } from '../../src/peer/member-table';
import { FakeClock } from '../helpers/fake-clock';

/** A discovery whose dials stay pending until the test finishes them. */
function setup() {
  const table = new MemberTable<MeshLink>({ name: 'bob', instance: 'i-bob' });
  const dials: Array<{ to: string; host: string; finish: () => void }> = [];
  const discovery = new MemberDiscovery({
    table,
    clock: new FakeClock(),
    heartbeatMs: 1000,
    active: () => true,
    dial: (address, to) =>
      new Promise<void>((resolve) => dials.push({ to, host: address.host, finish: resolve })),
  });
  const via = { remote: { name: 'alice', instance: 'i-alice', host: '10.0.0.7', port: 1 } } as unknown as MeshLink;
  return { discovery, dials, via };
}

const member = (i: number) => ({ name: `m${i}`, peer: `i-m${i}`, host: '127.0.0.1', port: 5000 + i });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('MemberDiscovery', () => {
  it('dials each gossiped member once, resolving loopback addresses through the member that sent the list', () => {
    const { discovery, dials, via } = setup();
    discovery.learn([member(1), member(1), { name: 'bob', peer: 'i-bob', host: '127.0.0.1', port: 1 }], via);
    discovery.learn([member(1)], via);
    expect(dials.map((d) => [d.to, d.host])).toEqual([['i-m1', '10.0.0.7']]);
  });

  it(`keeps at most ${MAX_PARALLEL_DIALS} dials in flight and settles when the queue is empty`, async () => {
    const { discovery, dials, via } = setup();
    discovery.learn(Array.from({ length: MAX_PARALLEL_DIALS + 10 }, (_, i) => member(i)), via);
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS);
    let settled = false;
    void discovery.settled().then(() => (settled = true));
    for (let done = 0; done < dials.length; done++) {
      dials[done]!.finish();
      await tick();
      expect(settled).toBe(done === MAX_PARALLEL_DIALS + 9);
    }
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS + 10);
  });

  it(`queues at most ${MAX_QUEUED_DIALS} dials; gossip beyond that is dropped (no dial storm)`, async () => {
    const { discovery, dials, via } = setup();
    const total = MAX_PARALLEL_DIALS + MAX_QUEUED_DIALS + 100;
    discovery.learn(Array.from({ length: total }, (_, i) => member(i)), via);
    for (let done = 0; done < dials.length; done++) {
      dials[done]!.finish();
      await tick();
    }
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS + MAX_QUEUED_DIALS);
  });
});

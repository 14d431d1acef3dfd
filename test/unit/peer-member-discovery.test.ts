import { FAILED_ADDRESS_BACKOFF_MS } from '../../src/peer/address-backoff';
import {
  MAX_DIALS_PER_SEC,
  MAX_PARALLEL_DIALS,
  MAX_QUEUED_DIALS,
  MemberDiscovery,
} from '../../src/peer/member-discovery';
import type { DialOutcome, MeshLink } from '../../src/peer/mesh-link';
import { MemberTable } from '../../src/peer/member-table';
import { CLAIM_CREDIT } from '../../src/peer/vouch-ledger';
import { FakeClock } from '../helpers/fake-clock';

interface PendingDial {
  readonly to: string;
  readonly host: string;
  readonly port: number;
  finish(outcome?: DialOutcome): void;
}

/** A discovery whose dials stay pending until the test finishes them. */
function setup(maxMembers = 1024) {
  const table = new MemberTable<MeshLink>({ name: 'bob', instance: 'i-bob' });
  const clock = new FakeClock();
  const dials: PendingDial[] = [];
  let active = true;
  const discovery = new MemberDiscovery({
    table,
    clock,
    heartbeatMs: 1000,
    maxMembers,
    active: () => active,
    dial: (address, to) =>
      new Promise<DialOutcome>((resolve) =>
        dials.push({ to, host: address.host, port: address.port, finish: (outcome = 'linked') => resolve(outcome) }),
      ),
  });
  const via = voucher('alice');
  return { discovery, dials, via, clock, table, leave: () => (active = false) };
}

/** A linked member that sends member lists (a voucher). */
const voucher = (name: string, host = '10.0.0.7') =>
  ({ remote: { name, instance: `i-${name}`, host, port: 1 } }) as unknown as MeshLink;
/** Enough vouchers to pay for `n` dials at once. */
const vouchers = (n: number) => Array.from({ length: Math.ceil(n / CLAIM_CREDIT) }, (_, i) => voucher(`v${i}`));

const member = (i: number, port = 5000 + i) => ({ name: `m${i}`, peer: `i-m${i}`, host: '127.0.0.1', port });
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Finishes every dial in order (with `outcome`), letting time pass so the dial rate never holds one back. */
async function finishAll(dials: PendingDial[], clock: FakeClock, outcome: DialOutcome = 'linked'): Promise<void> {
  for (let done = 0; done < dials.length; done++) {
    dials[done]!.finish(outcome);
    await tick();
    clock.advance(1000);
  }
}

describe('MemberDiscovery', () => {
  it('dials each gossiped member once, resolving loopback addresses through the member that sent the list', () => {
    const { discovery, dials, via } = setup();
    discovery.learn([member(1), member(1), { name: 'bob', peer: 'i-bob', host: '127.0.0.1', port: 1 }], via);
    discovery.learn([member(1)], via);
    expect(dials.map((d) => [d.to, d.host])).toEqual([['i-m1', '10.0.0.7']]);
  });

  it(`keeps at most ${MAX_PARALLEL_DIALS} dials in flight and settles when the queue is empty`, async () => {
    const { discovery, dials, clock } = setup();
    const list = Array.from({ length: MAX_PARALLEL_DIALS + 10 }, (_, i) => member(i));
    for (const via of vouchers(MAX_PARALLEL_DIALS)) discovery.learn(list, via);
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS);
    let settled = false;
    void discovery.settled().then(() => (settled = true));
    for (let done = 0; done < dials.length; done++) {
      dials[done]!.finish();
      await tick();
      clock.advance(1000);
      expect(settled).toBe(done === MAX_PARALLEL_DIALS + 9);
    }
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS + 10);
  });

  it(`queues at most ${MAX_QUEUED_DIALS} dials; gossip beyond that is dropped (no dial storm)`, async () => {
    const { discovery, dials, clock } = setup(1 << 16);
    const total = MAX_PARALLEL_DIALS + MAX_QUEUED_DIALS + 100;
    const list = Array.from({ length: total }, (_, i) => member(i));
    const all = vouchers(MAX_PARALLEL_DIALS);
    for (const via of all) discovery.learn(list.slice(0, MAX_PARALLEL_DIALS), via); // enough credit for a full flight
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS);
    discovery.learn(list, all[0]!);
    await finishAll(dials, clock);
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS + MAX_QUEUED_DIALS);
  });
});

// docs/protocol-mesh.md, "Dialling gossiped members"
describe('MemberDiscovery against a member that lies', () => {
  it(`dials at most ${CLAIM_CREDIT} members on one member's word until a claim holds, then ignores it once they all failed`, async () => {
    const { discovery, dials, via, clock } = setup();
    discovery.learn(
      Array.from({ length: 100 }, (_, i) => member(i)),
      via,
    );
    expect(dials).toHaveLength(CLAIM_CREDIT);
    await finishAll(dials, clock, 'failed');
    expect(dials).toHaveLength(CLAIM_CREDIT); // the rest were dropped: nobody else vouched for them
    discovery.learn(
      Array.from({ length: 100 }, (_, i) => member(1000 + i)),
      via,
    );
    expect(dials).toHaveLength(CLAIM_CREDIT); // its word is no longer taken
    expect(await Promise.race([discovery.settled().then(() => true), tick().then(() => false)])).toBe(true);
  });

  it('a claim that holds gives the credit back, so an honest member names any number of members', async () => {
    const { discovery, dials, via, clock } = setup();
    discovery.learn(
      Array.from({ length: 200 }, (_, i) => member(i)),
      via,
    );
    expect(dials).toHaveLength(CLAIM_CREDIT);
    await finishAll(dials, clock, 'linked');
    expect(dials).toHaveLength(200);
  });

  it('a member named by a liar is still dialled on the word of another member', async () => {
    const { discovery, dials, via, clock } = setup();
    discovery.learn(
      Array.from({ length: CLAIM_CREDIT }, (_, i) => member(i)),
      via,
    );
    await finishAll(dials, clock, 'failed');
    discovery.learn([member(50)], via);
    expect(dials).toHaveLength(CLAIM_CREDIT);
    discovery.learn([member(50)], voucher('carol'));
    expect(dials.map((d) => d.to).slice(CLAIM_CREDIT)).toEqual(['i-m50']);
  });

  it('dials one address once at a time, and not again for a while after a failure, however many members name it', async () => {
    const { discovery, dials, clock } = setup();
    const sameAddress = (round: number) => Array.from({ length: 800 }, (_, i) => member(round * 1000 + i, 9999));
    discovery.learn(sameAddress(0), voucher('eve'));
    expect(dials).toHaveLength(1);
    dials[0]!.finish('failed');
    await tick();
    discovery.learn(sameAddress(1), voucher('ann'));
    clock.advance(FAILED_ADDRESS_BACKOFF_MS - 1);
    discovery.learn(sameAddress(2), voucher('ben'));
    expect(dials).toHaveLength(1);
    clock.advance(1);
    discovery.learn(sameAddress(3), voucher('cat'));
    expect(dials.map((d) => d.port)).toEqual([9999, 9999]);
  });

  it(`starts at most ${MAX_DIALS_PER_SEC} dials a second after a burst of ${MAX_PARALLEL_DIALS}`, async () => {
    const { discovery, dials, clock } = setup();
    const list = Array.from({ length: 1000 }, (_, i) => member(i));
    for (const via of vouchers(1000)) discovery.learn(list, via);
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS);
    for (const dial of dials) dial.finish();
    await tick();
    expect(dials).toHaveLength(MAX_PARALLEL_DIALS);
    for (let second = 1; second <= 10; second++) {
      clock.advance(1000);
      for (const dial of dials) dial.finish();
      await tick();
      expect(dials.length - MAX_PARALLEL_DIALS).toBeLessThanOrEqual(second * MAX_DIALS_PER_SEC);
      expect(dials.length - MAX_PARALLEL_DIALS).toBeGreaterThanOrEqual(second * MAX_DIALS_PER_SEC - 1); // it does keep dialling
    }
  });

  it('dials nobody past the member limit, and nobody once the peer is leaving', async () => {
    const { discovery, dials, via, leave } = setup(3);
    discovery.learn([member(1), member(2), member(3), member(4), member(5)], via);
    expect(dials).toHaveLength(3);
    leave();
    for (const dial of dials) dial.finish('failed');
    await tick();
    discovery.learn([member(6)], voucher('carol'));
    expect(dials).toHaveLength(3);
  });
});

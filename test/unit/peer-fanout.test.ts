import { PendingAcks } from '../../src/net/pending-acks';
import { deliver, deliverToAll, type DeliveryLink, type EncodedMessage } from '../../src/peer/fanout';
import { encodeFrame } from '../../src/protocol/codec';
import type { MeshFrame } from '../../src/protocol/mesh-frames';
import { FakeClock } from '../helpers/fake-clock';

/** A link that records what was sent over it. */
class FakeLink implements DeliveryLink {
  readonly acks: PendingAcks<boolean>;
  readonly sent: Buffer[] = [];
  readonly conn = {
    open: true,
    sendEncoded: (bytes: EncodedMessage): void => {
      this.sent.push(bytes);
    },
  };

  constructor(clock: FakeClock) {
    this.acks = new PendingAcks<boolean>(clock);
  }
}

/** Lets promise callbacks run (no timers involved). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('mesh fan-out with acks', () => {
  const bytes = encodeFrame<MeshFrame>({ type: 'msg', id: 'm1', text: 'hi' });

  it('reports every member that did not ack within the ack timeout', async () => {
    const clock = new FakeClock();
    const links = new Map([
      ['alice', new FakeLink(clock)],
      ['bob', new FakeLink(clock)],
    ]);
    const sending = deliverToAll((n) => links.get(n), ['alice', 'bob'], 'm1', bytes, 500);
    await settle();
    links.get('alice')!.acks.settle('m1', true);
    clock.advance(499);
    await settle();
    links.get('bob')!.acks.settle('late', true);
    clock.advance(1);
    const report = await sending;
    expect(report).toEqual({ id: 'm1', recipients: ['alice', 'bob'], missing: ['bob'] });
    expect(clock.pending).toBe(0);
  });

  it('resends the same bytes over the new link when the link is replaced before the ack', async () => {
    const clock = new FakeClock();
    const first = new FakeLink(clock);
    const second = new FakeLink(clock);
    let current: FakeLink = first;
    const result = deliver(() => current, 'alice', 'm1', bytes, 500);
    await settle();
    current = second;
    first.conn.open = false;
    first.acks.closeAll();
    await settle();
    expect(second.sent).toEqual([bytes]);
    second.acks.settle('m1', true);
    await expect(result).resolves.toBe(true);
  });

  it('gives up when the member is gone, or refused the message', async () => {
    const clock = new FakeClock();
    await expect(deliver(() => undefined, 'ghost', 'm1', bytes, 500)).resolves.toBe(false);
    const link = new FakeLink(clock);
    const result = deliver(() => link, 'alice', 'm2', bytes, 500);
    await settle();
    link.acks.settle('m2', false); // e.g. an error frame message_too_long
    await expect(result).resolves.toBe(false);
  });

  it('does not resend over a link that already failed', async () => {
    const clock = new FakeClock();
    const link = new FakeLink(clock);
    const result = deliver(() => link, 'alice', 'm1', bytes, 500);
    await settle();
    link.acks.closeAll();
    await expect(result).resolves.toBe(false);
    expect(link.sent).toHaveLength(1);
  });
});

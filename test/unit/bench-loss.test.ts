import { lossReport, SendLog, type MemberRecord } from '../../bench/loss';
import { ReceiverLedger } from '../../bench/stats';

/** A member whose sends 0..sent-1 were all accepted except `rejected` ones (`open` ones got no answer). */
function member(
  index: number,
  sent: number,
  options: { rejected?: number[]; open?: number[]; left?: boolean } = {},
): MemberRecord {
  const sends = new SendLog();
  for (let n = 0; n < sent; n++) {
    sends.noteSent(n);
    if (options.rejected?.includes(n)) sends.noteRejected(n);
    else if (!options.open?.includes(n)) sends.noteAccepted(n);
  }
  return { index, left: options.left ?? false, sends, ledger: new ReceiverLedger() };
}

/** `receiver` got messages `ns` of `sender` (group seq is irrelevant to loss). */
function deliver(receiver: MemberRecord, sender: MemberRecord, ns: readonly number[]): void {
  for (const n of ns) receiver.ledger.record(sender.index, n, 1_000_000 + n);
}

describe('SendLog', () => {
  it('tracks accepted, rejected and unanswered message numbers', () => {
    const log = new SendLog();
    for (let n = 0; n < 200; n++) log.noteSent(n); // grows past its first buffer
    log.noteAccepted(0);
    log.noteAccepted(0); // a repeated reply counts once
    log.noteAccepted(5);
    log.noteRejected(7);
    expect(log.sent).toBe(200);
    expect(log.accepted).toBe(2);
    expect(log.unanswered).toBe(197);
    expect(log.isAccepted(5)).toBe(true);
    expect(log.isAccepted(7)).toBe(false);
    expect(log.acceptedBelow(5)).toBe(1);
    expect(log.acceptedBelow(6)).toBe(2);
    expect(log.acceptedBelow(10_000)).toBe(2);
  });
});

describe('lossReport', () => {
  it('is clean when every member got every accepted message of every other member', () => {
    const [a, b, c] = [member(0, 3), member(1, 2), member(2, 0)];
    for (const [r, s] of [
      [a, b],
      [a, c],
      [b, a],
      [b, c],
      [c, a],
      [c, b],
    ] as const)
      deliver(
        r,
        s,
        Array.from({ length: s.sends.sent }, (_, n) => n),
      );
    const report = lossReport([a, b, c]);
    expect(report).toMatchObject({
      expected: 2 + 3 + 5,
      delivered: 10,
      lost: 0,
      lostToRemoved: 0,
      receiversWithLoss: 0,
      sendersWithLoss: 0,
    });
  });

  it('counts loss per receiver and per sender, not netted over the group', () => {
    const [a, b, c] = [member(0, 4), member(1, 4), member(2, 0)];
    deliver(a, b, [0, 1, 2, 3]);
    deliver(b, a, [0, 2, 3]); // b misses a's 1
    deliver(c, a, [0, 1, 2, 3]);
    deliver(c, b, [0, 1]); // c misses b's 2 and 3
    const report = lossReport([a, b, c]);
    expect(report.lost).toBe(3);
    expect(report.lostByReceiver).toEqual([
      { index: 2, lost: 2 },
      { index: 1, lost: 1 },
    ]);
    expect(report.lostBySender).toEqual([
      { index: 1, lost: 2 },
      { index: 0, lost: 1 },
    ]);
    expect(report.receiversWithLoss).toBe(2);
    expect(report.sendersWithLoss).toBe(2);
  });

  it('does not let a duplicate or an unaccepted delivery make up for a lost one', () => {
    const a = member(0, 3, { rejected: [2] }); // 2 was refused by the server
    const b = member(1, 0);
    deliver(b, a, [0, 0, 2]); // got 0 twice and the refused 2, missed the accepted 1
    const report = lossReport([a, b]);
    expect(report).toMatchObject({ expected: 2, delivered: 1, lost: 1, deliveredUnaccepted: 1 });
  });

  it('reports loss at removed or disconnected members separately (lostToRemoved)', () => {
    const a = member(0, 5);
    const stayed = member(1, 0);
    const removed = member(2, 0, { left: true });
    deliver(stayed, a, [0, 1, 2, 3, 4]);
    deliver(removed, a, [0, 1]);
    const report = lossReport([a, stayed, removed]);
    expect(report).toMatchObject({
      expected: 5,
      delivered: 5,
      lost: 0,
      expectedAtLeft: 5,
      deliveredToLeft: 2,
      lostToRemoved: 3,
    });
    expect(report.lostByReceiver).toEqual([]);
  });

  it('owes nothing for a send that got no answer (it is counted as unanswered instead)', () => {
    const a = member(0, 3, { open: [2] });
    const b = member(1, 0);
    deliver(b, a, [0, 1]);
    expect(lossReport([a, b])).toMatchObject({ expected: 2, lost: 0 });
    expect(a.sends.unanswered).toBe(1);
  });

  it('counts a receiver that got nothing at all from a sender', () => {
    const report = lossReport([member(0, 3), member(1, 0)]);
    expect(report).toMatchObject({ expected: 3, delivered: 0, lost: 3, lostByReceiver: [{ index: 1, lost: 3 }] });
  });
});

import type { ScenarioResult } from '../../bench/harness';
import { medianRun, targets } from '../../bench/report';
import { ackVerdict, groupOutcome, silentLossVerdict, type GroupOutcome } from '../../bench/verdict';

const CLEAN: GroupOutcome = {
  lost: 0,
  lostToRemoved: 0,
  duplicates: 0,
  outOfOrder: 0,
  groupOrderViolations: 0,
  fromMismatches: 0,
  membersRemoved: 0,
  serverMembersRemoved: 0,
  connectionsClosed: 0,
  unanswered: 0,
  rejected: 0,
  sendersTimedOut: false,
  serverUnacked: 0,
};

/** A fan-out result whose figures are all clean, with `extra` overrides. */
function fanoutResult(deliveriesPerSec: number, extra: Record<string, unknown> = {}): ScenarioResult {
  return {
    scenario: 'fanout',
    tls: false,
    clients: 100,
    messagesPerClient: 500,
    rate: null,
    expectedDeliveries: 10,
    delivered: 10,
    lost: 0,
    duplicates: 0,
    outOfOrder: 0,
    wallSeconds: 1,
    deliveriesPerSec,
    latencyMs: { p50: 1, p90: 2, p99: 3, max: 4 },
    serverPeakRssKB: 1000,
    serverRssPerIdleClientKB: null,
    extra: {
      window: 8,
      lostToRemoved: 0,
      groupOrderViolations: 0,
      fromMismatches: 0,
      membersRemoved: 0,
      serverMembersRemoved: 0,
      connectionsClosed: 0,
      unanswered: 0,
      rejected: 0,
      sendersTimedOut: false,
      serverUnacked: 0,
      ...extra,
    },
  };
}

describe('ackVerdict ("every delivery acked")', () => {
  it('holds when every figure is clean', () => {
    expect(ackVerdict(CLEAN)).toEqual({ ok: true, reasons: [] });
  });

  const failures: Array<[Partial<GroupOutcome>, string]> = [
    [{ lost: 1 }, 'lost 1'],
    [{ lostToRemoved: 7 }, 'lost to removed members 7'],
    [{ membersRemoved: 1 }, 'members removed 1'],
    [{ serverMembersRemoved: 2 }, 'members removed (server) 2'],
    [{ connectionsClosed: 1 }, 'connections closed 1'],
    [{ unanswered: 3 }, 'unanswered sends 3'],
    [{ rejected: 1 }, 'rejected sends 1'],
    [{ serverUnacked: 4 }, 'unacked at the server 4'],
    [{ serverUnacked: null }, 'unacked at the server not measured'],
    [{ duplicates: 1 }, 'duplicates 1'],
    [{ outOfOrder: 1 }, 'out of order 1'],
    [{ groupOrderViolations: 1 }, 'group order violations 1'],
    [{ fromMismatches: 1 }, 'wrong from 1'],
    [{ sendersTimedOut: true }, 'senders timed out'],
    [{ sendersTimedOut: null }, 'sender completion not measured'],
  ];
  it.each(failures)('fails on %p', (change, reason) => {
    expect(ackVerdict({ ...CLEAN, ...change })).toEqual({ ok: false, reasons: [reason] });
  });

  it('fails a result that does not report membersRemoved at all', () => {
    const result = fanoutResult(3e6);
    delete result.extra['membersRemoved'];
    expect(ackVerdict(groupOutcome(result)).reasons).toEqual(['members removed not measured']);
  });
});

describe('silentLossVerdict ("nothing lost silently")', () => {
  it('accepts announced removals and their lost-to-removed messages', () => {
    expect(silentLossVerdict({ ...CLEAN, membersRemoved: 3, serverMembersRemoved: 3, lostToRemoved: 900 }).ok).toBe(
      true,
    );
  });

  it.each([
    [{ lost: 1 }, 'lost 1'],
    [{ unanswered: 1 }, 'unanswered sends 1'],
    [{ fromMismatches: 1 }, 'wrong from 1'],
    [{ sendersTimedOut: true }, 'senders timed out'],
    [{ membersRemoved: 1, serverMembersRemoved: 2 }, '2 removed by the server, 1 told'],
    [{ serverMembersRemoved: null }, 'removals not measured'],
  ] as Array<[Partial<GroupOutcome>, string]>)('fails on %p', (change, reason) => {
    expect(silentLossVerdict({ ...CLEAN, ...change })).toEqual({ ok: false, reasons: [reason] });
  });
});

describe('medianRun and the fan-out target', () => {
  it('reports the median run by deliveries/s, not the best, with every run listed', () => {
    const runs = [fanoutResult(2.9e6), fanoutResult(1.1e6), fanoutResult(2.0e6)];
    const median = medianRun(runs);
    expect(median.deliveriesPerSec).toBe(2.0e6);
    expect(median.extra['medianOf']).toBe(3);
    expect(median.extra['runHeadlines']).toEqual([2.9e6, 1.1e6, 2.0e6]);
    const single = fanoutResult(5);
    expect(medianRun([single])).toBe(single); // one run is reported as it is
  });

  it('takes the lower middle run of an even count', () => {
    expect(medianRun([fanoutResult(4), fanoutResult(1), fanoutResult(3), fanoutResult(2)]).deliveriesPerSec).toBe(2);
  });

  it('misses the fan-out target on a fast run with a removed member', () => {
    const [line] = targets([fanoutResult(3e6, { membersRemoved: 1, serverMembersRemoved: 1 })]);
    expect(line).toMatch(/^MISS /);
    expect(line).toContain('members removed 1');
    expect(targets([fanoutResult(3e6)])[0]).toMatch(/^MET /);
  });

  it('judges the first fan-out row, not the fastest', () => {
    const [line] = targets([
      fanoutResult(1e6),
      { ...fanoutResult(3e6), extra: { ...fanoutResult(3e6).extra, window: 64 } },
    ]);
    expect(line).toMatch(/^MISS .*1,000,000\/s/);
  });
});

describe('the TLS fan-out target', () => {
  it('compares the TLS row with the plain fan-out row of the same run', () => {
    const secure = (perSec: number): ScenarioResult => ({ ...fanoutResult(perSec), tls: true });
    const plain = fanoutResult(1_000_000);
    expect(targets([plain, secure(700_000)]).find((l) => l.includes('over TLS'))).toMatch(
      /^MET {3}fan-out over TLS ≥ 60 % of plain deliveries\/s: 700,000\/s over TLS at N=100 = 70 % of 1,000,000\/s plain$/,
    );
    expect(targets([plain, secure(500_000)]).find((l) => l.includes('over TLS'))).toMatch(/^MISS .* = 50 % of/);
    expect(targets([secure(500_000)]).find((l) => l.includes('over TLS'))).toMatch(/^n\/a .*no plain run to compare$/);
  });
});

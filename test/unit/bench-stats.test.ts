import { encodeFrame } from '../../src/protocol/codec';
import { DeliveryDecoder, GroupLineCache, type GroupMsg } from '../../bench/delivery-decoder';
import { decodeBenchText, encodeBenchText } from '../../bench/message-text';
import {
  exactPercentile,
  GroupOrderCheck,
  LatencyHistogram,
  newDeliveryCounts,
  ReceiverLedger,
  SenderSequence,
} from '../../bench/stats';

describe('LatencyHistogram', () => {
  it('reports percentiles within 0.5 % above the exact nearest-rank value', () => {
    const values: number[] = [];
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      values.push(0.05 + (x % 100_000) / 1000); // 0.05 … 100 ms
    }
    const histogram = new LatencyHistogram();
    for (const v of values) histogram.record(v);
    const sorted = [...values].sort((a, b) => a - b);
    for (const p of [50, 90, 99, 99.9, 100]) {
      const exact = exactPercentile(sorted, p)!;
      const reported = histogram.percentile(p)!;
      expect(reported).toBeGreaterThanOrEqual(exact * 0.99999);
      expect(reported).toBeLessThanOrEqual(exact * 1.005 + 0.001);
    }
    expect(histogram.summary().max).toBe(sorted[sorted.length - 1]);
  });

  it('is empty-safe and merges counts', () => {
    const a = new LatencyHistogram();
    expect(a.summary()).toEqual({ p50: null, p90: null, p99: null, max: null });
    const b = new LatencyHistogram();
    a.record(1, 99);
    b.record(40);
    a.merge(b);
    expect(a.count).toBe(100);
    expect(a.percentile(99)).toBeLessThan(1.01);
    expect(a.percentile(100)).toBe(40);
  });
});

describe('SenderSequence', () => {
  it('counts in-order, duplicate and late (out-of-order) messages', () => {
    const counts = newDeliveryCounts();
    const seq = new SenderSequence();
    for (const n of [0, 1, 2, 2, 5, 3, 3, 4, 6, 0]) seq.record(n, counts);
    expect(counts).toEqual({ unique: 7, duplicates: 3, outOfOrder: 2 });
    expect(seq.gaps).toBe(0);
  });

  it('remembers gaps that never arrive, which the scenario counts as lost', () => {
    const counts = newDeliveryCounts();
    const seq = new SenderSequence();
    for (const n of [0, 3, 4]) seq.record(n, counts);
    expect(counts.unique).toBe(3);
    expect(seq.gaps).toBe(2);
    expect(seq.expectedNext).toBe(5);
    expect([...seq.missingNumbers()].sort()).toEqual([1, 2]);
    expect([0, 1, 2, 3, 4, 5, -1].map((n) => seq.has(n))).toEqual([true, false, false, true, true, false, false]);
  });
});

describe('ReceiverLedger and GroupOrderCheck', () => {
  it('flags a group seq that does not rise at one receiver', () => {
    const ledger = new ReceiverLedger();
    ledger.record(1, 0, 1);
    ledger.record(2, 0, 3);
    ledger.record(1, 1, 2);
    expect(ledger.groupOrderViolations).toBe(1);
    expect(ledger.counts.unique).toBe(3);
  });

  it('flags receivers that disagree on which message a seq carried', () => {
    const check = new GroupOrderCheck();
    check.record(1, 4, 0);
    check.record(1, 4, 0);
    check.record(5000, 2, 7);
    expect(check.mismatches).toBe(0);
    check.record(1, 3, 0);
    expect(check.mismatches).toBe(1);
  });
});

describe('bench message text', () => {
  it('round-trips sender, number and send time at the requested size', () => {
    const text = encodeBenchText(42, 1234, 16, 98765.4321);
    expect(text).toHaveLength(16);
    expect(decodeBenchText(text)).toEqual({ sentAtMs: 98765.432, sender: 42, n: 1234 });
    expect(encodeBenchText(7, 1, 4096)).toHaveLength(4096);
    expect(decodeBenchText('hello')).toBeNull();
  });
});

describe('DeliveryDecoder', () => {
  const line = (seq: number, text: string): Buffer =>
    encodeFrame({ type: 'group_msg', group: 'bench', seq, from: 'b1', text });

  function receiver(cache: GroupLineCache): { decoder: DeliveryDecoder; got: GroupMsg[]; other: string[] } {
    const got: GroupMsg[] = [];
    const other: string[] = [];
    const decoder = new DeliveryDecoder(
      cache,
      { maxFrameBytes: 1024, strict: false, skipTables: true },
      {
        delivery: (frame) => got.push(frame),
        frame: (frame) => other.push(frame.type),
        tableBytes: () => other.push('table-bytes'),
        error: (error) => other.push(`error:${error.code}`),
      },
    );
    return { decoder, got, other };
  }

  it('delivers every copy exactly once whatever the chunk boundaries, sharing validated lines', () => {
    const stream = Buffer.concat([line(1, 'a'), encodeFrame({ type: 'ping' }), line(2, 'b'), line(3, 'c')]);
    const cache = new GroupLineCache();
    for (let cut = 0; cut <= stream.length; cut++) {
      const r = receiver(cache);
      r.decoder.push(stream.subarray(0, cut));
      r.decoder.push(stream.subarray(cut));
      expect(r.got.map((f) => [f.seq, f.text])).toEqual([
        [1, 'a'],
        [2, 'b'],
        [3, 'c'],
      ]);
      expect(r.other).toEqual(['ping']);
    }
    expect(cache.misses).toBe(3);
    expect(cache.hits).toBeGreaterThan(0);
  });

  it('fully decodes a line whose bytes differ from the cached copy with the same seq', () => {
    const cache = new GroupLineCache();
    const first = receiver(cache);
    first.decoder.push(line(7, 'original'));
    const second = receiver(cache);
    second.decoder.push(line(7, 'tampered'));
    expect(second.got.map((f) => f.text)).toEqual(['tampered']);
    expect(cache.misses).toBe(2);
  });

  it('rejects invalid frames and counts skipped tables without parsing them', () => {
    const r = receiver(new GroupLineCache());
    r.decoder.push(Buffer.from('{"type":"group_msg","group":"bench","seq":-1,"from":"b1","text":"x"}\nnot json\n'));
    r.decoder.push(encodeFrame({ type: 'table', rev: 1, full: true, clients: [] }));
    expect(r.got).toEqual([]);
    expect(r.other).toEqual(['error:bad_frame', 'error:invalid_json', 'table-bytes']);
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ReceivedLog, receivedJournal } from '../../src/client/received-log';
import { FakeClock } from '../helpers/fake-clock';

/** docs/security.md "Replay": what a client remembers of the dms it accepted, in memory and on disk. */

const WINDOW = 300_000;
let dir: string;
let clock: FakeClock;
let faults: Error[];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-log-'));
  clock = new FakeClock();
  clock.advance(1_700_000_000_000);
  faults = [];
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function open(capacity = 100, file: string | null = path.join(dir, 'received', 'bob.jsonl')): ReceivedLog {
  return new ReceivedLog({ capacity, windowMs: WINDOW, clock, file, onFault: (e) => faults.push(e) });
}

describe('ReceivedLog', () => {
  it('knows a recorded (from, id) as seen, and only that pair', () => {
    const log = open();
    expect(log.check('alice', 'm1', clock.now())).toBe('new');
    log.record('alice', 'm1', clock.now());
    expect(log.check('alice', 'm1', clock.now())).toBe('seen');
    expect(log.check('carol', 'm1', clock.now())).toBe('new');
  });

  it('a name is one name in any case', () => {
    const log = open();
    log.record('Alice', 'm1', clock.now());
    expect(log.check('alice', 'm1', clock.now())).toBe('seen');
    expect(log.check('ALICE', 'm1', clock.now())).toBe('seen');
  });

  it('past capacity forgets the oldest but raises the floor, so the forgotten one is still refused', () => {
    const log = open(2);
    const t = clock.now();
    log.record('alice', 'a', t - 3);
    log.record('alice', 'b', t - 2);
    log.record('alice', 'c', t - 1);
    expect(log.size).toBe(2);
    expect(log.check('alice', 'a', t - 3)).toBe('too_old');
    expect(log.check('alice', 'b', t - 2)).toBe('seen');
    expect(log.check('alice', 'z', t)).toBe('new');
  });

  it('forgets entries older than the window without raising the floor (the timestamp check refuses those)', () => {
    const log = open();
    log.record('alice', 'old', clock.now());
    clock.advance(WINDOW + 1);
    log.record('alice', 'new', clock.now());
    expect(log.size).toBe(1);
    expect(log.check('carol', 'x', clock.now() - WINDOW + 1)).toBe('new');
  });

  it('survives a restart: a new log on the same file knows what the old one took', () => {
    const first = open(2);
    const t = clock.now();
    for (const id of ['a', 'b', 'c']) first.record('alice', id, t);
    const second = open(2);
    expect(['a', 'b', 'c'].map((id) => second.check('alice', id, t))).toEqual(['too_old', 'seen', 'seen']);
    expect(faults).toEqual([]);
  });

  it('keeps the journal bounded: it is rewritten once it has twice the capacity in lines', () => {
    const file = path.join(dir, 'received', 'bob.jsonl');
    const log = open(10, file);
    for (let i = 0; i < 100; i++) log.record('alice', `m${i}`, clock.now());
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(2 * 10 + 2);
    expect(open(10, file).check('alice', 'm99', clock.now())).toBe('seen');
  });

  it('skips torn or foreign lines and keeps ids with newlines intact', () => {
    const file = path.join(dir, 'received', 'bob.jsonl');
    const log = open(10, file);
    log.record('alice', 'two\nlines', clock.now());
    log.record('alice', 'plain', clock.now());
    fs.appendFileSync(file, '{"not":"an entry"}\n[1,2,3]\n["x"]\n[17, "torn');
    const again = open(10, file);
    expect(again.check('alice', 'two\nlines', clock.now())).toBe('seen');
    expect(again.check('alice', 'plain', clock.now())).toBe('seen');
    again.record('carol', 'after', clock.now()); // rewrites a clean file
    expect(open(10, file).check('carol', 'after', clock.now())).toBe('seen');
    expect(faults).toEqual([]);
  });

  it('a journal that cannot be written is reported once; the log carries on in memory', () => {
    const blocker = path.join(dir, 'file-not-dir');
    fs.writeFileSync(blocker, '');
    const log = open(10, path.join(blocker, 'received', 'bob.jsonl'));
    log.record('alice', 'a', clock.now());
    log.record('alice', 'b', clock.now());
    expect(faults).toHaveLength(1);
    expect(log.check('alice', 'b', clock.now())).toBe('seen');
  });

  it('memory only when no file is given', () => {
    const log = open(10, null);
    log.record('alice', 'a', clock.now());
    expect(log.check('alice', 'a', clock.now())).toBe('seen');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('one journal per name, in lower case, under <dataDir>/received', () => {
    expect(receivedJournal('/data/chatapp', 'Bob')).toBe(path.join('/data/chatapp', 'received', 'bob.jsonl'));
  });
});

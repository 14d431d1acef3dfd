import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KnownClients } from '../../src/client/known-clients';

const KEY_A = Buffer.alloc(32, 1).toString('base64');
const KEY_B = Buffer.alloc(32, 2).toString('base64');
const fail = (error: Error): never => {
  throw error;
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-known-clients-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('KnownClients: the keys of the names a client exchanged private messages with (docs/usage.md "Files")', () => {
  test('a name is pinned at its first exchange; the same key later is quiet; another key warns once and is re-pinned', () => {
    const pins = new KnownClients(null, fail);
    expect(pins.check('bob', KEY_A)).toBe(false); // not pinned: nothing to compare with
    pins.exchanged('bob', KEY_A);
    expect(pins.check('BOB', KEY_A)).toBe(false);
    expect(pins.check('Bob', KEY_B)).toBe(true); // names in any case are one name
    expect(pins.check('bob', KEY_B)).toBe(false); // once per change
    expect(pins.keyOf('bob')).toBe(KEY_B);
    pins.exchanged('bob', KEY_A); // an exchange never overrides a pin: only the table's check does
    expect(pins.keyOf('bob')).toBe(KEY_B);
  });

  test('the file holds one `<name> <key>` line per name, mode 0600, and is read back by the next process', () => {
    const file = path.join(dir, 'chatapp', 'known_clients');
    const first = new KnownClients(file, fail);
    first.exchanged('alice', KEY_A);
    first.exchanged('bob', KEY_B);
    expect(fs.readFileSync(file, 'utf8')).toBe(`alice ${KEY_A}\nbob ${KEY_B}\n`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const second = new KnownClients(file, fail);
    expect(second.check('alice', KEY_B)).toBe(true);
    expect(fs.readFileSync(file, 'utf8')).toBe(`bob ${KEY_B}\nalice ${KEY_B}\n`);
  });

  test('malformed lines are skipped, not fatal; the pins stay bounded, the oldest going first', () => {
    const file = path.join(dir, 'known_clients');
    fs.writeFileSync(file, `garbage\nbad name! ${KEY_A}\ncarol not-a-key\nalice ${KEY_A} extra\ndave ${KEY_A}\n`);
    const pins = new KnownClients(file, fail, 2);
    expect(pins.keyOf('dave')).toBe(KEY_A);
    expect(pins.keyOf('carol')).toBeUndefined();
    expect(pins.keyOf('alice')).toBeUndefined();
    pins.exchanged('erin', KEY_B);
    pins.exchanged('frank', KEY_B);
    expect([pins.keyOf('dave'), pins.keyOf('erin'), pins.keyOf('frank')]).toEqual([undefined, KEY_B, KEY_B]);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);
  });

  test('a file that cannot be written is reported once and the pins go on in memory', () => {
    const blocker = path.join(dir, 'not-a-dir');
    fs.writeFileSync(blocker, '');
    const faults: Error[] = [];
    const pins = new KnownClients(path.join(blocker, 'known_clients'), (e) => faults.push(e));
    pins.exchanged('bob', KEY_A);
    pins.exchanged('carol', KEY_A);
    expect(faults).toHaveLength(1);
    expect(pins.check('bob', KEY_B)).toBe(true);
  });
});

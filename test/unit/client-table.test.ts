import { ClientTable } from '../../src/client/client-table';
import type { ClientEntry } from '../../src/protocol/frames';

const KEY = 'A'.repeat(43) + '=';
const entry = (name: string, online = true, port = 5000): ClientEntry => ({ name, host: '127.0.0.1', port, online, key: KEY });

describe('ClientTable', () => {
  it('a full push replaces the whole table', () => {
    const table = new ClientTable();
    table.apply({ full: true, clients: [entry('alice'), entry('bob')] });
    table.apply({ full: true, clients: [entry('carol')] });
    expect(table.snapshot().map((e) => e.name)).toEqual(['carol']);
    expect(table.get('alice')).toBeUndefined();
  });

  it('a delta replaces only the listed entries, by name, and adds new ones', () => {
    const table = new ClientTable();
    table.apply({ full: true, clients: [entry('alice'), entry('bob')] });
    table.apply({ full: false, clients: [entry('bob', false, 6000), entry('dave')] });
    expect(table.get('alice')).toEqual(entry('alice'));
    expect(table.get('bob')).toEqual(entry('bob', false, 6000));
    expect(table.get('dave')?.online).toBe(true);
    expect(table.size).toBe(3);
  });

  it('an empty delta changes nothing; clear forgets everything', () => {
    const table = new ClientTable();
    table.apply({ full: true, clients: [entry('alice')] });
    table.apply({ full: false, clients: [] });
    expect(table.size).toBe(1);
    table.clear();
    expect(table.snapshot()).toEqual([]);
  });
});

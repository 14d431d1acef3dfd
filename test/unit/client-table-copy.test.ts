import { TableCopy } from '../../src/client/table-copy';
import type { ClientEntry } from '../../src/protocol/frames';

const KEY = 'A'.repeat(43) + '=';
const entry = (name: string, online = true, port = 5000): ClientEntry => ({
  name,
  host: '127.0.0.1',
  port,
  online,
  key: KEY,
});

describe('TableCopy', () => {
  it('a full push replaces the whole table', () => {
    const table = new TableCopy();
    table.apply({ full: true, clients: [entry('alice'), entry('bob')] });
    table.apply({ full: true, clients: [entry('carol')] });
    expect(table.snapshot().map((e) => e.name)).toEqual(['carol']);
    expect(table.get('alice')).toBeUndefined();
  });

  it('a delta replaces only the listed entries, by name, and adds new ones', () => {
    const table = new TableCopy();
    table.apply({ full: true, clients: [entry('alice'), entry('bob')] });
    table.apply({ full: false, clients: [entry('bob', false, 6000), entry('dave')] });
    expect(table.get('alice')).toEqual(entry('alice'));
    expect(table.get('bob')).toEqual(entry('bob', false, 6000));
    expect(table.get('dave')?.online).toBe(true);
    expect(table.size).toBe(3);
  });

  it('an empty delta changes nothing; clear forgets everything', () => {
    const table = new TableCopy();
    table.apply({ full: true, clients: [entry('alice')] });
    table.apply({ full: false, clients: [] });
    expect(table.size).toBe(1);
    table.clear();
    expect(table.snapshot()).toEqual([]);
  });
  it('collects the chunks of a push and applies it once, at the chunk without more', () => {
    const table = new TableCopy();
    table.apply({ full: true, clients: [entry('old')] });
    expect(table.receive({ full: true, more: true, clients: [entry('a')] })).toBe(false);
    expect(table.receive({ full: false, more: true, clients: [entry('b')] })).toBe(false);
    expect(table.snapshot().map((e) => e.name)).toEqual(['old']); // nothing applied yet
    expect(table.receive({ full: false, clients: [entry('c')] })).toBe(true);
    expect(table.snapshot().map((e) => e.name)).toEqual(['a', 'b', 'c']);
    expect(table.receive({ full: false, more: true, clients: [entry('a', false)] })).toBe(false);
    expect(table.receive({ full: false, clients: [entry('d')] })).toBe(true);
    expect(table.snapshot().map((e) => `${e.name}:${e.online}`)).toEqual(['a:false', 'b:true', 'c:true', 'd:true']);
  });

  it('drops a partial push, and a full first chunk starts a push over', () => {
    const table = new TableCopy();
    table.receive({ full: true, more: true, clients: [entry('lost')] });
    table.dropPartial();
    expect(table.receive({ full: false, clients: [entry('x')] })).toBe(true);
    expect(table.snapshot().map((e) => e.name)).toEqual(['x']);
    table.receive({ full: false, more: true, clients: [entry('cut')] });
    table.receive({ full: true, clients: [entry('fresh')] });
    expect(table.snapshot().map((e) => e.name)).toEqual(['fresh']);
  });
});

import { ClientTable } from '../../src/store/client-table';

const KEY = Buffer.alloc(32, 7).toString('base64');
const reg = (name: string, port = 5000, host = '127.0.0.1') => ({ name, host, port, key: KEY });

describe('ClientTable', () => {
  it('registers a name once while it is online and refuses it with name_in_use', async () => {
    const table = new ClientTable();
    expect(await table.register(reg('alice'), 1)).toMatchObject({ ok: true, entry: { name: 'alice', online: true } });
    expect(await table.register(reg('alice', 6000), 2)).toEqual({ ok: false, code: 'name_in_use', holder: 1 });
    expect(table.get('alice')?.port).toBe(5000);
  });

  it('lets an offline name register again from another address, replacing host and port', async () => {
    const table = new ClientTable();
    await table.register(reg('alice', 5000, '10.0.0.1'), 1);
    expect(await table.goOffline('alice', 1)).toMatchObject({ name: 'alice', online: false });
    const again = await table.register(reg('alice', 7000, '10.0.0.2'), 2);
    expect(again).toMatchObject({ ok: true, entry: { host: '10.0.0.2', port: 7000, online: true } });
    expect(table.snapshot()).toHaveLength(1);
  });

  it('only the owning connection can take a name offline', async () => {
    const table = new ClientTable();
    await table.register(reg('alice'), 1);
    expect(await table.goOffline('alice', 99)).toBeNull();
    expect(table.get('alice')?.online).toBe(true);
    expect(await table.goOffline('alice', 1)).not.toBeNull();
    expect(await table.goOffline('alice', 1)).toBeNull();
  });

  it('ten racing registrations of one name: exactly one wins', async () => {
    const table = new ClientTable();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => table.register(reg('bob', 5000 + i), i)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(table.onlineCount).toBe(1);
  });

  it('many concurrent registrations and departures leave a consistent table', async () => {
    const table = new ClientTable();
    const names = Array.from({ length: 200 }, (_, i) => `c${i}`);
    await Promise.all(names.map((n, i) => table.register(reg(n), i)));
    await Promise.all(names.filter((_, i) => i % 2 === 0).map((n) => table.goOffline(n, Number(n.slice(1)))));
    const snapshot = table.snapshot();
    expect(snapshot.map((e) => e.name)).toEqual(names);
    expect(snapshot.filter((e) => e.online).map((e) => e.name)).toEqual(names.filter((_, i) => i % 2 === 1));
    expect(table.onlineCount).toBe(100);
  });
});

describe('ClientTable offline entries', () => {
  it('keeps at most maxOffline offline entries, forgetting the one offline longest; online ones always stay', async () => {
    const table = new ClientTable(undefined, Date.now, 2);
    for (const [i, n] of ['a', 'b', 'c', 'd'].entries()) await table.register(reg(n), i);
    await table.goOffline('b', 1);
    await table.goOffline('a', 0);
    await table.goOffline('c', 2);
    expect(table.snapshot().map((e) => `${e.name}:${e.online}`)).toEqual(['a:false', 'c:false', 'd:true']);
    await table.register(reg('a'), 9); // back online: no longer counts as offline
    expect(table.snapshot().map((e) => e.name)).toEqual(['a', 'c', 'd']);
  });
});

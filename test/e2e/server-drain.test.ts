/**
 * SIGTERM drains (docs/operations.md "Signals"): the server stops
 * accepting, answers what it already read, tells each client
 * `shutting_down`, closes the database cleanly and exits 0 — and every
 * message it acknowledged is in the database afterwards.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { startServer } from '../../testkit/chat-roles';
import { RawClient, closeAllRawClients, nextId } from '../helpers/raw-client';
import { removeTempDirs, tempDir } from '../helpers/temp-dir';

afterEach(closeAllRawClients);
afterAll(removeTempDirs);

test('SIGTERM mid-traffic: every acknowledged group message is in the database, clients are told', async () => {
  const dir = tempDir();
  const { proc: server, port } = await startServer(['--data', dir, '--history-limit', '10000']);
  const alice = await RawClient.registered(port, 'alice');
  const bob = await RawClient.registered(port, 'bob');
  expect(await alice.request({ type: 'create_group', group: 'drain' })).toMatchObject({ type: 'reply' });
  expect(await alice.request({ type: 'join_group', group: 'drain' })).toMatchObject({ type: 'reply' });
  expect(await bob.request({ type: 'join_group', group: 'drain' })).toMatchObject({ type: 'reply' });

  // Both members keep sending; the signal arrives while their requests are in flight.
  const sent = new Map<string, string>();
  const batch = (client: RawClient, n: number): void =>
    client.sendBatch(
      Array.from({ length: n }, (_, i) => {
        const id = nextId(`${client.name}-`);
        const text = `${client.name} message ${i} ${id}`;
        sent.set(id, text);
        return { type: 'send_group', id, text };
      }),
    );
  batch(alice, 300);
  batch(bob, 300);
  await alice.until(() => alice.ofType('reply').length > 5 || undefined, 'the first acks');
  server.kill('SIGTERM');
  batch(alice, 100); // sent during the drain: answered or not, never acked without being stored
  expect((await server.exit).code).toBe(0);
  await Promise.all([alice.closed, bob.closed]);
  for (const client of [alice, bob]) expect(client.errorCodes()).toContain('shutting_down');

  const acked = [alice, bob].flatMap((c) => c.ofType('reply').flatMap((r) => sent.get(r.id) ?? []));
  expect(acked.length).toBeGreaterThan(5);
  const db = new Database(path.join(dir, 'chatapp.db'), { readonly: true, fileMustExist: true });
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const stored = new Set(db.prepare('SELECT text FROM history WHERE grp = ?').pluck().all('drain') as string[]);
    expect(acked.filter((text) => !stored.has(text))).toEqual([]);
  } finally {
    db.close();
  }
});

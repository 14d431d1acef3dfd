import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';
import { type BulkLink, closeAllBulkLinks } from '../helpers/bulk-link';
import { Bystanders } from '../helpers/bystanders';
import { idleConnections } from '../helpers/server-attacks';

/**
 * Issue 9, finding 9: connection limits that did not protect. Under
 * `ulimit -n 256`, 400 idle unregistered connections got a real client
 * closed at once: `--max-clients` (20,000) sat above the descriptor limit, so
 * shedding never engaged and `accept` failed instead.
 *
 * Now (docs/security.md "Per-address limits"): the connection limit is at
 * most the open-file limit minus 64 (so shedding the oldest unregistered
 * connection always happens before `accept` runs out of descriptors), and
 * one address may hold at most 64 connections (`address_limit`; loopback is
 * exempt unless `--limit-loopback`).
 */

const FILE_LIMIT = 256;
const { maxConnectionsPerAddress } = DEFAULT_LIMITS;

afterEach(() => closeAllBulkLinks());

/** A server whose process may open at most FILE_LIMIT files (`prlimit`, as `ulimit -n` in a shell). */
function serverUnderFileLimit(args: string[] = []): Promise<StartedServer> {
  return startServer(args, {
    wrap: (argv) => ({ file: 'prlimit', args: [`--nofile=${FILE_LIMIT}:${FILE_LIMIT}`, '--', ...argv] }),
  });
}

/** Error codes the server sent on `links`, counted. */
function codes(links: readonly BulkLink[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const link of links) for (const [code, n] of Object.entries(link.errors())) out[code] = (out[code] ?? 0) + n;
  return out;
}

it(`400 idle connections under ulimit -n ${FILE_LIMIT}: the oldest are shed, real clients stay and a newcomer registers`, async () => {
  const server = await serverUnderFileLimit();
  const world = await Bystanders.start(server);
  const { links, failed } = await idleConnections(server.port, 400);
  const newcomer = await world.newcomer();
  await world.groupMessage('through the crowd');

  world.expectUnharmed([newcomer]);
  expect(failed).toBe(0); // every connect was accepted, none left for accept() to fail
  // The crowd was shed down to the limit: the oldest idle connections were closed with server_full.
  const shed = links.filter((l) => l.closed || l.count('error:server_full') > 0);
  expect(shed.length).toBeGreaterThan(0);
  // (those still open after --register-timeout, 10 s, are closed for that: a loaded machine may get there)
  expect(Object.keys(codes(links)).filter((c) => c !== 'register_timeout')).toEqual(['server_full']);
  await world.memoryBack();
}, 120_000);

it('100 connections from one address with --limit-loopback: the first 64 are kept, the rest refused with address_limit; others unharmed', async () => {
  const server = await serverUnderFileLimit(['--limit-loopback']);
  const world = await Bystanders.start(server);
  const { links, failed } = await idleConnections(server.port, 100, { localAddress: '127.0.0.2', parallel: 10 });
  // Each link asks something: a kept one is answered (not_registered), a refused one was closed.
  const kept = await Promise.all(
    links.map((l, i) =>
      l.request({ type: 'list_groups', id: `probe${i}` }, `probe${i}`).then(
        () => true,
        () => false,
      ),
    ),
  );
  const refused = links.filter((_, i) => !kept[i]);
  const newcomer = await world.newcomer();
  await world.groupMessage('past the crowd');

  world.expectUnharmed([newcomer]);
  expect(failed).toBe(0);
  expect(refused).toHaveLength(100 - maxConnectionsPerAddress);
  expect(refused.every((l) => l.closed && l.count('error:address_limit') === 1)).toBe(true);
  expect(links.filter((l) => !l.closed)).toHaveLength(maxConnectionsPerAddress);
  await world.memoryBack();
}, 120_000);

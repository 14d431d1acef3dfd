import { startServer } from '../../testkit/chat-roles';
import { closeAllBulkLinks } from '../helpers/bulk-link';
import { Bystanders } from '../helpers/bystanders';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';
import { loopbackAddresses, registrationChurn } from '../helpers/server-attacks';

/**
 * Issue 9, finding 8: registration churn. One address registered 11,724
 * distinct names in 60 s; offline entries were never removed (RSS 59 → 112
 * MB, kept); a newcomer downloaded a 1.44 MB table in 44 frames; a watching
 * client printed 20 `[Client table updated.]` lines a second.
 *
 * Now (docs/security.md "Per-address limits", docs/usage.md "The client
 * table"): an address may register 10 names a second after a burst of 50
 * (`rate_limited`; loopback is exempt unless `--limit-loopback`, which this
 * server runs with — the attackers use other 127.x addresses than the real
 * clients), at most 1,000 offline entries are kept (the oldest forgotten),
 * and a client prints the table line at most once a second.
 */

const REGISTRATIONS_PER_SEC = 10;
const BURST = 5 * REGISTRATIONS_PER_SEC;
const MAX_OFFLINE = 1000;

afterEach(async () => {
  await closeAllBulkLinks();
  await closeAllRawClients();
});

/** Registers a fresh raw client and returns every entry of the full table it is sent (all its chunks). */
async function fullTableOf(port: number, name: string): Promise<Array<{ name: string; online: boolean }>> {
  const client = await RawClient.connect(port);
  expect((await client.register(name)).type).toBe('reply');
  const push = await client.until(() => {
    const start = client.frames.findIndex((f) => f.type === 'table' && f.full);
    if (start < 0) return null;
    const chunks = [];
    for (const f of client.frames.slice(start)) {
      if (f.type !== 'table') continue;
      chunks.push(f);
      if (f.more !== true) return chunks;
    }
    return null;
  }, 'the whole full table');
  return push.flatMap((chunk) => chunk.clients);
}

it('one address churning 300 names, then 40 addresses churning 40 each: rate limited per address, the table bounded, bystanders unharmed', async () => {
  const server = await startServer(['--limit-loopback']);
  const world = await Bystanders.start(server);
  const started = Date.now();
  const fromB = world.bob.proc.mark();

  const single = registrationChurn(server.port, { addresses: ['127.0.0.2'], namesPerAddress: 300, prefix: 'one' });
  const newcomer = await world.newcomer();
  await world.groupMessage('during the churn');
  const fromOne = await single;
  const botnet = await registrationChurn(server.port, {
    addresses: loopbackAddresses(1, 40),
    namesPerAddress: 40,
    prefix: 'bot',
  });
  await world.groupMessage('after the churn');
  const seconds = (Date.now() - started) / 1000;

  world.expectUnharmed([newcomer]);
  // bob's table line: at most one a second (plus the one a change right at the start prints at once).
  const tableLines = world.bob.proc.linesMatching('>>> (room) [Client table updated.]', { from: fromB });
  expect(tableLines.length).toBeLessThanOrEqual(Math.ceil(seconds) + 1);
  // A newcomer's table: the online clients and at most MAX_OFFLINE offline names.
  const table = await fullTableOf(server.port, 'reader');
  expect(table.filter((e) => !e.online).length).toBeLessThanOrEqual(MAX_OFFLINE);
  expect(
    table
      .filter((e) => e.online)
      .map((e) => e.name)
      .sort(),
  ).toEqual(['alice', 'bob', 'newcomer1', 'reader']);
  await world.memoryBack();
  // The single address got its burst and the sustained rate, no more; each botnet address stayed within its burst.
  expect(fromOne['reply']).toBeGreaterThanOrEqual(BURST);
  expect(fromOne['reply']).toBeLessThanOrEqual(BURST + Math.ceil(REGISTRATIONS_PER_SEC * seconds));
  expect(fromOne['error:rate_limited']).toBe(300 - fromOne['reply']!);
  expect(botnet).toEqual({ reply: 40 * 40 });
}, 120_000);

it('one address reconnecting for each of 200 names: the same per-address rate, no fresh burst per connection', async () => {
  const server = await startServer(['--limit-loopback']);
  const world = await Bystanders.start(server);
  const started = Date.now();
  const churn = registrationChurn(server.port, {
    addresses: ['127.0.0.3'],
    namesPerAddress: 200,
    prefix: 'again',
    connectionPerName: true,
  });
  await world.groupMessage('during the churn');
  const answers = await churn;
  const seconds = (Date.now() - started) / 1000;

  world.expectUnharmed();
  expect(answers['reply']).toBeGreaterThanOrEqual(BURST);
  expect(answers['reply']).toBeLessThanOrEqual(BURST + Math.ceil(REGISTRATIONS_PER_SEC * seconds));
  expect(answers['error:rate_limited']).toBe(200 - answers['reply']!);
}, 120_000);

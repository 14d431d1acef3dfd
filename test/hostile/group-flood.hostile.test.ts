import { startServer } from '../../testkit/chat-roles';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';
import { closeAllBulkLinks } from '../helpers/bulk-link';
import { Bystanders } from '../helpers/bystanders';
import { groupFlood, listingLoop } from '../helpers/server-attacks';

/**
 * Issue 9, finding 3: unlimited groups, expensive listings. Eight
 * connections created 1.9 M groups in 25 s (RSS 524 MB); with 1 M groups one
 * `list_groups` froze the server for 1.6 s; two connections looping
 * `list_groups` pushed round trips to 1–1.8 s and RSS to 1.2 GB, and the
 * server printed 400 MB of log in 20 s.
 *
 * Now (docs/protocol.md "Limits", docs/usage.md "Server"): at most
 * `--max-groups-per-client` groups per creator and `--max-groups` in all
 * (`group_quota`, `too_many_groups`); a listing is encoded once per change
 * of the group table, paced out in chunks, and logged in at most 100 names.
 */

const { maxGroupsPerClient } = DEFAULT_LIMITS;
const CREATORS = 8;
const PER_CREATOR = 12_500;
const LISTERS = 2;
const LISTINGS = 10;
/** Lines one listing may print (docs/usage.md "Server"): the header, 100 names, `[and <n> more]`. */
const LINES_PER_LISTING = 102;

afterEach(() => closeAllBulkLinks());

it('eight clients creating 100,000 groups, then two listing them in a loop: each creator stops at its quota, bystanders unharmed, log and memory bounded', async () => {
  // The per-connection request rate is not what is tested: off, the attack is as fast as the server answers.
  const server = await startServer(['--rate-limit-per-sec', '0']);
  const world = await Bystanders.start(server);
  const logFrom = server.proc.mark();

  const flood = groupFlood(server.port, { connections: CREATORS, perConnection: PER_CREATOR, prefix: 'spam' });
  await world.groupMessage('during the flood');
  const created = await flood;
  const listings = listingLoop(server.port, { connections: LISTERS, listings: LISTINGS, prefix: 'lister' });
  const newcomer = await world.newcomer();
  await world.groupMessage('during the listings');
  const listed = await listings;
  await world.groupMessage('after the attack');

  world.expectUnharmed([newcomer]);
  // The log: one line per group created, and each listing bounded (docs/usage.md "Server").
  const logged = server.proc.mark() - logFrom;
  expect(logged).toBeLessThanOrEqual(CREATORS * maxGroupsPerClient + LISTERS * LISTINGS * LINES_PER_LISTING + 50);
  await world.memoryBack();
  // What the attackers got: each creator its quota, then group_quota; every listing answered.
  expect(created['reply']).toBe(CREATORS * (maxGroupsPerClient + 1)); // + each register
  expect(created['error:group_quota']).toBe(CREATORS * (PER_CREATOR - maxGroupsPerClient));
  expect(listed['reply']).toBe(LISTERS * (LISTINGS + 1));
}, 120_000);

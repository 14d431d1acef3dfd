import { startServer } from '../../testkit/chat-roles';
import { closeAllBulkLinks } from '../helpers/bulk-link';
import { Bystanders } from '../helpers/bystanders';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';
import { replyCacheChurn } from '../helpers/server-attacks';

/**
 * Issue 9, finding 2: per-name reply memory was never freed. A fresh
 * connection per name sent 3,900 requests with 64-character ids,
 * deregistered, and the next name did the same: 758 names in 30 s took the
 * server from 61 to 710 MB, still held after 20 s idle. And two names
 * registered in turn on one connection shared one reply cache, so the second
 * reusing an id of the first got the first's reply and nothing was done.
 *
 * Now (src/server/reply-cache.ts, docs/security.md): at most 65,536 replies
 * are kept over all caches, each for at least 60 s, and a name's cache goes
 * once it is offline and empty; a connection that deregisters starts a fresh
 * cache.
 */

/** Names churned: the old build kept 3,900 replies of each for good (RSS +124 MB at 100), the cache now at most 65,536 in all. */
const NAMES = 100;
/** The review's figure: just under the 4,096 replies a name's cache keeps. */
const REQUESTS_PER_NAME = 3900;

afterEach(async () => {
  await closeAllBulkLinks();
  await closeAllRawClients();
});

it('names churned through 3,900 long request ids each: memory returns near its baseline, bystanders unharmed', async () => {
  const server = await startServer();
  const world = await Bystanders.start(server);
  let busy = true;
  const churn = replyCacheChurn(server.port, {
    names: NAMES,
    requestsPerName: REQUESTS_PER_NAME,
    parallel: 4,
    prefix: 'churn',
  }).finally(() => (busy = false));
  const newcomer = await world.newcomer();
  let messages = 0;
  while (busy) await world.groupMessage(`during the churn ${++messages}`);
  const answers = await churn;
  expect(answers['error:not_in_group']).toBe(NAMES * REQUESTS_PER_NAME);
  await world.groupMessage('after the churn');
  world.expectUnharmed([newcomer]);
  await world.memoryBack();
}, 120_000);

it('two names registered in turn on one connection do not share replies: the second name reusing an id is performed', async () => {
  const server = await startServer();
  const client = await RawClient.connect(server.port);
  expect((await client.register('first')).type).toBe('reply');
  expect(await client.request({ type: 'create_group', id: 'same-id', group: 'first_room' })).toEqual({
    type: 'reply',
    id: 'same-id',
  });
  expect((await client.request({ type: 'dereg', name: 'first' })).type).toBe('reply');
  expect((await client.register('second')).type).toBe('reply');
  await client.request({ type: 'create_group', id: 'same-id', group: 'second_room' });
  const groups = await client.request({ type: 'list_groups' });
  expect(groups.type === 'reply' && groups.groups).toEqual(['first_room', 'second_room']);
});

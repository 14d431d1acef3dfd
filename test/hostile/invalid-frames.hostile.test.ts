import { startServer } from '../../testkit/chat-roles';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';
import { closeAllBulkLinks } from '../helpers/bulk-link';
import { Bystanders } from '../helpers/bystanders';
import { invalidFrameFlood } from '../helpers/server-attacks';

/**
 * Issue 9, finding 4: invalid frames were not rate-limited. An unregistered
 * connection sending schema-invalid frames with a `ping` after every eighth
 * (which reset the invalid count) got 130 k error frames a second out of the
 * server at 120 % CPU; round trips went from 22 ms to 0.3–2 s.
 *
 * Now (src/net/inbound-policy.ts, docs/security.md): every frame counts
 * against the rate limit, and invalid frames have their own small bucket
 * that only time refills (one a second), so a valid frame in between no
 * longer washes a run of them away: past `--max-invalid-frames` in a burst
 * the connection is closed (`too_many_invalid`).
 */

const { maxInvalidFrames } = DEFAULT_LIMITS;
const ATTACKERS = 4;

afterEach(() => closeAllBulkLinks());

it('invalid frames with a ping after every eighth, from four connections: each is closed after its burst, bystanders unharmed', async () => {
  const server = await startServer();
  const world = await Bystanders.start(server);
  const started = Date.now();
  const flood = invalidFrameFlood(server.port, { connections: ATTACKERS, rounds: 40, perWrite: 2000 });
  const newcomer = await world.newcomer();
  await world.groupMessage('during the flood');
  const results = await flood;
  const seconds = (Date.now() - started) / 1000;
  await world.groupMessage('after the flood');

  world.expectUnharmed([newcomer]);
  await world.memoryBack();
  for (const r of results) {
    expect(r.closed).toBe(true);
    // maxInvalidFrames answered, then the fatal one; the bucket refills by one a second at most meanwhile
    expect(r.errors['bad_frame'] ?? 0).toBeLessThanOrEqual(maxInvalidFrames + Math.ceil(seconds));
    expect(r.errors['too_many_invalid']).toBe(1);
  }
}, 120_000);

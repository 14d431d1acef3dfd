import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';

/**
 * Rate limiting answers excess requests with `rate_limited` (docs/protocol.md
 * "Limits"); it must not silently eat a member's group_ack and so turn a burst
 * of its own requests into removal from its group (docs/usage.md "Server": only a member that
 * "has not acked within the ack timeout" is removed).
 */

let server: StartedServer;

beforeAll(async () => {
  // A generous ack timeout: busy acks within milliseconds, but a loaded 2-core CI
  // machine must not make it look unresponsive (mute's removal still proves the check ran).
  server = await startServer(['--rate-limit-per-sec', '1', '--rate-burst', '20', '--ack-timeout', '2000'], {
    keepAcrossTests: true,
  });
});

afterAll(async () => {
  await closeAllRawClients();
  await server?.proc.stop();
});

it('a member that used up its request budget still gets its group acks counted and stays in the group', async () => {
  const busy = await RawClient.registered(server.port, 'busy');
  const sender = await RawClient.registered(server.port, 'sender');
  const mute = await RawClient.registered(server.port, 'mute', { autoAck: false });
  expect((await sender.request({ type: 'create_group', group: 'acks' })).type).toBe('reply');
  for (const c of [busy, sender, mute])
    expect((await c.request({ type: 'join_group', group: 'acks' })).type).toBe('reply');

  // busy spends its whole bucket (1 token/s refill): the excess is refused, as documented
  const ids = Array.from({ length: 30 }, (_, i) => `spend${i}`);
  await busy.sendRaw(ids.map((id) => `${JSON.stringify({ type: 'list_groups', id })}\n`).join(''));
  const answers = await Promise.all(ids.map((id) => busy.answerTo(id)));
  expect(answers.some((a) => a.type === 'error' && a.code === 'rate_limited')).toBe(true);

  expect((await sender.request({ type: 'send_group', text: 'ack me' })).type).toBe('reply');
  await busy.waitFor((f) => f.type === 'group_msg' && f.text === 'ack me', 'the group message'); // busy acks it at once
  // mute never acks: its removal shows the server's deadline check for this message has run
  await mute.waitFor((f) => f.type === 'removed', 'removal of the member that never acks');
  expect(busy.frames.filter((f) => f.type === 'removed')).toEqual([]);
  const members = await sender.request({ type: 'list_members' });
  expect(members.type === 'reply' && members.members).toEqual(['busy', 'sender']);
});

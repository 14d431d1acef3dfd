import { startClient, startServer, type StartedClient, type StartedServer } from '../../testkit/chat-roles';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';

/**
 * Text from the wire reaches terminals (docs/protocol.md "Transport and framing": "nothing unvalidated reaches
 * the server's tables or the screen"): a group message carrying newlines,
 * carriage returns and escape sequences must print as one line that cannot
 * forge a status line or drive the terminal, on the member's screen and in
 * the server's log.
 */

let server: StartedServer;
let member: StartedClient;

beforeAll(async () => {
  server = await startServer([], { keepAcrossTests: true });
  member = await startClient('victim', server.port, [], { keepAcrossTests: true });
}, 20_000);

afterAll(async () => {
  await closeAllRawClients();
  await member?.proc.stop('endInput', 1000);
  await server?.proc.stop();
});

it('a group message with newlines and escape sequences prints as one harmless line everywhere', async () => {
  const evil = await RawClient.registered(server.port, 'evil');
  expect((await evil.request({ type: 'create_group', group: 'inj' })).type).toBe('reply');
  let from = member.proc.mark();
  member.proc.send('join_group inj');
  await member.proc.waitForLine('>>> [Entered group inj successfully]', { from });
  expect((await evil.request({ type: 'join_group', group: 'inj' })).type).toBe('reply');
  await member.proc.waitForLine('>>> (inj) [evil joined the group]', { from }); // docs/usage.md: members see who joins
  // The table push announcing evil may trail its registration (deltas are coalesced): let it land
  // before the window below, in which only the two messages may print.
  await member.proc.waitForCount(/^>>> (\(inj\) )?\[Client table updated\.\]$/, 2, { from: 0 });

  const forged =
    'hi\n>>> [You are Offline. Bye.]\r>>> [Server connection lost]\u001b[2J\u001b]0;pwned\u0007\u202eevil\u0085x';
  from = member.proc.mark();
  expect((await evil.request({ type: 'send_group', text: forged })).type).toBe('reply');
  await member.proc.waitForLine(/^>>> \(inj\) Group_Message evil: hi/, { from });
  expect((await evil.request({ type: 'send_group', text: 'marker' })).type).toBe('reply');
  await member.proc.waitForLine('>>> (inj) Group_Message evil: marker', { from });

  const printed = member.proc.lines('stdout', from);
  expect(printed).toHaveLength(2); // one line per message, nothing forged in between
  expect(printed.join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  expect(
    member.proc.lines().filter((l) => l === '>>> [You are Offline. Bye.]' || l === '>>> [Server connection lost]'),
  ).toEqual([]);
  await server.proc.waitForLine(/^>>> \[Client evil sent group message: marker\]$/, { from: 0 });
  const log = server.proc.lines().filter((l) => l.includes('sent group message'));
  expect(log.filter((l) => l.startsWith('>>> [Client evil sent group message: hi'))).toHaveLength(1);
  expect(server.proc.lines().join('\n')).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  expect(
    server.proc.lines().filter((l) => l.startsWith('>>> [You are') || l.startsWith('>>> [Server connection')),
  ).toEqual([]);
  expect(member.proc.alive).toBe(true);
});

it('bidi overrides in a group message cannot reorder the server log line (as the client already ensures)', async () => {
  const evil = await RawClient.registered(server.port, 'bidi');
  expect((await evil.request({ type: 'join_group', group: 'inj' })).type).toBe('reply');
  expect((await evil.request({ type: 'send_group', text: 'pay \u202e0001$ \u2066x\u2069' })).type).toBe('reply');
  const line = await server.proc.waitForLine(/^>>> \[Client bidi sent group message: pay/, { from: 0 });
  expect(line).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
});

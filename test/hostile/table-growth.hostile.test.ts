import { signedRegister } from '../helpers/test-identity';
import { startClient, startServer, type StartedServer } from '../../testkit/chat-roles';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';

/**
 * The client table only grows (offline names stay so users can come back,
 * docs/usage.md "Server"). One connection cycling register/dereg through many long names
 * must not make the table push unreadable for real clients (docs/protocol.md "Limits": nothing
 * a client sends keeps a real client from registering).
 */

let server: StartedServer;

beforeAll(async () => {
  server = await startServer(['--rate-limit-per-sec', '0', '--max-groups-per-client', '10000'], {
    keepAcrossTests: true,
  });
});

afterAll(async () => {
  await closeAllRawClients();
  await server?.proc.stop();
});

it('a real client still registers after one connection cycled register/dereg through 180 long names and hosts', async () => {
  const watcher = await startClient('watcher', server.port);
  const cycler = await RawClient.connect(server.port, { maxFrameBytes: 16 << 20 });
  // register and dereg 180 distinct 32-char names (the longest valid ones) with 253-char hosts (the longest valid
  // hostname the schema allows), 5 pairs per write: each register answers with the full table
  const names = Array.from({ length: 180 }, (_, i) => `n${String(i).padStart(4, '0')}${'x'.repeat(27)}`);
  const host = `${'h'.repeat(63)}.${'h'.repeat(63)}.${'h'.repeat(63)}.${'h'.repeat(61)}`;
  const challenge = await cycler.challenge(); // one connection: every register signs its challenge
  for (let i = 0; i < names.length; i += 5) {
    const batch = names.slice(i, i + 5);
    await cycler.sendRaw(
      batch
        .map(
          (name, j) =>
            `${JSON.stringify({ ...signedRegister(challenge, { name, id: `reg${i + j}`, port: 1 }), host })}\n${JSON.stringify({ type: 'dereg', id: `der${i + j}`, name })}\n`,
        )
        .join(''),
    );
    expect(await cycler.answerTo(`der${i + batch.length - 1}`)).toMatchObject({ type: 'reply' });
  }
  expect(cycler.errorCodes()).toEqual([]);
  // 181 entries of ~400 bytes: a full table no longer fits in one 64 KiB frame
  const late = await startClient('late', server.port);
  expect(late.proc.alive).toBe(true);
  expect([watcher.proc.alive, server.proc.alive]).toEqual([true, true]);
  const from = late.proc.mark();
  watcher.proc.send('send late hello');
  await late.proc.waitForLine('>>> watcher: hello', { from, timeoutMs: 5000 });
  expect(late.proc.linesMatching('>>> [Server connection lost]')).toHaveLength(0);
});

it('a real client can still list groups after a client created 2,100 groups with long names', async () => {
  const creator = await RawClient.registered(server.port, 'creator');
  const groups = Array.from({ length: 2100 }, (_, i) => `g${String(i).padStart(5, '0')}${'y'.repeat(26)}`);
  for (let i = 0; i < groups.length; i += 300) {
    const batch = groups.slice(i, i + 300);
    await creator.sendRaw(
      batch.map((group, j) => `${JSON.stringify({ type: 'create_group', id: `cg${i + j}`, group })}\n`).join(''),
    );
    expect(await creator.answerTo(`cg${i + batch.length - 1}`)).toMatchObject({ type: 'reply' });
  }
  // ~2,100 x 35 bytes: the list_groups reply no longer fits in one 64 KiB frame
  const lister = await startClient('lister', server.port);
  const from = lister.proc.mark();
  lister.proc.send('list_groups');
  await lister.proc.waitForLine('>>> [Available group chats:]', { from, timeoutMs: 5000 });
  await lister.proc.waitForLine(`>>> ${groups[groups.length - 1]}`, { from, timeoutMs: 5000 });
  expect(lister.proc.linesMatching('>>> [Server connection lost]')).toHaveLength(0);
});

/**
 * Fault tests for docs/usage.md "Durable state": `kill -9` of the server in
 * the middle of a burst of group messages and in the middle of delivering
 * saved messages, then a restart on the same data directory. Nothing a
 * sender saw acknowledged is lost; nothing is stored or shown twice.
 */
import { startCli, type CliProcess } from '../../testkit/cli-process';
import { startClient, type StartedClient } from '../../testkit/chat-roles';
import {
  createGroup,
  expectCleanStderr,
  joinGroup,
  linesUntilSentinel,
  SLOW_EVENT_MS,
  startChat,
  waitForTableUpdates,
} from '../helpers/e2e-chat';
import { newDataDir, startDurableServer, STAMP } from '../helpers/durable';

const ACKED = '>>> (room) [Message received by Server.]';
const SAVED = '>>> [Messages received by the server and saved]';

/** Kills the server with SIGKILL and waits until it is gone and `clients` noticed. */
async function killServer(server: CliProcess, clients: readonly CliProcess[], marks: readonly number[]): Promise<void> {
  server.kill('SIGKILL');
  expect(await server.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
  for (const [i, c] of clients.entries())
    await c.waitForLine(/^>>> (\(room\) )?\[Server connection lost\]$/, { from: marks[i], timeoutMs: SLOW_EVENT_MS });
}

describe('kill -9 of the server (docs/usage.md "Durable state")', () => {
  afterEach(() => expectCleanStderr([]));

  test('during a burst of group messages: every acknowledged one is in the history after a restart, in order, once', async () => {
    const dir = newDataDir();
    const server = await startDurableServer(dir, ['--no-log-text']);
    const [alice, bob] = (await startChat(['alice', 'bob'], server.port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'room');
    await joinGroup(alice, 'room');
    await joinGroup(bob, 'room');
    const PER_SENDER = 50;
    const marks = [alice.proc.mark(), bob.proc.mark()];
    for (const c of [alice, bob])
      c.proc.write(Array.from({ length: PER_SENDER }, (_, i) => `send_group ${c.name}-${i + 1}\n`).join(''));
    await alice.proc.waitForCount(ACKED, 10, { from: marks[0] });
    await killServer(server.proc, [alice.proc, bob.proc], marks);
    const acked = [alice, bob].map((c, i) => c.proc.linesMatching(ACKED, { from: marks[i] }).length);
    for (const c of [alice, bob]) await c.proc.destroy(); // no reconnect: what was sent is all there is

    const again = await startDurableServer(dir, [], { label: 'server (restarted)' });
    const reader = await startClient('carol', again.port);
    await joinGroup(reader, 'room');
    await linesUntilSentinel(reader.proc, 0, 'room'); // the history shown on join is out
    const from = reader.proc.mark();
    reader.proc.send('history 100');
    const stored = (await linesUntilSentinel(reader.proc, from, 'room')).map((l) => {
      const m = new RegExp(`^>>> \\(room\\) History_Message ${STAMP} (alice|bob): (alice|bob)-(\\d+)$`).exec(l);
      expect(m).not.toBeNull();
      expect(m![1]).toBe(m![2]); // each under its own sender
      return { sender: m![1]!, n: Number(m![3]) };
    });
    for (const [i, name] of ['alice', 'bob'].entries()) {
      const mine = stored.filter((s) => s.sender === name).map((s) => s.n);
      // In the order sent, once each, without gaps, and at least every acknowledged one.
      expect(mine).toEqual(Array.from({ length: mine.length }, (_, k) => k + 1));
      expect(mine.length).toBeGreaterThanOrEqual(acked[i]!);
    }
    expect(acked[0]).toBeGreaterThanOrEqual(10);
  });

  // Run 1 shows them and its acks are lost with the server (in trials all 80 were still saved after the kill):
  // the restarted server sends them again, and the receiver's memory of shown ids keeps it from showing any twice.
  test('while delivering saved messages: after a restart each is shown exactly once across both runs of the receiver', async () => {
    const dir = newDataDir();
    const server = await startDurableServer(dir);
    const [alice, bob] = (await startChat(['alice', 'bob'], server.port)) as [StartedClient, StartedClient];
    await bob.proc.stop('endInput');
    await waitForTableUpdates(alice.proc, 3);
    const COUNT = 80;
    const from = alice.proc.mark();
    alice.proc.write(Array.from({ length: COUNT }, (_, i) => `send bob saved-${i + 1}\n`).join(''));
    await alice.proc.waitForCount(SAVED, COUNT, { from, timeoutMs: SLOW_EVENT_MS });
    await alice.proc.destroy();

    // First run: stopped as soon as it is registered (its saved messages on their way, its acks not sent),
    // the server killed, then resumed: it shows what reached it, and its acks go nowhere.
    const first = startCli(['-c', 'bob', '127.0.0.1', String(server.port), '0'], { label: 'bob (run 1)' });
    await first.waitForLine('>>> [Welcome, You are registered.]');
    first.kill('SIGSTOP');
    server.proc.kill('SIGKILL');
    expect(await server.proc.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    first.kill('SIGCONT');
    await first.waitForLine('>>> [Server connection lost]', { timeoutMs: SLOW_EVENT_MS });
    await first.destroy();

    const again = await startDurableServer(dir, [], { label: 'server (restarted)' });
    const second = await startClient('bob', again.port, [], { label: 'bob (run 2)' });
    await linesUntilSentinel(second.proc, 0);
    const shown = [...first.lines(), ...second.proc.lines()].flatMap((l) => {
      const m = new RegExp(`^>>> alice: ${STAMP} saved-(\\d+)$`).exec(l);
      return m === null ? [] : [Number(m[1])];
    });
    expect(shown).toEqual(Array.from({ length: COUNT }, (_, i) => i + 1));
  });
});

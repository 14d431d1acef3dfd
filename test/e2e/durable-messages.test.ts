/**
 * docs/usage.md "Saved messages" and "Group history and catching up": saved
 * messages with their mailbox limit, delivery on return with read receipts,
 * the history shown on join and by `history [n]`, and the catch-up after a
 * reconnect (each missed message once, none repeated).
 */
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  createGroup,
  expectAfter,
  expectCleanStderr,
  groupMessage,
  joinGroup,
  line,
  linesUntilSentinel,
  sendGroup,
  SLOW_EVENT_MS,
  startChat,
  waitForTableUpdates,
} from '../helpers/e2e-chat';
import { historyLine, newDataDir, savedLine, startDurableServer, UTC, utcStamp } from '../helpers/durable';

const SAVED = '>>> [Messages received by the server and saved]';
const BYE = '>>> [You are Offline. Bye.]';

describe('saved messages (docs/usage.md "Saved messages")', () => {
  afterEach(() => expectCleanStderr());

  test('an offline receiver: saved, up to the mailbox limit; shown on return, oldest first, with the local time', async () => {
    const { port } = await startServer(['--mailbox-limit', '3']);
    const [alice, bob, carol] = (await startChat(['alice', 'bob', 'carol'], port, [], UTC)) as [
      StartedClient,
      StartedClient,
      StartedClient,
    ];
    await expectAfter(bob.proc, 'dereg bob', [BYE]);
    // Both senders know bob is offline (one more table each), so their sends go to the server.
    await waitForTableUpdates(alice.proc, 4);
    await waitForTableUpdates(carol.proc, 2);
    const before = Date.now();
    await expectAfter(alice.proc, 'send bob one', [SAVED]);
    await expectAfter(carol.proc, 'send bob two', [SAVED]);
    await expectAfter(alice.proc, 'send bob three', [SAVED]);
    const after = Date.now();
    await expectAfter(carol.proc, 'send bob four', ['>>> [Mailbox of bob is full, message not delivered]']);
    // Receipts go to online senders, prefixed in group mode.
    await createGroup(carol, 'room');
    await joinGroup(carol, 'room');
    const marks = [alice.proc.mark(), carol.proc.mark()];

    const back = await startClient('bob', port, [], { ...UTC, label: 'bob (back)' });
    const shown = await linesUntilSentinel(back.proc, 3);
    expect(back.proc.lineAt(2)).toBe('>>> [Client table updated.]');
    expect(shown.slice(0, 4)).toEqual([
      '>>> [You have messages]',
      expect.stringMatching(savedLine('alice', 'one')),
      expect.stringMatching(savedLine('carol', 'two')),
      expect.stringMatching(savedLine('alice', 'three')),
    ]);
    expect(shown.join('\n')).not.toContain('four');
    const stamp = / (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) one$/.exec(shown[1]!)![1]!;
    expect(stamp >= utcStamp(before - 1000) && stamp <= utcStamp(after + 1000)).toBe(true);
    await alice.proc.waitForLine('>>> [bob received your saved messages]', { from: marks[0] });
    await carol.proc.waitForLine('>>> (room) [bob received your saved messages]', { from: marks[1] });
    // Once per delivery, and never shown again: the mailbox is empty now.
    await expectAfter(back.proc, 'dereg bob', [BYE]);
    const again = await startClient('bob', port, [], { label: 'bob (once more)' });
    expect(await linesUntilSentinel(again.proc, 3)).toEqual([]);
    expect(alice.proc.linesMatching(/received your saved messages/)).toHaveLength(1);
  });
});

describe('group history (docs/usage.md "Group history and catching up")', () => {
  afterEach(() => expectCleanStderr());

  test('join shows at most the last 10, oldest first; history [n] within 1..100; an empty group says so', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port, [], UTC)) as [StartedClient, StartedClient];
    await createGroup(alice, 'quiet');
    await joinGroup(alice, 'quiet');
    await expectAfter(alice.proc, 'history', [line('[No messages in quiet yet]', 'quiet')]);
    await expectAfter(alice.proc, 'leave_group', ['>>> [Leave group chat quiet]']);
    await createGroup(alice, 'room');
    await joinGroup(alice, 'room');
    for (let i = 1; i <= 12; i++) await sendGroup(alice, 'room', `m${i}`);
    const join = bob.proc.mark();
    bob.proc.send('join_group room');
    const entered = await bob.proc.waitForIndex('>>> [Entered group room successfully]', { from: join });
    const shown = await linesUntilSentinel(bob.proc, entered + 1, 'room');
    expect(shown).toEqual(
      range(3, 12).map((i): unknown => expect.stringMatching(historyLine('room', 'alice', `m${i}`))),
    );

    const last = async (command: string): Promise<string[]> => {
      const from = bob.proc.mark();
      bob.proc.send(command);
      await bob.proc.waitForIndex(historyLine('room', 'alice', 'm12'), { from });
      return linesUntilSentinel(bob.proc, from, 'room');
    };
    expect(await last('history')).toEqual(shown);
    expect(await last('history 1')).toEqual([expect.stringMatching(historyLine('room', 'alice', 'm12'))]);
    expect(await last('history 3')).toEqual(shown.slice(-3));
    expect(await last('history 100')).toEqual(
      range(1, 12).map((i): unknown => expect.stringMatching(historyLine('room', 'alice', `m${i}`))),
    );
    for (const bad of ['history 0', 'history 101', 'history ten', 'history 1 2'])
      await expectAfter(bob.proc, bad, [line('[Invalid command]', 'room')]);
    // Not a group-mode command elsewhere.
    await expectAfter(bob.proc, 'leave_group', ['>>> [Leave group chat room]']);
    await expectAfter(bob.proc, 'history', ['>>> [Invalid command]']);
  });
});

describe('catching up after a reconnect (docs/usage.md "Group history and catching up")', () => {
  afterEach(() => expectCleanStderr());

  test('a member away across a server restart gets what it missed as Group_Message lines, in order, once', async () => {
    const dir = newDataDir();
    const first = await startDurableServer(dir);
    const port = first.port;
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'room');
    await joinGroup(alice, 'room');
    await joinGroup(bob, 'room');
    const bobFrom = bob.proc.mark();
    await sendGroup(alice, 'room', 'before');
    await bob.proc.waitForLine(groupMessage('room', 'alice', 'before'), { from: bobFrom });

    bob.proc.kill('SIGSTOP'); // away: it sees nothing of the restart until it is resumed
    const aliceFrom = alice.proc.mark();
    first.proc.kill('SIGKILL');
    expect(await first.proc.waitForExit()).toEqual({ code: null, signal: 'SIGKILL' });
    await startDurableServer(dir, [], { port, label: 'server (restarted)' });
    await alice.proc.waitForLine('>>> (room) [Reconnected to server]', { from: aliceFrom, timeoutMs: SLOW_EVENT_MS });
    const missed = ['while', 'you', 'were', 'away'];
    for (const text of missed) await sendGroup(alice, 'room', text);

    bob.proc.kill('SIGCONT');
    await bob.proc.waitForLine('>>> (room) [Reconnected to server]', { from: bobFrom, timeoutMs: SLOW_EVENT_MS });
    await sendGroup(alice, 'room', 'live again');
    await bob.proc.waitForLine(groupMessage('room', 'alice', 'live again'), { from: bobFrom });
    const messages = bob.proc.linesMatching(/Group_Message|History_Message/, { from: bobFrom });
    expect(messages).toEqual(['before', ...missed, 'live again'].map((text) => groupMessage('room', 'alice', text)));
    expect(bob.proc.linesMatching(/You were removed/, { from: bobFrom })).toEqual([]);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * docs/usage.md "How output looks": the prompt `>>> ` is drawn only when stdin is a TTY. The other e2e
 * tests use pipes and see no prompt; this one runs the client under `script`
 * (util-linux) to get a pseudo-terminal. Skipped where `script` is missing.
 */
import { spawnSync } from 'node:child_process';
import { startCli, type CliProcess } from '../../testkit/cli-process';
import { startClient, startServer } from '../../testkit/chat-roles';
import { closedPort } from '../helpers/ports';

function hasUtilLinuxScript(): boolean {
  const probe = spawnSync('script', ['-q', '-e', '-c', 'true', '/dev/null'], { stdio: 'ignore', timeout: 5_000 });
  return probe.status === 0;
}

/**
 * What a terminal shows for each line: text before a carriage return, a
 * cursor-to-column-1 or a clear-line sequence is overwritten, other control
 * sequences are dropped.
 */
function strip(text: string): string {
  return text
    .split('\n')
    .map((row) => {
      const pieces = row.split(/\r|\x1b\[(?:1G|2K)/).filter((p) => p.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '') !== '');
      return (pieces.at(-1) ?? '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    })
    .join('\n');
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `chatapp <args>` on a pseudo-terminal (util-linux `script`). */
function onTty(args: readonly string[], label: string): CliProcess {
  return startCli(args, {
    label: `${label} (tty)`,
    wrap: (argv) => ({ file: 'script', args: ['-q', '-f', '-e', '-c', argv.map(shellQuote).join(' '), '/dev/null'] }),
  });
}

/**
 * docs/usage.md "The prompt": once the process has exited, the screen ends
 * with `last` on its own line and nothing after it — no prompt left behind,
 * none doubled anywhere, no prompt-only line.
 */
async function expectCleanEnd(proc: CliProcess, last: string, code = 0): Promise<void> {
  expect(await proc.waitForExit()).toEqual({ code, signal: null });
  const rows = strip(proc.output()).split('\n');
  expect(rows.at(-1)).toBe(''); // the shell's prompt starts on a fresh line
  expect(rows.at(-2)).toBe(last);
  expect(rows.filter((r) => r.includes('>>> >>>') || /^>>> (\([^)]*\) )?$/.test(r))).toEqual([]);
}

(hasUtilLinuxScript() ? describe : describe.skip)('prompt on a TTY (docs/usage.md "How output looks")', () => {
  test('a client on a terminal draws the >>> prompt; on a pipe it does not', async () => {
    const { port } = await startServer();
    const tty = startCli(['-c', 'alice', '127.0.0.1', String(port), '0'], {
      label: 'client alice (tty)',
      wrap: (argv) => ({ file: 'script', args: ['-q', '-f', '-e', '-c', argv.map(shellQuote).join(' '), '/dev/null'] }),
    });
    // On a terminal, lines carry control sequences (clear line, redraw the prompt).
    await tty.waitForLine((l) => strip(l).endsWith('>>> [Welcome, You are registered.]'));
    tty.send('list_groups');
    // The typed command is echoed behind the prompt: `>>> list_groups`.
    await tty.waitForLine(function promptThenCommand(l) {
      return strip(l) === '>>> list_groups';
    });
    await tty.waitForLine((l) => strip(l).endsWith('>>> [No group chats available.]'));
    tty.send('dereg alice');
    await tty.waitForLine((l) => strip(l).endsWith('>>> [You are Offline. Bye.]'));

    // Same client on a pipe: every line is a clean output line, no prompt.
    const piped = startCli(['-c', 'bob', '127.0.0.1', String(port), '0']);
    await piped.waitForLine('>>> [Client table updated.]');
    piped.send('list_groups');
    await piped.waitForLine('>>> [No group chats available.]');
    piped.endInput();
    expect(await piped.waitForExit()).toEqual({ code: 0, signal: null });
    expect(piped.lines().filter((l) => !/^>>> \[[^\]]*\]$/.test(l))).toEqual([]);
  });

  test('an incoming line does not break the line being typed: it is printed above and the typed text is redrawn', async () => {
    const { port } = await startServer();
    const tty = startCli(['-c', 'alice', '127.0.0.1', String(port), '0'], {
      label: 'client alice (tty)',
      wrap: (argv) => ({ file: 'script', args: ['-q', '-f', '-e', '-c', argv.map(shellQuote).join(' '), '/dev/null'] }),
    });
    await tty.waitForLine((l) => strip(l).endsWith('>>> [Client table updated.]'));
    const bob = await startClient('bob', port);
    await tty.waitUntil(
      'the table update for bob',
      () => strip(tty.output()).split('>>> [Client table updated.]').length >= 3,
    );
    tty.write('send bob hel'); // typed, not finished
    await tty.waitUntil('the echo of the typed text', () => strip(tty.output()).endsWith('>>> send bob hel'));
    bob.proc.send('send alice interrupting you');
    await bob.proc.waitForLine('>>> [Message received by alice.]');
    // The message shows as its own line, and the prompt with the typed text is drawn again below it.
    await tty.waitUntil('the incoming line, then the redrawn input', () =>
      /\n>>> bob: interrupting you\n>>> send bob hel$/.test(strip(tty.output())),
    );
    tty.send('lo');
    // The typed line survived the interruption: bob receives the whole message.
    await bob.proc.waitForLine('>>> alice: hello');
  });

  describe('no stray prompt is left on the screen, however the session ends', () => {
    const started = async (port: number, name = 'alice'): Promise<CliProcess> => {
      const tty = onTty(['-c', name, '127.0.0.1', String(port), '0'], `client ${name}`);
      await tty.waitForLine((l) => strip(l).endsWith('>>> [Client table updated.]'));
      await tty.waitUntil('the prompt', () => strip(tty.output()).endsWith('>>> '));
      return tty;
    };

    test('dereg', async () => {
      const { port } = await startServer();
      const tty = await started(port);
      tty.send('dereg alice');
      await expectCleanEnd(tty, '>>> [You are Offline. Bye.]');
    });

    test('Ctrl+C, in normal mode and in group mode', async () => {
      const { port } = await startServer();
      const normal = await started(port);
      normal.write('\x03');
      await expectCleanEnd(normal, '>>> [You are Offline. Bye.]');
      const grouped = await started(port, 'bob');
      grouped.send('create_group roomA');
      await grouped.waitForLine((l) => strip(l).endsWith('>>> [Group roomA created by Server.]'));
      grouped.send('join_group roomA');
      await grouped.waitUntil('the group prompt', () => strip(grouped.output()).endsWith('>>> (roomA) '));
      grouped.write('\x03');
      await expectCleanEnd(grouped, '>>> (roomA) [You are Offline. Bye.]');
    });

    test('Ctrl+D (end of input)', async () => {
      const { port } = await startServer();
      const tty = await started(port);
      tty.write('\x04');
      await expectCleanEnd(tty, '>>> [You are Offline. Bye.]');
    });

    test('Exiting (no server answers) and a name in use', async () => {
      const port = await closedPort();
      const lost = onTty(
        ['-c', 'alice', '127.0.0.1', String(port), '0', '--ack-timeout', '100', '--retries', '1'],
        'client alice',
      );
      await expectCleanEnd(lost, '>>> [Exiting]', 1);
      const { port: serverPort } = await startServer();
      await startClient('alice', serverPort);
      const taken = onTty(['-c', 'alice', '127.0.0.1', String(serverPort), '0'], 'second alice');
      await expectCleanEnd(taken, '>>> [Name alice is already in use. Try another one.]', 1);
    });

    test('a peer: exit, Ctrl+C and Ctrl+D', async () => {
      for (const [i, leave] of (['exit\n', '\x03', '\x04'] as const).entries()) {
        const peer = onTty(['-p', `p${i}`, '0'], `peer p${i}`);
        await peer.waitForLine((l) => strip(l).includes('New chat started, reachable at 127.0.0.1:'));
        await peer.waitUntil('the prompt', () => strip(peer.output()).endsWith('>>> '));
        peer.write(leave);
        await expectCleanEnd(peer, '>>> [You left the chat]');
      }
    });
  });
});

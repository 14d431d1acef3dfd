/**
 * SPEC §2: the prompt `>>> ` is drawn only when stdin is a TTY. The other e2e
 * tests use pipes and see no prompt; this one runs the client under `script`
 * (util-linux) to get a pseudo-terminal. Skipped where `script` is missing.
 */
import { spawnSync } from 'node:child_process';
import { startCli } from '../../testkit/cli-process';
import { startClient, startServer } from '../../testkit/chat-roles';

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

(hasUtilLinuxScript() ? describe : describe.skip)('prompt on a TTY (SPEC §2)', () => {
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
    await tty.waitUntil('the table update for bob', () => strip(tty.output()).split('>>> [Client table updated.]').length >= 3);
    tty.write('send bob hel'); // typed, not finished
    await tty.waitUntil('the echo of the typed text', () => strip(tty.output()).endsWith('>>> send bob hel'));
    bob.proc.send('send alice interrupting you');
    await bob.proc.waitForLine('>>> [Message received by alice.]');
    // The message shows as its own line, and the prompt with the typed text is drawn again below it.
    await tty.waitUntil('the incoming line, then the redrawn input', () => /\n>>> bob: interrupting you\n>>> send bob hel$/.test(strip(tty.output())));
    tty.send('lo');
    // The typed line survived the interruption: bob receives the whole message.
    await bob.proc.waitForLine('>>> alice: hello');
  });
});

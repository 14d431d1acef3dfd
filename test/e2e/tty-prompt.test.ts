/**
 * SPEC §2: the prompt `>>> ` is drawn only when stdin is a TTY. The other e2e
 * tests use pipes and see no prompt; this one runs the client under `script`
 * (util-linux) to get a pseudo-terminal. Skipped where `script` is missing.
 */
import { spawnSync } from 'node:child_process';
import { startCli, startServer } from '../helpers/cli-process';

function hasUtilLinuxScript(): boolean {
  const probe = spawnSync('script', ['-q', '-e', '-c', 'true', '/dev/null'], { stdio: 'ignore', timeout: 5_000 });
  return probe.status === 0;
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
    const strip = (l: string): string => l.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
    await tty.waitForLine((l) => strip(l).endsWith('>>> [Welcome, You are registered.]'));
    tty.send('list_groups');
    // The typed command is echoed behind the prompt: `>>> list_groups`.
    await tty.waitForLine(function promptThenCommand(l) {
      return /^(>>> )+list_groups$/.test(strip(l));
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
});

/**
 * docs/usage.md "Command-line mistakes" (command-line validation) and §2 exit codes, on the real CLI.
 * Usage errors go to stderr with exit 2 and never contact a server; a port
 * already in use is a runtime failure (exit 1) printed as a `>>> ` line.
 */
import { startCli, type CliProcess } from '../../testkit/cli-process';
import { startClient, startServer } from '../../testkit/chat-roles';
import { closedPort } from '../helpers/ports';

/**
 * Safety net for a process to boot, validate and exit: several are started at once, and on a
 * loaded 2-core machine (load average 15+) booting them took over the default 10 s.
 */
const EXIT_TIMEOUT_MS = 25_000; // under the 30 s test timeout, so a miss still shows the process

async function expectUsageError(args: string[], message: string): Promise<void> {
  const proc = startCli(args);
  proc.endInput();
  const exit = await proc.waitForExit(EXIT_TIMEOUT_MS);
  expect({ exit, stderr: proc.lines('stderr')[0] }).toEqual({ exit: { code: 2, signal: null }, stderr: message });
  // Nothing user-facing is printed for a usage error, and no stack trace anywhere.
  expect(proc.lines('stdout')).toEqual([]);
  expect(proc.lines('stderr').join('\n')).not.toMatch(/\n\s+at /);
}

async function expectExit(proc: CliProcess, code: number): Promise<void> {
  expect(await proc.waitForExit(EXIT_TIMEOUT_MS)).toEqual({ code, signal: null });
}

describe('command-line validation (docs/usage.md "Command-line mistakes")', () => {
  test.each(['65536', '666a', '-1', '6.5', '', '99999', '1e3'])(
    'server mode rejects server port %p with exit 2',
    async (port) => {
      await expectUsageError(['-s', port], `Invalid server port number: ${port}`);
    },
  );

  test('client mode rejects every bad server port with exit 2', async () => {
    const port = String(await closedPort());
    await Promise.all(
      ['65536', '666a', '-1', '6.5'].map((bad) =>
        expectUsageError(['-c', 'alice', '127.0.0.1', bad, '0'], `Invalid server port number: ${bad}`),
      ),
    );
    // A valid listen port next to the bad server port does not change the message.
    await expectUsageError(['-c', 'alice', '127.0.0.1', '70000', port], 'Invalid server port number: 70000');
  });

  test('client mode rejects every bad listen port with exit 2', async () => {
    const port = String(await closedPort());
    await Promise.all(
      ['65536', '666a', '-1', '6.5'].map((bad) =>
        expectUsageError(['-c', 'alice', '127.0.0.1', port, bad], `Invalid client port number: ${bad}`),
      ),
    );
  });

  test('peer mode rejects a bad listen port with exit 2', async () => {
    await expectUsageError(['-p', 'alice', '65536'], 'Invalid client port number: 65536');
  });

  test('client mode rejects bad server hosts with exit 2', async () => {
    const port = String(await closedPort());
    await Promise.all(
      ['127.0.9999.1', '1.2.3', '256.1.1.1', 'bad host', 'under_score.example', 'a..b'].map((bad) =>
        expectUsageError(['-c', 'alice', bad, port, '0'], `Invalid server IP address: ${bad}`),
      ),
    );
  });

  test('client and peer modes reject bad names with exit 2', async () => {
    const port = String(await closedPort());
    const bad = ['roomB;', 'a b', 'x'.repeat(33), 'émile', 'a/b', ''];
    await Promise.all([
      ...bad.map((name) => expectUsageError(['-c', name, '127.0.0.1', port, '0'], `Invalid name: ${name}`)),
      expectUsageError(['-p', 'roomB;', '0'], 'Invalid name: roomB;'),
    ]);
  });

  test('the longest valid name (32 chars of every allowed kind) passes validation', async () => {
    // A name that passes validation reaches the network: with nothing listening
    // the client reports the server as not responding (exit 1), not a usage error.
    const port = String(await closedPort());
    const proc = startCli([
      '-c',
      'Az09_.-'.repeat(4) + 'abcd',
      '127.0.0.1',
      port,
      '0',
      '--ack-timeout',
      '100',
      '--retries',
      '1',
    ]);
    await expectExit(proc, 1);
    expect(proc.lines('stderr').join('\n')).not.toMatch(/Invalid name/);
  });

  test('wrong number of arguments and no mode are usage errors (exit 2)', async () => {
    const cases = [
      ['-c', 'alice', '127.0.0.1'],
      ['-s'],
      [],
      ['-s', '0', '-c', 'alice', '127.0.0.1', '1', '0'],
      ['-s', '0', 'extra'],
    ];
    await Promise.all(
      cases.map(async (args) => {
        const proc = startCli(args);
        proc.endInput();
        await expectExit(proc, 2);
        expect(proc.lines('stderr').length).toBeGreaterThan(0);
        expect(proc.lines('stdout')).toEqual([]);
      }),
    );
  });

  test('a bad option value is a usage error (exit 2): Invalid <option>: <value>', async () => {
    await expectUsageError(['-s', '0', '--ack-timeout', 'soon'], 'Invalid --ack-timeout: soon');
    await expectUsageError(['-s', '0', '--ack-timeout', '-1'], 'Invalid --ack-timeout: -1');
    await expectUsageError(['-c', 'alice', '127.0.0.1', '1', '0', '--retries', '0'], 'Invalid --retries: 0');
  });

  test('the options of the gateways, the cluster and the logs are checked before anything starts (exit 2)', async () => {
    const cases: Array<[string[], string]> = [
      [['-s', '0', '--irc-port', 'x'], 'Invalid --irc-port: x'],
      [['-s', '0', '--http-port', '70000'], 'Invalid --http-port: 70000'],
      [
        ['-s', '0', '--log-level', 'loud'],
        'Invalid --log-level: loud (one of trace, debug, info, warn, error, fatal, silent)',
      ],
      [['-s', '0', '--redis', 'ftp://x'], 'Invalid --redis: ftp://x'],
      [['-c', 'alice', '127.0.0.1', '1', '0', '--servers', 'nowhere'], 'Invalid --servers: nowhere'],
      [['-s', '0', '--tls-cert', '/nonexistent.pem'], 'Invalid --tls-cert: /nonexistent.pem (--tls-key is missing)'],
    ];
    await Promise.all(cases.map(([args, message]) => expectUsageError(args, message)));
  });

  test('an invalid name states the allowed characters and length on a second line', async () => {
    const proc = startCli(['-c', 'a b', '127.0.0.1', '5000', '0']);
    expect(await proc.waitForExit()).toEqual({ code: 2, signal: null });
    expect(proc.lines('stderr')).toEqual([
      'Invalid name: a b',
      'Names are 1 to 32 characters: letters A-Z a-z, digits 0-9, _ . -',
    ]);
  });

  test('--help prints usage and the options, exit 0', async () => {
    const proc = startCli(['--help']);
    await expectExit(proc, 0);
    const out = proc.lines().join('\n');
    expect(out).toMatch(/^Usage: chatapp /);
    for (const option of [
      '--ack-timeout',
      '--retries',
      '--heartbeat',
      '--max-message-length',
      '-s, --server',
      '-c, --client',
      '-p, --peer',
    ]) {
      expect(out).toContain(option);
    }
  });

  test('--version prints the package version, exit 0', async () => {
    const proc = startCli(['--version']);
    await expectExit(proc, 0);
    const { version } = require('../../package.json') as { version: string };
    expect(proc.lines()).toEqual([version]);
  });
});

describe('port already in use (docs/usage.md "Command-line mistakes", exit 1)', () => {
  test('a server on a port another server holds prints the port-in-use line and exits 1', async () => {
    const { port } = await startServer();
    const second = startCli(['-s', String(port)], { label: 'second server' });
    // docs/usage.md "Command-line mistakes" table: the message goes to stderr.
    await second.waitForLine(`>>> [Port ${port} is already in use]`, { stream: 'stderr' });
    await expectExit(second, 1);
  });

  test('a client whose listen port another client holds prints the port-in-use line and exits 1', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const bob = startCli(['-c', 'bob', '127.0.0.1', String(port), String(alice.listenPort)], { label: 'client bob' });
    await bob.waitForLine(`>>> [Port ${alice.listenPort} is already in use]`, { stream: 'stderr' });
    await expectExit(bob, 1);
    // It never registered: the server's table did not change for it.
    expect(bob.lines()).not.toContain('>>> [Welcome, You are registered.]');
  });
});

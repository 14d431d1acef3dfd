/**
 * TLS by default and trust on first use (docs/usage.md "TLS", docs/security.md),
 * on the real CLI: the trust line once per server, a changed certificate
 * refused (at start and on a reconnect) until its line is removed from
 * known_servers, TLS on one side only ending in a clear line and exit 1,
 * and the `--tls-cert`/`--tls-key` checks.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startClient, startServer } from '../../testkit/chat-roles';
import { startCli } from '../../testkit/cli-process';
import { SLOW_EVENT_MS, expectAfter, expectCleanStderr, line } from '../helpers/e2e-chat';
import { removeTempDirs, tempDir } from '../helpers/temp-dir';

const TRUST = /^>>> \[Trusting server 127\.0\.0\.1:(\d+) with fingerprint ([0-9a-f]{64})\]$/;
const FINGERPRINT = /^>>> \[TLS certificate fingerprint ([0-9a-f]{64})\]$/;

/** A client that is expected to fail before registering (its startup lines are never all printed). */
function clientProcess(name: string, port: number, extra: readonly string[] = []): ReturnType<typeof startCli> {
  return startCli(['-c', name, '127.0.0.1', String(port), '0', ...extra], { label: `client ${name}` });
}

function changedLine(port: number): string {
  return line(`[Server identity for 127.0.0.1:${port} has changed. Refusing to connect.]`);
}

describe('TLS and trust on first use', () => {
  afterEach(() => expectCleanStderr());

  test('the first client pins the fingerprint the server prints, once; later clients of that user trust it silently', async () => {
    const server = await startServer();
    const printed = FINGERPRINT.exec(await server.proc.waitForLine(FINGERPRINT))![1];
    const alice = await startClient('alice', server.port);
    const trust = alice.proc.linesMatching(TRUST);
    expect(trust).toEqual([line(`[Trusting server 127.0.0.1:${server.port} with fingerprint ${printed}]`)]);
    const bob = await startClient('bob', server.port);
    expect(bob.proc.linesMatching(TRUST)).toEqual([]);
    const pins = fs.readFileSync(path.join(alice.proc.dataHome, 'chatapp', 'known_servers'), 'utf8');
    expect(pins).toBe(`127.0.0.1:${server.port} ${printed}\n`);
    await expectAfter(bob.proc, 'list_groups', ['>>> [No group chats available.]']);
  });

  test('a server with another certificate is refused (exit 1) until its line is removed from known_servers', async () => {
    const first = await startServer();
    const alice = await startClient('alice', first.port);
    const port = first.port;
    await first.proc.stop();
    await alice.proc.waitForLine('>>> [Server connection lost]', { timeoutMs: SLOW_EVENT_MS });
    // A new server on the same port with a fresh certificate: alice's reconnect re-checks the pin.
    await startServer([], { port, label: 'server (new certificate)' });
    await alice.proc.waitForLine(changedLine(port), { timeoutMs: SLOW_EVENT_MS });
    expect(await alice.proc.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    // A fresh start is refused too, before registering.
    const again = clientProcess('alice', port);
    expect(await again.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    expect(again.lines().slice(1)).toEqual([changedLine(port)]);
    // Removing the line accepts the new certificate (pinned anew, said once).
    const known = path.join(again.dataHome, 'chatapp', 'known_servers');
    fs.writeFileSync(
      known,
      fs
        .readFileSync(known, 'utf8')
        .split('\n')
        .filter((l) => !l.startsWith(`127.0.0.1:${port} `))
        .join('\n'),
    );
    const accepted = await startClient('alice', port);
    expect(accepted.proc.linesMatching(TRUST)).toHaveLength(1);
  });

  test('a --no-tls client meeting a TLS server says so and exits 1', async () => {
    const { port } = await startServer();
    const plain = clientProcess('alice', port, ['--no-tls']);
    expect(await plain.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    expect(plain.lines().slice(1)).toEqual([
      line(`[Server 127.0.0.1:${port} expects TLS; run the client without --no-tls.]`),
    ]);
  });

  test('a TLS client meeting a --no-tls server says so and exits 1; a --no-tls client talks to it', async () => {
    const { proc: server, port } = await startServer(['--no-tls']);
    expect(server.linesMatching(FINGERPRINT)).toEqual([]);
    const tls = clientProcess('alice', port);
    expect(await tls.waitForExit(SLOW_EVENT_MS)).toEqual({ code: 1, signal: null });
    expect(tls.lines().slice(1)).toEqual([
      line(`[Server 127.0.0.1:${port} does not speak TLS (is it running with --no-tls?). Refusing to connect.]`),
    ]);
    const plain = await startClient('bob', port, ['--no-tls']);
    await expectAfter(plain.proc, 'list_groups', ['>>> [No group chats available.]']);
  });

  test('--tls-cert/--tls-key name the certificate served', async () => {
    // The certificate another server made in its data directory, served by a second one.
    const maker = await startServer();
    const made = FINGERPRINT.exec(await maker.proc.waitForLine(FINGERPRINT))![1];
    const served = await startServer(['--ephemeral', ...maker.sameCertificate]);
    expect(FINGERPRINT.exec(await served.proc.waitForLine(FINGERPRINT))![1]).toBe(made);
    const alice = await startClient('alice', served.port);
    expect(TRUST.exec(alice.proc.linesMatching(TRUST)[0]!)![2]).toBe(made);
  });
});

describe('TLS options are checked before anything starts', () => {
  afterAll(() => removeTempDirs());

  test('a missing or unusable --tls-cert/--tls-key is a usage error (exit 2)', async () => {
    const dir = tempDir('chatapp-tls-');
    const missing = path.join(dir, 'nope.pem');
    const junk = path.join(dir, 'junk.pem');
    fs.writeFileSync(junk, 'not a certificate\n');
    const cases: Array<[string[], string]> = [
      [['--tls-cert', missing, '--tls-key', missing], `Invalid --tls-cert: ${missing}`],
      [['--tls-cert', junk, '--tls-key', junk], `Invalid --tls-cert: ${junk}`],
    ];
    for (const [args, expected] of cases) {
      const bad = startCli(['-s', '0', '--ephemeral', ...args]);
      expect(await bad.waitForExit()).toEqual({ code: 2, signal: null });
      expect(bad.lines('stderr')).toEqual([expected]);
      expect(bad.lines()).toEqual([]);
    }
  });
});

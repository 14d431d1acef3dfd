import path from 'node:path';
import { tempDir } from '../helpers/temp-dir';
import { PassThrough } from 'node:stream';
import { runClientMode } from '../../src/cli/client-mode';
import type { Terminal } from '../../src/cli/terminal-io';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';
import { FakeClock } from '../helpers/fake-clock';
import { FakeServer, healthyScript, settle } from './client-fake-server';

/**
 * docs/usage.md: the client prints `[Client table updated.]` at most once a
 * second — the first push at once, the pushes of the following second as one
 * trailing line — while the registration sequence (Welcome, then the first
 * table line) and the line after a reconnect keep their place. Driven with a
 * fake clock against a scripted in-memory server.
 */

const TABLE = '>>> [Client table updated.]';

/** stdin/stdout as pipes; stdout collected as lines. */
function fakeTerminal(): Terminal & { stdin: PassThrough; lines: string[] } {
  const stdout = new PassThrough();
  const lines: string[] = [];
  let buffer = '';
  stdout.on('data', (chunk: Buffer) => {
    const parts = (buffer + chunk.toString('utf8')).split('\n');
    buffer = parts.pop() ?? '';
    lines.push(...parts);
  });
  return { stdin: new PassThrough(), stdout, stderr: new PassThrough(), lines, onSignal: () => () => undefined };
}

describe('client-mode table-update line (docs/usage.md)', () => {
  it('prints the first push at once, merges a burst into one line a second later, and prints at once again after a quiet second', async () => {
    const clock = new FakeClock();
    const server = new FakeServer(
      healthyScript(() => []),
      clock,
    );
    const term = fakeTerminal();
    const options = {
      name: 'alice',
      serverHost: '127.0.0.1',
      serverPort: 1,
      listenPort: 0,
      limits: { ...DEFAULT_LIMITS, heartbeatMs: 0 },
      identityFile: path.join(tempDir(), 'alice.key'),
    };
    const exit = runClientMode(options, term, { dial: server.dialer(), listenHost: '127.0.0.1', clock });
    await settle(() => term.lines.includes(TABLE));
    expect(term.lines.slice(1)).toEqual(['>>> [Welcome, You are registered.]', TABLE]);

    const session = server.sessions[0]!;
    const push = (rev: number): void => session.send({ type: 'table', rev, full: false, clients: [] });
    for (let rev = 2; rev < 22; rev++) push(rev); // a burst of 20 pushes
    await settle(() => false, 20);
    expect(term.lines.filter((l) => l === TABLE)).toHaveLength(1);
    clock.advance(999);
    await settle(() => false, 5);
    expect(term.lines.filter((l) => l === TABLE)).toHaveLength(1);
    clock.advance(1);
    await settle(() => term.lines.filter((l) => l === TABLE).length === 2);
    expect(term.lines.filter((l) => l === TABLE)).toHaveLength(2);

    clock.advance(5_000);
    push(22);
    await settle(() => term.lines.filter((l) => l === TABLE).length === 3);
    expect(term.lines.filter((l) => l === TABLE)).toHaveLength(3);

    // Lost and back within the second: the table after re-registering is printed at once, before Reconnected.
    server.dropAll();
    await settle(() => term.lines.includes('>>> [Server connection lost]'));
    clock.advance(100); // first reconnect backoff
    await settle(() => term.lines.includes('>>> [Reconnected to server]'));
    const lost = term.lines.indexOf('>>> [Server connection lost]');
    expect(term.lines.slice(lost)).toEqual(['>>> [Server connection lost]', TABLE, '>>> [Reconnected to server]']);

    term.stdin.end();
    expect(await exit).toBe(0);
    expect(clock.pending).toBe(0); // no trailing line left behind
  });
});

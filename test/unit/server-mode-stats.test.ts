import { PassThrough } from 'node:stream';
import { runServerMode } from '../../src/cli/server-mode';
import type { Terminal } from '../../src/cli/terminal-io';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';

/** Server mode prints one JSON stats line on stderr per stats request (SIGUSR2), never on stdout. */
describe('server mode stats line (docs/architecture.md "Server")', () => {
  it('writes {"msg":"stats",...} to stderr on request and nothing to stdout', async () => {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const out: string[] = [];
    const err: string[] = [];
    const waiters: Array<() => void> = [];
    const collect = (stream: PassThrough, into: string[]): void => {
      stream.on('data', (chunk: Buffer) => {
        into.push(
          ...chunk
            .toString('utf8')
            .split('\n')
            .filter((l) => l.length > 0),
        );
        for (const w of waiters.splice(0)) w();
      });
    };
    collect(stdout, out);
    collect(stderr, err);
    const until = async (pred: () => boolean): Promise<void> => {
      while (!pred()) await new Promise<void>((r) => waiters.push(r));
    };
    let stop: (() => void) | null = null;
    let stats: (() => void) | null = null;
    const io: Terminal = {
      stdin: new PassThrough(),
      stdout,
      stderr,
      onSignal(h) {
        stop = () => h('SIGTERM');
        return () => (stop = null);
      },
      onStatsRequest(h) {
        stats = h;
        return () => (stats = null);
      },
    };
    const exit = runServerMode(
      {
        port: 0,
        limits: { ...DEFAULT_LIMITS, heartbeatMs: 0 },
        limitLoopback: false,
        logText: true,
        state: { kind: 'memory' },
      },
      io,
    );
    await until(() => out.length >= 1);
    stats!();
    await until(() => err.length >= 1);
    expect(JSON.parse(err[0]!)).toEqual({
      msg: 'stats',
      connections: 0,
      registered: 0,
      unackedDeliveries: 0,
      membersRemovedUnresponsive: 0,
      slowConsumersDropped: 0,
    });
    expect(out).toEqual([expect.stringMatching(/^>>> \[Server is online/), '>>> [Keeping state in memory only]']); // nothing else
    stop!();
    expect(await exit).toBe(0);
    expect(stats).toBeNull(); // unsubscribed on exit
  });
});

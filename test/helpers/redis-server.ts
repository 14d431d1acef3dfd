import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closedPort } from './ports';
import { tempDir } from './temp-dir';

/**
 * A real `redis-server` for the cluster tests (docs/scaling.md): its own
 * instance on a free loopback port, in a temporary directory, with the
 * persistence a node relies on (appendonly, fsync always), stopped after
 * the tests. No mock. Without redis-server the tests that need it are
 * skipped with a line saying why — unless CI=true, where that is a failure.
 */

/** True when the `redis-server` command is on this machine. */
export const haveRedis: boolean = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

const WHY = 'redis-server is not installed (Debian package redis-server)';

/**
 * `describe` for a suite that needs redis-server: skipped (and said so on
 * stderr) without it, failing under CI=true.
 */
export function describeWithRedis(name: string, body: () => void): void {
  if (haveRedis) return describe(name, body);
  if (process.env['CI'] === 'true') {
    describe(name, () => {
      it('needs redis-server', () => {
        throw new Error(`${WHY}; CI must install it (.ci/run)`);
      });
    });
    return;
  }
  process.stderr.write(`SKIPPED: ${name} — ${WHY}\n`);
  describe.skip(name, body);
}

/** A running redis-server. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Stops it with SIGKILL (no shutdown save): what a crash does. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory (its append-only file is read back). */
  restart(): Promise<void>;
  /** Stops it (SIGTERM) and waits. */
  stop(): Promise<void>;
}

/** Starts a redis-server on a free port in a temp dir; resolves once it accepts connections. */
export async function startRedis(): Promise<RedisServer> {
  const port = await closedPort();
  const dir = tempDir();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
    args.push('--appendonly', 'yes', '--appendfsync', 'always', '--protected-mode', 'no');
    const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (chunk: Buffer): void => {
        out += chunk.toString();
        if (out.includes('Ready to accept connections')) {
          proc.stdout.off('data', onData);
          proc.stdout.resume();
          resolve();
        }
      };
      proc.stdout.on('data', onData);
      proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  };
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill: () => stopWith('SIGKILL'),
    restart: start,
    stop: () => stopWith('SIGTERM'),
  };
}

import path from 'node:path';
import { newDataHome } from './data-home';
import { startCli, type CliProcess, type StartOptions } from './cli-process';

/**
 * Starting the CLI in its server and client roles and waiting for the
 * startup lines the CLI prints (README.md), which also tell the ports chosen
 * for port 0.
 */

/** Options for `startServer` / `startClient`. */
export interface RoleOptions extends StartOptions {
  /** Safety net for the startup lines (default `STARTUP_TIMEOUT_MS`). */
  readonly timeoutMs?: number;
}

/**
 * Safety net for one process's startup lines: booting node and the CLI on a
 * loaded 2-core machine (other test workers, other suites) can take several
 * seconds. A process that fails to start exits, which ends the wait at once.
 */
export const STARTUP_TIMEOUT_MS = 20_000;

export interface StartedServer {
  readonly proc: CliProcess;
  /** The port the server printed in its startup line. */
  readonly port: number;
  /**
   * Arguments that make another server present this one's TLS certificate
   * (`--tls-cert`/`--tls-key` of the files in its data directory): a server
   * restarted with a fresh data directory is still the server its clients
   * pinned (docs/usage.md "TLS"). Empty when the certificate is not on disk
   * (`--ephemeral`, `--no-tls`, a data directory the test chose).
   */
  readonly sameCertificate: readonly string[];
}

const SERVER_ONLINE = /^>>> \[Server is online, listening on port (\d+)\]$/;
const CLIENT_LISTENING = /^>>> \[Listening for private messages on port (\d+)\]$/;

/**
 * Starts `chatapp -s <port> ...args` (port 0 unless `options.port`, e.g. to
 * restart on the same one) and waits for `>>> [Server is online, listening on
 * port <port>]`. A server that does not come up is killed before the error is thrown.
 */
export async function startServer(
  args: readonly string[] = [],
  options: RoleOptions & { port?: number } = {},
): Promise<StartedServer> {
  // Each server its own data directory (docs/usage.md "Durable state"), removed with its test (or
  // file), unless the test chose one (a restart on the same directory) or --ephemeral.
  const chosen = args.includes('--data') || args.includes('--ephemeral') || args.includes('--redis');
  const dir = chosen ? null : newDataHome(options.keepAcrossTests === true ? 'file' : 'test');
  const data = dir === null ? [] : ['--data', dir];
  const proc = startCli(['-s', String(options.port ?? 0), ...args, ...data], {
    ...options,
    label: options.label ?? 'server',
  });
  try {
    const line = await proc.waitForLine(SERVER_ONLINE, { timeoutMs: options.timeoutMs ?? STARTUP_TIMEOUT_MS });
    const plain = args.includes('--no-tls') || args.includes('--tls-cert');
    const sameCertificate =
      dir === null || plain
        ? []
        : ['--tls-cert', path.join(dir, 'tls-cert.pem'), '--tls-key', path.join(dir, 'tls-key.pem')];
    return { proc, port: Number(SERVER_ONLINE.exec(line)![1]), sameCertificate };
  } catch (err) {
    await proc.destroy();
    throw err;
  }
}

export interface StartedClient {
  readonly proc: CliProcess;
  readonly name: string;
  /** The port the client listens on for private messages (from its startup line). */
  readonly listenPort: number;
}

/**
 * Starts `chatapp -c <name> 127.0.0.1 <serverPort> 0 ...extraArgs` and waits
 * for `>>> [Listening for private messages on port <p>]`,
 * `>>> [Welcome, You are registered.]` and then `>>> [Client table updated.]`.
 * The stdout cursor is left after that first table update.
 */
export async function startClient(
  name: string,
  serverPort: number,
  extraArgs: readonly string[] = [],
  options: RoleOptions = {},
): Promise<StartedClient> {
  const proc = startCli(['-c', name, '127.0.0.1', String(serverPort), '0', ...extraArgs], {
    ...options,
    label: options.label ?? `client ${name}`,
  });
  const wait = { timeoutMs: options.timeoutMs ?? STARTUP_TIMEOUT_MS };
  const listening = await proc.waitForLine(CLIENT_LISTENING, wait);
  await proc.waitForLine('>>> [Welcome, You are registered.]', wait);
  await proc.waitForLine('>>> [Client table updated.]', wait);
  return { proc, name, listenPort: Number(CLIENT_LISTENING.exec(listening)![1]) };
}

/**
 * Safety net for the startup lines of clients started together: ten node
 * processes booting at once on a loaded 2-core machine can take longer than
 * one client's 10 s. Still bounded, never an assertion about speed.
 */
export const CROWD_START_TIMEOUT_MS = 30_000;

/** Starts several clients concurrently (each as `startClient`, with the `CROWD_START_TIMEOUT_MS` safety net unless `options.timeoutMs`). */
export function startClients(
  names: readonly string[],
  serverPort: number,
  extraArgs: readonly string[] = [],
  options: RoleOptions = {},
): Promise<StartedClient[]> {
  const crowd = { ...options, timeoutMs: options.timeoutMs ?? CROWD_START_TIMEOUT_MS };
  return Promise.all(names.map((n) => startClient(n, serverPort, extraArgs, crowd)));
}

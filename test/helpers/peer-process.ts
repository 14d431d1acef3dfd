import { STARTUP_TIMEOUT_MS } from '../../testkit/chat-roles';
import { startCli, type CliProcess, type StartOptions } from '../../testkit/cli-process';

/**
 * Peer-mode helpers on top of testkit/cli-process.ts (spawning, line waits,
 * cleanup). Every peer listens on port 0 and is reached on 127.0.0.1 only.
 */
export interface StartedPeer {
  readonly proc: CliProcess;
  readonly name: string;
  /** The listen port the peer printed (its startup lines). */
  readonly port: number;
  /** `127.0.0.1:<port>`, to pass to the next peer. */
  readonly address: string;
}

const REACHABLE = /^>>> \[(?:New chat started, reachable|Reachable) at 127\.0\.0\.1:(\d+)\]$/;

/** Starts `chatapp -p <name> 0 [addresses…] [extra…]` without waiting. */
export function spawnPeer(
  name: string,
  addresses: readonly string[] = [],
  extra: readonly string[] = [],
  options: StartOptions = {},
): CliProcess {
  return startCli(['-p', name, '0', ...addresses, ...extra], { label: `peer ${name}`, ...options });
}

/** Waits until a spawned peer printed its loopback address; resolves with its port. */
export async function reachablePort(proc: CliProcess): Promise<number> {
  const line = await proc.waitForLine(REACHABLE, { from: 0, timeoutMs: STARTUP_TIMEOUT_MS });
  return Number(REACHABLE.exec(line)![1]);
}

/** Starts a new chat (no addresses) and waits for its startup lines. */
export async function startChat(
  name: string,
  extra: readonly string[] = [],
  options: StartOptions = {},
): Promise<StartedPeer> {
  const proc = spawnPeer(name, [], extra, options);
  const port = await reachablePort(proc);
  return { proc, name, port, address: `127.0.0.1:${port}` };
}

/** Joins through `addresses` and waits for `[Joined the chat with <others> other peer(s)]` (1 peer, 2 peers). */
export async function joinChat(
  name: string,
  addresses: readonly string[],
  others: number,
  extra: readonly string[] = [],
  options: StartOptions = {},
): Promise<StartedPeer> {
  const proc = spawnPeer(name, addresses, extra, options);
  await proc.waitForLine(`>>> [Joined the chat with ${others} other ${others === 1 ? 'peer' : 'peers'}]`, {
    from: 0,
    timeoutMs: STARTUP_TIMEOUT_MS,
  });
  const port = await reachablePort(proc);
  return { proc, name, port, address: `127.0.0.1:${port}` };
}

/** Runs `peers` and resolves with the listed `name host:port` entries (sorted by name). */
export async function listPeers(peer: StartedPeer, expected: number): Promise<string[]> {
  const from = peer.proc.mark();
  peer.proc.send('peers');
  const header = await peer.proc.waitForIndex('>>> [Peers in the chat:]', { from });
  const entries = await peer.proc.waitForCount(/^>>> [^[]/, expected, { from: header + 1 });
  return entries.slice(0, expected).map((line) => line.slice(4));
}

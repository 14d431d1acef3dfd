import crypto from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { CliProcess } from '../../testkit/cli-process';
import { FloodSocket, lines, type DmFrame, type TestKey } from './dm-attacker';

/**
 * The attacks on a client's listen port (issue 9, finding 5), as functions
 * shared by test/hostile/client-flood.hostile.test.ts and
 * test/helpers/measure-client-attacks.ts (which prints the figures of
 * docs/security.md). Each returns what the attacker saw; the callers look at
 * the victim. Every wait is bounded; none asserts on speed.
 */

/** ms from typing `command` to the victim printing `line` (a round trip through its event loop and the server). */
export async function roundTrip(
  client: CliProcess,
  command: string,
  line: string,
  timeoutMs = 20_000,
): Promise<number> {
  const from = client.mark();
  const started = performance.now();
  client.send(command);
  await client.waitForLine(line, { from, timeoutMs });
  return performance.now() - started;
}

/** Takes round trips one after another while `busy()` holds (and at least `min`). */
export async function sampleWhile(busy: () => boolean, sample: () => Promise<number>, min = 3): Promise<number[]> {
  const samples: number[] = [];
  while (busy() || samples.length < min) samples.push(await sample());
  return samples;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
}

export interface FloodResult {
  readonly sent: number;
  readonly acks: number;
  readonly codes: Record<string, number>;
  readonly connections: number;
  readonly ms: number;
}

/** Writes every frame of `perLink[i]` on link i, `chunk` frames per write, waiting for each write. */
export async function signedFlood(port: number, perLink: readonly DmFrame[][], chunk = 200): Promise<FloodResult> {
  const started = performance.now();
  const sockets = await Promise.all(perLink.map(() => FloodSocket.open(port)));
  await Promise.all(
    sockets.map(async (socket, i) => {
      const frames = perLink[i]!;
      for (let at = 0; at < frames.length && !socket.closed; at += chunk)
        await socket.write(lines(frames.slice(at, at + chunk)));
    }),
  );
  const ms = performance.now() - started;
  const sent = perLink.reduce((sum, frames) => sum + frames.length, 0);
  const result = { sent, acks: 0, codes: {} as Record<string, number>, connections: sockets.length, ms };
  // replies still in flight are not waited for: the caller's checks on the victim are what count
  for (const socket of sockets) {
    result.acks += socket.acks;
    for (const [code, n] of socket.codes) result.codes[code] = (result.codes[code] ?? 0) + n;
    socket.close();
  }
  return result;
}

/** `count` dms from `from` to `to` signed by `key`, texts `<prefix> <n>`. */
export function signedDms(key: TestKey, from: string, to: string, count: number, prefix: string): DmFrame[] {
  return Array.from({ length: count }, (_, n) => key.dm({ from, to, text: `${prefix} ${n}` }));
}

/**
 * Bad signatures as fast as `sockets` parallel links can write them for
 * `durationMs`: dms claiming `claimed` (a name in the victim's table), well
 * formed and signed by `forger` — so each costs a full Ed25519 verify if
 * checked. A link the victim closes is replaced by a new one.
 */
export async function badSignatureFlood(
  port: number,
  options: { claimed: string; to: string; forger: TestKey; sockets: number; batch: number; durationMs: number },
): Promise<FloodResult> {
  const pool = Array.from({ length: 500 }, (_, n) =>
    options.forger.dm({ from: options.claimed, to: options.to, text: `forged ${n}` }),
  );
  const batches = Array.from({ length: 20 }, (_, b) =>
    lines(Array.from({ length: options.batch }, (_, n) => pool[(b * options.batch + n) % pool.length]!)),
  );
  const started = performance.now();
  const deadline = started + options.durationMs;
  const result = { sent: 0, acks: 0, codes: {} as Record<string, number>, connections: 0, ms: 0 };
  const tally = (socket: FloodSocket): void => {
    for (const [code, n] of socket.codes) result.codes[code] = (result.codes[code] ?? 0) + n;
    socket.codes.clear();
  };
  const worker = async (): Promise<void> => {
    let socket: FloodSocket | null = null;
    for (let b = 0; performance.now() < deadline; b++) {
      if (socket === null || socket.closed) {
        if (socket !== null) tally(socket);
        socket = await FloodSocket.open(port).catch(() => null);
        if (socket === null) continue;
        result.connections++;
      }
      if (await socket.write(batches[b % batches.length]!)) result.sent += options.batch;
    }
    if (socket !== null) {
      tally(socket);
      socket.close();
    }
  };
  await Promise.all(Array.from({ length: options.sockets }, worker));
  result.ms = performance.now() - started;
  return result;
}

/** CPU µs one Ed25519 verify of a dm-sized message takes in this process (CPU time, so a loaded machine does not inflate it). */
export function verifyCostUs(samples = 2000): number {
  const { publicKey } = crypto.generateKeyPairSync('ed25519');
  const other = crypto.generateKeyPairSync('ed25519').privateKey;
  const bytes = Buffer.from(JSON.stringify(['chatapp-dm-v1', 'id', 'alice', 'bob', Date.now(), 'forged text']), 'utf8');
  const sig = crypto.sign(null, bytes, other); // well formed, wrong key: a full check, as the attack costs
  const started = process.cpuUsage();
  for (let i = 0; i < samples; i++) crypto.verify(null, bytes, publicKey, sig);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / samples;
}

/** Opens `count` links that never send a frame (they answer pings), `parallel` connects at a time. */
export async function idleLinks(port: number, count: number, parallel = 100): Promise<FloodSocket[]> {
  const sockets: FloodSocket[] = [];
  for (let at = 0; at < count; at += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - at) }, () => FloodSocket.open(port).catch(() => null)),
    );
    for (const socket of batch) if (socket !== null) sockets.push(socket);
  }
  return sockets;
}

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ScenarioOptions, ScenarioResult } from '../harness';

/** The IRC server chatapp's gateway is held against (docs/benchmarks.md "IRC gateway"). */
const ANCHOR = { kind: 'inspircd', binary: '/usr/sbin/inspircd', install: 'apt-get install -y inspircd' } as const;

/**
 * `irc-fanout` (docs/benchmarks.md "IRC gateway"): the IRC anchor runner
 * (bench/irc/run-irc.ts) pointed at chatapp's own `--irc-port` — N IRC
 * clients join #bench over raw sockets and each sends `messages` PRIVMSGs
 * (`window` 0: all at once), counted per (receiver, sender) for deliveries,
 * loss and duplicates — then the same run against InspIRCd on a free port
 * with a temp config, when its binary is installed (else the result says
 * so). Each runs in its own process, as the anchors do. The row is
 * chatapp's; InspIRCd's figures are in `extra.anchor`.
 */
export async function runIrcFanout(options: ScenarioOptions): Promise<ScenarioResult> {
  const ours = await runIrc('chatapp', options);
  if (!fs.existsSync(ANCHOR.binary)) {
    return { ...ours, extra: { ...ours.extra, anchor: `${ANCHOR.binary} is missing: ${ANCHOR.install}` } };
  }
  const nodelay = hasCompiler(); // like for like: chatapp sets TCP_NODELAY, the shim does it for InspIRCd
  const theirs = await runIrc(ANCHOR.kind, options, nodelay ? ['--nodelay'] : []);
  const anchor = {
    server: String(theirs.extra['server']),
    delivered: theirs.delivered,
    expected: theirs.expectedDeliveries,
    lost: theirs.lost,
    duplicates: theirs.duplicates,
    deliveriesPerSec: theirs.deliveriesPerSec,
    latencyMs: theirs.latencyMs,
    serverCpuSeconds: theirs.extra['serverCpuSeconds'],
    otherCpuPct: theirs.extra['otherCpuPct'],
  };
  return { ...ours, extra: { ...ours.extra, anchor } };
}

function runIrc(server: string, options: ScenarioOptions, extraArgs: string[] = []): Promise<ScenarioResult> {
  const script = path.resolve(__dirname, '..', 'irc', 'run-irc.js');
  const args = [script, '--server', server, '--scenario', 'fanout', '--clients', String(options.clients)];
  args.push('--messages', String(options.messages), '--window', String(options.window), ...extraArgs);
  args.push('--size', String(options.size), '--timeout', String(Math.round(options.timeoutMs / 1000)));
  if (server === 'chatapp') {
    for (const arg of options.serverArgs) args.push(`--server-arg=${arg}`);
    for (const arg of options.serverNodeArgs) args.push(`--server-node-arg=${arg}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', options.verbose ? 'inherit' : 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') return reject(new Error(`run-irc --server ${server} exited with ${code}`));
      resolve({ ...fromJsonLine(line), scenario: 'irc-fanout' });
    });
  });
}

/** The inverse of report.ts `jsonLine`: the scenario's own fields go back under `extra`. */
function fromJsonLine(line: string): ScenarioResult {
  const flat = JSON.parse(line) as Record<string, unknown>;
  const result: Record<string, unknown> = { extra: {} };
  const extra = result['extra'] as Record<string, unknown>;
  for (const [key, value] of Object.entries(flat)) (RESULT_FIELDS.has(key) ? result : extra)[key] = value;
  return result as unknown as ScenarioResult;
}

const RESULT_FIELDS: ReadonlySet<string> = new Set([
  'scenario',
  'clients',
  'messagesPerClient',
  'rate',
  'expectedDeliveries',
  'delivered',
  'lost',
  'duplicates',
  'outOfOrder',
  'wallSeconds',
  'deliveriesPerSec',
  'latencyMs',
  'serverPeakRssKB',
  'serverRssPerIdleClientKB',
]);

function hasCompiler(): boolean {
  return spawnSync('cc', ['--version'], { stdio: 'ignore' }).status === 0;
}

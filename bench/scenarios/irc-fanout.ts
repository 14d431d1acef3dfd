import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ScenarioOptions, ScenarioResult } from '../harness';

/**
 * `irc-fanout` (docs/benchmarks.md "IRC gateway"): the IRC anchor runner
 * (bench/irc/run-irc.ts) pointed at chatapp's own `--irc-port` — N IRC
 * clients join #bench and each sends `messages` PRIVMSGs, counted per
 * (receiver, sender) for deliveries, loss and duplicates exactly as for
 * ngIRCd and InspIRCd. It runs in its own process, as the anchors do.
 */
export function runIrcFanout(options: ScenarioOptions): Promise<ScenarioResult> {
  const script = path.resolve(__dirname, '..', 'irc', 'run-irc.js');
  const args = [script, '--server', 'chatapp', '--scenario', 'fanout', '--clients', String(options.clients)];
  args.push('--messages', String(options.messages), '--window', String(options.window));
  args.push('--size', String(options.size), '--timeout', String(Math.round(options.timeoutMs / 1000)));
  for (const arg of options.serverArgs) args.push('--server-arg', arg);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', options.verbose ? 'inherit' : 'ignore'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || line === '') return reject(new Error(`run-irc exited with ${code}`));
      const result = JSON.parse(line) as ScenarioResult;
      resolve({ ...result, scenario: 'irc-fanout' });
    });
  });
}

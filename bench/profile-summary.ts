import fs from 'node:fs';
import path from 'node:path';

/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and prints the functions
 * with the most self time. `node dist/bench/profile-summary.js <file|dir> [top]`
 * (a directory means its newest profile).
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  label: string;
  ms: number;
  pct: number;
}

/** Self time per function (name + file:line), largest first. */
export function selfTimes(profile: CpuProfile): SelfTime[] {
  const byNode = new Map<number, ProfileNode>(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const node = byNode.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url === '' ? '' : ` ${path.basename(url)}:${lineNumber + 1}`;
    const label = `${functionName || '(anonymous)'}${file}`;
    totals.set(label, (totals.get(label) ?? 0) + us);
    all += us;
  });
  return [...totals.entries()]
    .map(([label, us]) => ({ label, ms: us / 1000, pct: (us / Math.max(1, all)) * 100 }))
    .sort((a, b) => b.ms - a.ms);
}

function newestProfile(target: string): string {
  if (!fs.statSync(target).isDirectory()) return target;
  const files = fs
    .readdirSync(target)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(target, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (files[0] === undefined) throw new Error(`no .cpuprofile in ${target}`);
  return files[0];
}

if (require.main === module) {
  const target = process.argv[2];
  if (target === undefined) {
    process.stderr.write('usage: node dist/bench/profile-summary.js <profile.cpuprofile|dir> [top]\n');
    process.exit(2);
  }
  const file = newestProfile(target);
  const top = Number(process.argv[3] ?? 25);
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(`${file}\n  self ms    self %  function\n`);
  for (const entry of selfTimes(profile).slice(0, top)) {
    process.stdout.write(`${entry.ms.toFixed(0).padStart(9)}  ${entry.pct.toFixed(1).padStart(6)}%  ${entry.label}\n`);
  }
}

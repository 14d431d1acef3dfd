import fs from 'node:fs';

/**
 * Readings of a process from Linux /proc, for the memory bounds of the hostile
 * tests and the figures of the benchmark.
 */

/** Memory figures from /proc/<pid>/status, in KiB. */
export interface ProcessMemory {
  /** Resident set size now (VmRSS). */
  rssKB: number;
  /** Peak resident set size (VmHWM). */
  peakRssKB: number;
}

/** VmRSS and VmHWM of `pid` from /proc (Linux). */
export function readMemory(pid: number): ProcessMemory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssKB: field('VmRSS'), peakRssKB: field('VmHWM') };
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** User + system CPU seconds of `pid` from /proc/<pid>/stat. */
export function readCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Open sockets of `pid`: its file descriptors that are sockets, from /proc/<pid>/fd. */
export function countOpenSockets(pid: number): number {
  let count = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) count++;
    } catch {
      // closed while we looked
    }
  }
  return count;
}

/** Soft limit on open files of this process, from /proc/self/limits. */
export function openFileLimit(): number {
  const limits = fs.readFileSync('/proc/self/limits', 'utf8');
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
  return match?.[1] === undefined || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

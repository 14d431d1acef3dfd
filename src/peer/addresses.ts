import os from 'node:os';

/**
 * docs/usage.md "Peer mode": where a new chat can be reached — every non-internal IPv4 address
 * of this host, then 127.0.0.1 — as `<ip>:<port>` strings.
 */
export function reachableAddresses(port: number): string[] {
  const hosts: string[] = [];
  for (const entries of Object.values(os.networkInterfaces())) {
    for (const entry of entries ?? []) {
      const family = entry.family as string | number; // a number on some Node 18 releases
      const ipv4 = family === 'IPv4' || family === 4;
      if (ipv4 && !entry.internal && !hosts.includes(entry.address)) hosts.push(entry.address);
    }
  }
  hosts.push('127.0.0.1');
  return hosts.map((host) => `${host}:${port}`);
}

/** True for loopback addresses (`127.x.x.x`, `::1`, `localhost`). */
export function isLoopback(host: string): boolean {
  return host.startsWith('127.') || host === '::1' || host === 'localhost';
}

/**
 * A member address learned through another member: if that member saw it on
 * loopback (same machine as itself) but we reach that member over the network,
 * the member's own address is the one that works from here.
 */
export function resolveLearnedHost(advertised: string, via: string): string {
  return isLoopback(advertised) && !isLoopback(via) ? via : advertised;
}

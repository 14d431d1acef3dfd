import fs from 'node:fs';
import path from 'node:path';
import type tls from 'node:tls';
import { fingerprintOf } from '../net/tls-cert';

/**
 * What the client makes of a server's certificate (docs/security.md "Trust on
 * first use"): vouched for by the system's CAs, already pinned, pinned now
 * (the first connection to that `<host>:<port>`), or not the pinned one.
 */
export type TrustVerdict =
  | { readonly kind: 'ca' }
  | { readonly kind: 'pinned' }
  | { readonly kind: 'new'; readonly fingerprint: string }
  | { readonly kind: 'changed'; readonly fingerprint: string };

/** `<host>:<port>` as pinned and printed; an IPv6 literal in brackets. */
export function serverAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The pins of `$XDG_DATA_HOME/chatapp/known_servers` (docs/usage.md "Files"):
 * one `<host>:<port> <sha256 hex>` line per server. The file is read at every
 * check, so a line the user deleted lets the next connection (a reconnect
 * too) pin the new certificate; pins are appended, never rewritten, so
 * clients of one user starting together do not lose each other's lines.
 */
export class KnownServers {
  constructor(readonly file: string) {}

  /** The pinned fingerprint of `address`, if any (the first line for it wins). */
  lookup(address: string): string | undefined {
    for (const line of this.read()) {
      const [who, fingerprint] = line.trim().split(/\s+/);
      if (who === address && fingerprint !== undefined) return fingerprint.toLowerCase();
    }
    return undefined;
  }

  /** Pins `fingerprint` for `address` (the directory is made 0700, the file 0600). */
  pin(address: string, fingerprint: string): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    fs.appendFileSync(this.file, `${address} ${fingerprint}\n`, { mode: 0o600 });
  }

  private read(): string[] {
    try {
      return fs.readFileSync(this.file, 'utf8').split('\n');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }
}

/** Decides on a server certificate with trust on first use over a `KnownServers` file. */
export class ServerTrust {
  constructor(private readonly known: KnownServers) {}

  /**
   * The verdict on the certificate of a finished handshake with `address`. A
   * certificate the system's CAs vouch for, issued for `host`, is accepted
   * as is; any other is judged by its SHA-256 fingerprint, pinned if new.
   */
  check(
    socket: tls.TLSSocket,
    host: string,
    port: number,
    checkHost: (cert: tls.PeerCertificate) => boolean,
  ): TrustVerdict {
    const cert = socket.getPeerCertificate();
    if (socket.authorized && checkHost(cert)) return { kind: 'ca' };
    const fingerprint = fingerprintOf(cert.raw);
    const address = serverAddress(host, port);
    const pinned = this.known.lookup(address);
    if (pinned === fingerprint) return { kind: 'pinned' };
    if (pinned !== undefined) return { kind: 'changed', fingerprint };
    this.known.pin(address, fingerprint);
    return { kind: 'new', fingerprint };
  }
}

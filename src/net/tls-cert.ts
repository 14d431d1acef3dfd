import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

/** A certificate and its private key, both PEM: what a TLS listener needs. */
export interface TlsCredentials {
  readonly cert: string;
  readonly key: string;
}

/** File names of the self-signed certificate kept in a server's data directory (docs/usage.md "Files"). */
export const CERT_FILE = 'tls-cert.pem';
export const KEY_FILE = 'tls-key.pem';

/** Ten years: a self-signed certificate is pinned by its fingerprint, so expiry only forces a new pin. */
const VALIDITY_MS = 10 * 365 * 24 * 3600 * 1000;

/**
 * A fresh self-signed certificate (ECDSA P-256, SHA-256), made with the
 * `selfsigned` package (docs/architecture.md "Libraries and why"): node:crypto
 * can make keys but not X.509 certificates.
 */
export async function createSelfSigned(): Promise<TlsCredentials> {
  const { generate } = await import('selfsigned'); // loaded only by a server that makes a certificate
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'chatapp server' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 60_000), // a client whose clock is a little behind still accepts it
    notAfterDate: new Date(now.getTime() + VALIDITY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * The server's certificate kept in `dir`: read when both files are there,
 * otherwise made and written (the key with mode 0600). The same certificate
 * at every start keeps the clients' pins valid (docs/security.md "Trust on first use").
 */
export async function loadOrCreateSelfSigned(dir: string): Promise<TlsCredentials> {
  const certFile = path.join(dir, CERT_FILE);
  const keyFile = path.join(dir, KEY_FILE);
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  }
  const made = await createSelfSigned();
  fs.writeFileSync(keyFile, made.key, { mode: 0o600 });
  fs.writeFileSync(certFile, made.cert, { mode: 0o644 });
  return made;
}

/** Why a certificate or key given on the command line cannot be used; `which` names the culprit. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
  constructor(readonly which: 'cert' | 'key') {
    super(`unusable TLS ${which}`);
  }
}

/**
 * Reads `--tls-cert` / `--tls-key` and checks that they are a PEM
 * certificate and the private key that belongs to it. Throws TlsFilesError.
 */
export function readTlsFiles(certFile: string, keyFile: string): TlsCredentials {
  const cert = readOr(certFile, 'cert');
  const key = readOr(keyFile, 'key');
  try {
    new crypto.X509Certificate(cert);
  } catch {
    throw new TlsFilesError('cert');
  }
  try {
    crypto.createPrivateKey(key);
    tls.createSecureContext({ cert, key }); // throws when the key does not match the certificate
  } catch {
    throw new TlsFilesError('key');
  }
  return { cert, key };
}

function readOr(file: string, which: 'cert' | 'key'): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    throw new TlsFilesError(which);
  }
}

/** The SHA-256 fingerprint of a DER certificate as lower-case hex (what `known_servers` pins). */
export function fingerprintOf(der: Buffer): string {
  return crypto.createHash('sha256').update(der).digest('hex');
}

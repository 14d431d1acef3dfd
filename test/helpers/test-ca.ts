import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { generate } from 'selfsigned';
import { tempDir } from './temp-dir';

/** A test certificate authority and a server certificate it signed, as files a server is started with. */
export interface TestCertificates {
  /** The CA's certificate (PEM): what a client is told to trust. */
  readonly caPem: string;
  /** The server's certificate and key files (`--tls-cert`, `--tls-key`). */
  readonly certFile: string;
  readonly keyFile: string;
  /** base64 SHA-256 of the server certificate's public key (Chromium's `--ignore-certificate-errors-spki-list`). */
  readonly spkiHash: string;
  /** The server args that serve this certificate. */
  readonly serverArgs: readonly string[];
}

const DAY_MS = 24 * 3600 * 1000;

/**
 * A CA made for one test file and a server certificate for `localhost` and
 * `127.0.0.1` signed by it, written to a temporary directory (removed by
 * `removeTempDirs`). A client that trusts `caPem` verifies the server as it
 * would a real CA-issued certificate — no trust on first use involved.
 */
export async function makeTestCertificates(): Promise<TestCertificates> {
  const now = Date.now();
  const validity = { notBeforeDate: new Date(now - DAY_MS), notAfterDate: new Date(now + DAY_MS) };
  const ca = await generate([{ name: 'commonName', value: 'chatapp test CA' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ...validity,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ...validity,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  const dir = tempDir('chatapp-ca-');
  const certFile = path.join(dir, 'server-cert.pem');
  const keyFile = path.join(dir, 'server-key.pem');
  fs.writeFileSync(certFile, leaf.cert);
  fs.writeFileSync(keyFile, leaf.private, { mode: 0o600 });
  const spki = new crypto.X509Certificate(leaf.cert).publicKey.export({ type: 'spki', format: 'der' });
  return {
    caPem: ca.cert,
    certFile,
    keyFile,
    spkiHash: crypto.createHash('sha256').update(spki).digest('base64'),
    serverArgs: ['--tls-cert', certFile, '--tls-key', keyFile],
  };
}

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { chatappDataHome } from '../util/data-home';
import { Identity } from './identity';

/** An identity file that cannot be used; the CLI prints `[Cannot use identity file <file>: <reason>]` and exits 1. */
export class IdentityFileError extends Error {
  override readonly name = 'IdentityFileError';
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(reason, options);
  }
}

/** Where `name`'s identity is kept by default (docs/usage.md "Files"): the name in lower case. */
export function defaultIdentityFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(chatappDataHome(env), 'identities', `${name.toLowerCase()}.key`);
}

/**
 * The client's Ed25519 identity (docs/security.md "Accounts"): read from
 * `file`, or — when there is none — made, and written there with mode 0600
 * (its directory 0700). A file that exists but cannot be read or is not an
 * Ed25519 private key is an error, never silently replaced: the name it
 * registered belongs to that key.
 */
export function loadOrCreateIdentity(file: string): Identity {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new IdentityFileError(file, reasonOf(err), { cause: err });
    return create(file);
  }
  try {
    return Identity.fromPrivateKey(crypto.createPrivateKey({ key: pem, format: 'pem' }));
  } catch (err) {
    throw new IdentityFileError(file, 'not an Ed25519 private key (PEM)', { cause: err });
  }
}

function create(file: string): Identity {
  const identity = Identity.generate();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    // 'wx': never replace a file that appeared meanwhile (another client of the same name).
    fs.writeFileSync(file, identity.privateKeyPem(), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return loadOrCreateIdentity(file);
    throw new IdentityFileError(file, reasonOf(err), { cause: err });
  }
  return identity;
}

function reasonOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EACCES' || e.code === 'EPERM') return 'permission denied';
  if (e.code === 'EISDIR') return 'it is a directory';
  if (e.code === 'ENOTDIR') return 'a part of its path is not a directory';
  return e.message ?? String(err);
}

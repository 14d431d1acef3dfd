import { Identity } from '../../src/client/identity';
import type { ClientToServerFrame } from '../../src/protocol/frames';
import { PROTOCOL_VERSION } from '../../src/protocol/limits';

type Register = Extract<ClientToServerFrame, { type: 'register' }>;

/** What signs a registration: an Identity, or any test key that can (dm-attacker.ts TestKey). */
export interface RegistrationSigner {
  readonly publicKey: string;
  signRegistration(challenge: string, name: string): string;
  /** The X25519 key it publishes in `register` (both or neither of these two). */
  readonly encryptionKey?: string;
  signEncryptionKey?(name: string): string;
}

const identities = new Map<string, Identity>();

/** The test identity of `name` (one key pair per name and test process, as a real client's identity file). */
export function identityOf(name: string): Identity {
  let identity = identities.get(name.toLowerCase());
  if (identity === undefined) {
    identity = Identity.generate();
    identities.set(name.toLowerCase(), identity);
  }
  return identity;
}

/**
 * A `register` frame for `name`, signed over the connection's `hello`
 * challenge with `name`'s test identity (docs/protocol.md "Accounts"). It
 * publishes the identity's encryption key as a chatapp client does, unless
 * `ekey` is false — by default when the port is 0, so a raw client there
 * stands for an IRC session — or the signer is a bare test key.
 */
export function signedRegister(
  challenge: string,
  fields: {
    readonly name: string;
    readonly id?: string;
    readonly port?: number;
    readonly host?: string;
    readonly identity?: RegistrationSigner;
    readonly ekey?: boolean;
  },
): Register {
  const identity = fields.identity ?? identityOf(fields.name);
  const frame: Register = {
    type: 'register',
    id: fields.id ?? `reg-${fields.name}`,
    v: PROTOCOL_VERSION,
    name: fields.name,
    port: fields.port ?? 5000,
    key: identity.publicKey,
    sig: identity.signRegistration(challenge, fields.name),
  };
  const port = fields.port ?? 5000;
  const { encryptionKey } = identity;
  const withKey =
    (fields.ekey ?? port !== 0) && encryptionKey !== undefined && identity.signEncryptionKey !== undefined
      ? { ...frame, ekey: encryptionKey, ekeySig: identity.signEncryptionKey(fields.name) }
      : frame;
  return fields.host === undefined ? withKey : { ...withKey, host: fields.host };
}

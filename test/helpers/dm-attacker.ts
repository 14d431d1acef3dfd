import { registrationBytes } from '../../src/protocol/signing';
import crypto from 'node:crypto';
import net from 'node:net';
import { Waiters } from '../../testkit/waiters';
import { nextId } from './raw-client';

/**
 * Lean tools for attacking a client's direct-message listener from a test:
 * signing exactly as docs/protocol.md specifies (independently of
 * src/client, so a wrong implementation cannot agree with itself), and
 * flooding raw sockets without decoding every reply (`RawLink` decodes and
 * keeps every frame: right for a conversation, too costly for 20,000 replies).
 */

/** Waits re-checked whenever any flood socket reads or closes. */
const floodEvents = new Waiters(() => '');

/**
 * Resolves once `done` holds, re-checked on every reply and close of any
 * flood socket (never on a timer); `timeoutMs` is a safety net.
 */
export function untilFlood(done: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  return floodEvents.wait({ what, timeoutMs, probe: () => (done() ? { value: undefined } : null) });
}

/** Folded name → the X25519 key the latest table a raw client read lists for it (`noteEncryptionKey`). */
const encryptionKeys = new Map<string, string>();

/** Remembers a table entry's published X25519 key, so attackers can seal for that name as a real sender would. */
export function noteEncryptionKey(entry: { readonly name: string; readonly ekey?: string }): void {
  if (entry.ekey !== undefined) encryptionKeys.set(entry.name.toLowerCase(), entry.ekey);
}

/** The X25519 key a raw client's table listed for `name`; throws when none was seen (a test set-up mistake). */
export function encryptionKeyOf(name: string): string {
  const key = encryptionKeys.get(name.toLowerCase());
  if (key === undefined) throw new Error(`no table read by a raw client listed an encryption key for ${name}`);
  return key;
}

/** The fields of a private message before it is sealed. */
export interface PlainFields {
  readonly id: string;
  readonly from: string;
  readonly to: string;
  readonly ts: number;
  readonly text: string;
}

/**
 * Seals and signs a private message exactly as docs/protocol.md "Encrypted
 * private messages" specifies, with node:crypto alone (not src/client):
 * X25519 between a fresh key and the receiver's `ekey`, HKDF-SHA256 (salt
 * epk‖ekey, info "chatapp-dm-v2"), AES-256-GCM with the associated data
 * JSON of ["chatapp-dm-v2", id, from, to, ts], the tag after the ciphertext,
 * and an Ed25519 signature over JSON of ["chatapp-dm-v2-sig", id, from, to,
 * ts, epk, iv, ct].
 */
export function sealEnvelopeAsDocumented(signingKey: crypto.KeyObject, ekey: string, fields: PlainFields) {
  const { id, from, to, ts, text } = fields;
  const eph = crypto.generateKeyPairSync('x25519');
  const epkRaw = Buffer.from(eph.publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const ekeyRaw = Buffer.from(ekey, 'base64');
  const receiver = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'X25519', x: ekeyRaw.toString('base64url') },
    format: 'jwk',
  });
  const shared = crypto.diffieHellman({ privateKey: eph.privateKey, publicKey: receiver });
  const key = Buffer.from(crypto.hkdfSync('sha256', shared, Buffer.concat([epkRaw, ekeyRaw]), 'chatapp-dm-v2', 32));
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(JSON.stringify(['chatapp-dm-v2', id, from, to, ts]), 'utf8'));
  const ct = Buffer.concat([cipher.update(text, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64');
  const epk = epkRaw.toString('base64');
  const ivB64 = iv.toString('base64');
  const signed = Buffer.from(JSON.stringify(['chatapp-dm-v2-sig', id, from, to, ts, epk, ivB64, ct]), 'utf8');
  return { id, from, to, ts, epk, iv: ivB64, ct, sig: crypto.sign(null, signed, signingKey).toString('base64') };
}

/** A sealed message as it travels. */
export type Envelope = ReturnType<typeof sealEnvelopeAsDocumented>;

/** An Ed25519 key pair; `publicKey` is the raw 32 bytes in base64, as `register.key` wants. */
export class TestKey {
  private readonly pair = crypto.generateKeyPairSync('ed25519');
  /** An X25519 pair of its own (a real client derives its from the identity; nobody can tell). */
  private readonly x25519 = crypto.generateKeyPairSync('x25519');
  readonly publicKey: string;
  /** The X25519 key it publishes in `register`, raw 32 bytes in base64. */
  readonly encryptionKey: string;

  constructor() {
    const x = this.pair.publicKey.export({ format: 'jwk' }).x;
    if (typeof x !== 'string') throw new Error('no jwk x');
    this.publicKey = Buffer.from(x, 'base64url').toString('base64');
    this.encryptionKey = Buffer.from(this.x25519.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString(
      'base64',
    );
  }

  /** `register.ekeySig`: JSON of ["chatapp-ekey-v1", name in lower case, ekey], signed by this key. */
  signEncryptionKey(name: string): string {
    const bytes = Buffer.from(JSON.stringify(['chatapp-ekey-v1', name.toLowerCase(), this.encryptionKey]), 'utf8');
    return crypto.sign(null, bytes, this.pair.privateKey).toString('base64');
  }

  /**
   * A sealed and signed `dm` frame (`sealEnvelopeAsDocumented`), for the key
   * the table lists for `to` unless `ekey` is given.
   */
  dm(fields: { from: string; to: string; text: string; id?: string; ts?: number; ekey?: string }): DmFrame {
    const id = fields.id ?? nextId('dm');
    const ts = fields.ts ?? Date.now();
    const ekey = fields.ekey ?? encryptionKeyOf(fields.to);
    const message = sealEnvelopeAsDocumented(this.pair.privateKey, ekey, { ...fields, id, ts });
    return { type: 'dm', message };
  }

  /** Proves holding this key to a server (docs/protocol.md "Accounts"). */
  signRegistration(challenge: string, name: string): string {
    return crypto
      .sign(null, registrationBytes(challenge, name, this.publicKey), this.pair.privateKey)
      .toString('base64');
  }

  /** The receiver's `dm_ack` signature: JSON of ["chatapp-dm-ack-v1", id, from, to]. */
  ackSig(id: string, from: string, to: string): string {
    const bytes = Buffer.from(JSON.stringify(['chatapp-dm-ack-v1', id, from, to]), 'utf8');
    return crypto.sign(null, bytes, this.pair.privateKey).toString('base64');
  }

  /** True when `sig` is this key's signature of the ack of dm `id` from `from` to `to`. */
  verifiesAck(id: string, from: string, to: string, sig: string): boolean {
    const bytes = Buffer.from(JSON.stringify(['chatapp-dm-ack-v1', id, from, to]), 'utf8');
    return crypto.verify(null, bytes, this.pair.publicKey, Buffer.from(sig, 'base64'));
  }
}

export interface DmFrame {
  type: 'dm';
  message: Envelope;
}

/** One line per frame, as the codec writes them. */
export function lines(frames: readonly object[]): Buffer {
  return Buffer.from(frames.map((f) => JSON.stringify(f) + '\n').join(''), 'utf8');
}

/**
 * A flooding socket: writes what it is given, counts reply lines and the error
 * codes in them without schema-decoding each, and knows when the other side
 * closed it.
 */
export class FloodSocket {
  readonly codes = new Map<string, number>();
  acks = 0;
  closed = false;
  readonly done: Promise<void>;
  private rest = '';

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.read(chunk));
    socket.on('error', () => undefined);
    this.done = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        floodEvents.notify();
        resolve();
      }),
    );
  }

  /** Connects to 127.0.0.1:`port`; rejects if the connection fails. */
  static open(port: number): Promise<FloodSocket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new FloodSocket(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Writes bytes; resolves true once the kernel took them, false when the socket is gone (then `closed`). */
  write(bytes: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.socket.writableEnded) {
        this.closed = true; // the other side ended it; 'close' may not have fired yet
        return resolve(false);
      }
      this.socket.write(bytes, (err) => resolve(err === undefined || err === null));
    });
  }

  count(code: string): number {
    return this.codes.get(code) ?? 0;
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const line of parts) {
      if (line.startsWith('{"type":"dm_ack"')) this.acks++;
      else if (line.startsWith('{"type":"ping"')) this.socket.write('{"type":"pong"}\n');
      else {
        const code = /"code":"([a-z_]+)"/.exec(line)?.[1];
        if (code !== undefined) this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
      }
    }
    floodEvents.notify();
  }
}

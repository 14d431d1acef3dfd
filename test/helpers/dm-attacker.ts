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

/** An Ed25519 key pair; `publicKey` is the raw 32 bytes in base64, as `register.key` wants. */
export class TestKey {
  private readonly pair = crypto.generateKeyPairSync('ed25519');
  readonly publicKey: string;

  constructor() {
    const x = this.pair.publicKey.export({ format: 'jwk' }).x;
    if (typeof x !== 'string') throw new Error('no jwk x');
    this.publicKey = Buffer.from(x, 'base64url').toString('base64');
  }

  /** A signed `dm` frame: the signature covers JSON of ["chatapp-dm-v1", id, from, to, ts, text]. */
  dm(fields: { from: string; to: string; text: string; id?: string; ts?: number }): DmFrame {
    const id = fields.id ?? nextId('dm');
    const ts = fields.ts ?? Date.now();
    const bytes = Buffer.from(JSON.stringify(['chatapp-dm-v1', id, fields.from, fields.to, ts, fields.text]), 'utf8');
    return {
      type: 'dm',
      id,
      from: fields.from,
      to: fields.to,
      text: fields.text,
      ts,
      sig: crypto.sign(null, bytes, this.pair.privateKey).toString('base64'),
    };
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
  id: string;
  from: string;
  to: string;
  text: string;
  ts: number;
  sig: string;
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

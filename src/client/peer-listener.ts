import net from 'node:net';
import { FramedConnection } from '../net/framed-connection';
import { listenTcp } from '../net/listen';
import { SeenIds } from '../net/seen-ids';
import type { DirectFrame, FrameOf } from '../protocol/frames';
import type { ErrorCode } from '../protocol/errors';
import type { Limits } from '../protocol/limits';
import { sameName } from '../protocol/names';
import { DIRECT_LINK } from '../protocol/link-frames';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';
import { TypedEmitter } from '../util/typed-emitter';
import { connectionLimits } from './connection-limits';
import { verifyDm } from './identity';

/** A verified private message. */
export interface DirectMessage {
  readonly id: string;
  readonly from: string;
  readonly text: string;
}

/** Where the listener looks up senders' public keys: the client's copy of the server table. */
export interface KeyDirectory {
  keyOf(name: string): string | undefined;
  /** Resolves true at the next table update, false after `timeoutMs` without one. */
  nextUpdate(timeoutMs: number): Promise<boolean>;
}

/** Verified messages, and faults of single links. */
export type PeerListenerEvents = {
  message: [message: DirectMessage];
  fault: [error: Error];
};

/** Who I am (dms must be addressed to `name`), limits, clock, and where keys come from. */
export interface PeerListenerOptions {
  readonly name: string;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly keys: KeyDirectory;
  /** Interface to bind; undefined = every interface. */
  readonly host?: string;
}

type DmFrame = FrameOf<DirectFrame, 'dm'>;
type DirectConnection = FramedConnection<DirectFrame, DirectFrame>;
/** Acks are never rate limited (FramedConnection `rateExempt`). */
const RATE_EXEMPT: ReadonlySet<DirectFrame['type']> = new Set(['dm_ack']);

/**
 * Accepts direct links from other clients and verifies every `dm` (SPEC §7,
 * docs/security.md): addressed to me, timestamp in the window, length within
 * the limit, sender in my table copy, Ed25519 signature valid. Accepted ids
 * are remembered so a resent message is acked again but emitted once.
 */
export class PeerListener extends TypedEmitter<PeerListenerEvents> {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly connections = new Set<DirectConnection>();
  private readonly seen: SeenIds;
  private listening = false;

  constructor(private readonly options: PeerListenerOptions) {
    super();
    this.seen = new SeenIds(options.limits.seenIdsCapacity);
  }

  /** Binds the listen port (0 = OS picks); resolves with the bound port. Throws PortInUseError. */
  async listen(port: number): Promise<number> {
    const bound = await listenTcp(this.server, port, this.options.host);
    this.listening = true;
    return bound;
  }

  /** Stops listening and closes every direct link. */
  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [...this.connections].map((conn) => conn.closeAndWait());
    if (this.listening) {
      this.listening = false;
      closing.push(new Promise<void>((resolve) => this.server.close(() => resolve())));
    }
    await Promise.all(closing);
  }

  private accept(socket: net.Socket): void {
    const limits = connectionLimits(this.options.limits, true);
    const conn = new FramedConnection(socket, DIRECT_LINK, limits, this.options.clock, RATE_EXEMPT);
    this.connections.add(conn);
    conn.on('close', () => this.connections.delete(conn));
    conn.on('fault', (error) => this.emit('fault', error));
    conn.on('frame', (frame) => {
      if (frame.type === 'dm') void this.onDm(conn, frame).catch((err: unknown) => this.fail(conn, err));
    });
  }

  private fail(conn: DirectConnection, err: unknown): void {
    this.emit('fault', toError(err));
    conn.close('internal_error');
  }

  private async onDm(conn: DirectConnection, dm: DmFrame): Promise<void> {
    const code = await this.check(dm);
    if (!conn.open) return;
    if (code !== null) return conn.sendError(code, undefined, dm.id);
    conn.send({ type: 'dm_ack', id: dm.id });
    if (this.seen.add(`${dm.from}\n${dm.id}`, true)) this.emit('message', { id: dm.id, from: dm.from, text: dm.text });
  }

  /** Returns the rejection code for a dm, or null when it is accepted. */
  private async check(dm: DmFrame): Promise<ErrorCode | null> {
    const { name, limits, clock } = this.options;
    if (dm.text.length > limits.maxMessageLength) return 'message_too_long'; // SPEC §7
    if (!sameName(dm.to, name)) return 'wrong_recipient'; // not addressed to me (names compare without case, docs/usage.md)
    if (Math.abs(clock.now() - dm.ts) > limits.directMessageMaxSkewMs) return 'stale_message';
    const key = await this.keyOf(dm.from);
    if (key === undefined) return 'unknown_sender';
    return verifyDm(key, dm, dm.sig) ? null : 'bad_signature'; // SPEC §7: cannot be forged
  }

  /** The sender's key; if unknown, waits for one table update (a push may be in flight). */
  private async keyOf(name: string): Promise<string | undefined> {
    const { keys, limits, clock } = this.options;
    // Half the ack timeout, so the sender still hears the verdict before its own timeout.
    const deadline = clock.now() + Math.floor(limits.ackTimeoutMs / 2);
    let key = keys.keyOf(name);
    while (key === undefined) {
      const left = deadline - clock.now();
      if (left <= 0 || !(await keys.nextUpdate(left))) break;
      key = keys.keyOf(name);
    }
    return key;
  }
}

import net from 'node:net';
import { FramedConnection } from '../net/framed-connection';
import { PendingAcks } from '../net/pending-acks';
import type { ClientEntry, DirectFrame } from '../protocol/frames';
import type { ErrorCode } from '../protocol/errors';
import { DIRECT_LINK } from '../protocol/link-frames';
import { newId } from '../protocol/ids';
import type { Limits } from '../protocol/limits';
import type { Clock } from '../util/clock';
import { connectionLimits } from './connection-limits';
import type { Identity } from './identity';

/** How a direct send to an online peer ended. */
export type DirectDelivery = 'received' | 'no_ack' | { readonly rejected: ErrorCode };

interface PooledLink {
  readonly conn: FramedConnection<DirectFrame, DirectFrame>;
  readonly host: string;
  readonly port: number;
  readonly pending: PendingAcks<DirectDelivery>;
}

/** Who signs (`name`, `identity`), limits and clock. */
export interface DirectSenderOptions {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  readonly clock: Clock;
}

/**
 * Sends signed `dm` frames straight to other clients' listen ports (SPEC §1:
 * private messages never pass through the server). One pooled connection per
 * peer, re-dialled when it closed or the peer's address changed. Each send
 * waits ackTimeoutMs for `dm_ack` (SPEC §5).
 */
export class DirectSender {
  private readonly pool = new Map<string, PooledLink>();

  constructor(private readonly options: DirectSenderOptions) {}

  /** Signs and sends `text` to `peer`; resolves with the receiver's verdict or `no_ack`. */
  async send(peer: ClientEntry, text: string): Promise<DirectDelivery> {
    const { name, identity, clock, limits } = this.options;
    const link = this.linkTo(peer);
    const fields = { id: newId(), from: name, to: peer.name, ts: clock.now(), text };
    const wait = link.pending.wait(fields.id, limits.ackTimeoutMs);
    link.conn.send({ type: 'dm', ...fields, sig: identity.sign(fields) });
    const outcome = await wait;
    if (outcome.kind === 'acked') return outcome.value;
    if (!this.isConnected(link)) link.conn.destroy(); // never connected in time: dial afresh next send
    return 'no_ack';
  }

  /** Closes every pooled connection. */
  async close(): Promise<void> {
    const links = [...this.pool.values()];
    this.pool.clear();
    await Promise.all(links.map((link) => link.conn.closeAndWait()));
  }

  private linkTo(peer: ClientEntry): PooledLink {
    const existing = this.pool.get(peer.name);
    if (existing && existing.conn.open && existing.host === peer.host && existing.port === peer.port) return existing;
    if (existing) existing.conn.close();
    const socket = net.connect({ host: peer.host, port: peer.port });
    const conn = new FramedConnection(socket, DIRECT_LINK, connectionLimits(this.options.limits, false), this.options.clock);
    const link: PooledLink = { conn, host: peer.host, port: peer.port, pending: new PendingAcks(this.options.clock) };
    conn.on('frame', (frame) => {
      if (frame.type === 'dm_ack') link.pending.settle(frame.id, 'received');
      else if (frame.type === 'error' && frame.id !== undefined) link.pending.settle(frame.id, { rejected: frame.code });
    });
    conn.on('close', () => {
      link.pending.closeAll();
      if (this.pool.get(peer.name) === link) this.pool.delete(peer.name);
    });
    this.pool.set(peer.name, link);
    return link;
  }

  private isConnected(link: PooledLink): boolean {
    return link.conn.open && link.conn.remoteAddress !== undefined;
  }
}

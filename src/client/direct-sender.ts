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
import { verifyAck, type Identity } from './identity';

/**
 * How a direct send to an online peer ended: `receiver_full` when it holds as
 * many messages as it allows (`inbox_full`), `{ rejected }` for any other code.
 */
export type DirectDelivery = 'received' | 'no_ack' | 'receiver_full' | { readonly rejected: ErrorCode };

interface PooledLink {
  readonly conn: FramedConnection<DirectFrame, DirectFrame>;
  readonly host: string;
  readonly port: number;
  readonly pending: PendingAcks<DirectDelivery>;
  /** dm id → the receiver's key its `dm_ack` must be signed with. */
  readonly ackKeys: Map<string, string>;
}

/** Who signs (`name`, `identity`), limits and clock. */
export interface DirectSenderOptions {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  readonly clock: Clock;
}

/**
 * Sends sealed and signed `dm` frames straight to other clients' listen ports (docs/protocol.md "Transport and framing":
 * private messages never pass through the server). One pooled connection per
 * peer, re-dialled when it closed or the peer's address changed. Each send
 * waits ackTimeoutMs for `dm_ack` (docs/usage.md "Client"), and counts it only when it is
 * signed by the key the table lists for the receiver: whoever else answers on
 * that address (a reused port, a wrong registration) cannot fake "received"
 * (docs/security.md).
 */
export class DirectSender {
  private readonly pool = new Map<string, PooledLink>();

  constructor(private readonly options: DirectSenderOptions) {}

  /** Seals `text` for `peer`'s verified X25519 key `ekey`, signs and sends it; resolves with the receiver's verdict or `no_ack`. */
  async send(peer: ClientEntry, ekey: string, text: string): Promise<DirectDelivery> {
    const { name, identity, clock, limits } = this.options;
    const link = this.linkTo(peer);
    const message = identity.seal(name, { id: newId(), to: peer.name, ts: clock.now() }, ekey, text);
    const wait = link.pending.wait(message.id, limits.ackTimeoutMs);
    link.ackKeys.set(message.id, peer.key);
    link.conn.send({ type: 'dm', message });
    const outcome = await wait;
    link.ackKeys.delete(message.id);
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
    const conn = new FramedConnection(
      socket,
      DIRECT_LINK,
      connectionLimits(this.options.limits, false),
      this.options.clock,
    );
    const link: PooledLink = {
      conn,
      host: peer.host,
      port: peer.port,
      pending: new PendingAcks(this.options.clock),
      ackKeys: new Map(),
    };
    conn.on('frame', (frame) => {
      if (frame.type === 'dm_ack') this.onAck(link, peer.name, frame.id, frame.sig);
      else if (frame.type === 'error' && frame.id !== undefined) link.pending.settle(frame.id, rejection(frame.code));
    });
    conn.on('close', () => {
      link.pending.closeAll();
      if (this.pool.get(peer.name) === link) this.pool.delete(peer.name);
    });
    this.pool.set(peer.name, link);
    return link;
  }

  /** A `dm_ack` that does not verify is `no_ack`, and whoever sent it is not talked to again on this link. */
  private onAck(link: PooledLink, receiver: string, id: string, sig: string): void {
    const key = link.ackKeys.get(id);
    if (key === undefined) return; // not waiting for it (timed out, or never sent)
    if (verifyAck(key, { id, from: this.options.name, to: receiver }, sig))
      return void link.pending.settle(id, 'received');
    link.pending.settle(id, 'no_ack');
    link.conn.destroy();
  }

  private isConnected(link: PooledLink): boolean {
    return link.conn.open && link.conn.remoteAddress !== undefined;
  }
}

function rejection(code: ErrorCode): DirectDelivery {
  return code === 'inbox_full' ? 'receiver_full' : { rejected: code };
}

import type { Duplex } from 'node:stream';
import { FramedConnection, type ConnectionLimits } from '../net/framed-connection';
import { PendingAcks } from '../net/pending-acks';
import type { MeshFrame } from '../protocol/mesh-frames';
import { MESH_LINK } from '../protocol/link-frames';
import type { Clock } from '../util/clock';
import type { MemberInfo } from './member-table';

/**
 * Where a link is in its life:
 * - `greeting`: opened, hello/welcome not done yet;
 * - `active`: the current link to a member;
 * - `superseded`: a duplicate closed in favour of another link to the same member
 *   (its messages are still accepted while it drains);
 * - `evicted`: closed because its name belongs to another process;
 * - `gone`: the member said bye, or the link closed.
 */
export type LinkState = 'greeting' | 'active' | 'superseded' | 'evicted' | 'gone';

/**
 * How dialling a member ended: greeted and linked; refused because our name is
 * taken (while joining); it answered as itself but no link was kept (e.g. its
 * name is held by another process here, or it is us); or nobody answered as it.
 */
export type DialOutcome = 'linked' | 'name_in_use' | 'refused' | 'failed';

/** Acks are never rate limited (FramedConnection `rateExempt`). */
const RATE_EXEMPT: ReadonlySet<MeshFrame['type']> = new Set(['msg_ack']);

/**
 * One TCP link between two mesh peers: a framed connection validated against
 * `MeshFrame`, plus who is at the other end once greeted and the acks of the
 * messages sent over it.
 */
export class MeshLink {
  readonly conn: FramedConnection<MeshFrame, MeshFrame>;
  /** Messages sent on this link waiting for `msg_ack`; all settle as closed when it closes. */
  readonly acks: PendingAcks<boolean>;
  state: LinkState = 'greeting';
  /** The member at the other end, once greeted. */
  remote: MemberInfo | null = null;
  private dialOutcome: DialOutcome | null = null;
  private readonly dialWaiters: Array<(outcome: DialOutcome) => void> = [];

  constructor(
    stream: Duplex,
    limits: ConnectionLimits,
    clock: Clock,
    /** The address this process dialled, or null for an accepted link. */
    readonly dialed: { readonly host: string; readonly port: number } | null,
  ) {
    this.conn = new FramedConnection(stream, MESH_LINK, limits, clock, RATE_EXEMPT);
    this.acks = new PendingAcks<boolean>(clock);
    this.conn.on('close', () => {
      this.acks.closeAll();
      this.finishDial('failed');
    });
  }

  /** For an outbound link: resolves once the greeting ends (see `DialOutcome`). */
  whenDialed(): Promise<DialOutcome> {
    return new Promise((resolve) => {
      if (this.dialOutcome !== null) resolve(this.dialOutcome);
      else this.dialWaiters.push(resolve);
    });
  }

  /** Settles the dial once; later calls are ignored. */
  finishDial(outcome: DialOutcome): void {
    if (this.dialOutcome !== null) return;
    this.dialOutcome = outcome;
    for (const waiter of this.dialWaiters.splice(0)) waiter(outcome);
  }

  /** True when this process opened the link. */
  get outbound(): boolean {
    return this.dialed !== null;
  }

  /** Name of the member at the other end ('?' before the greeting). */
  get name(): string {
    return this.remote?.name ?? '?';
  }

  /** Messages from this link are shown: it is greeted and not evicted. */
  get trusted(): boolean {
    return this.state === 'active' || this.state === 'superseded';
  }

  /** Closes the link without a member event; pending sends settle as closed at once. */
  retire(state: 'superseded' | 'evicted' | 'gone'): void {
    this.state = state;
    this.acks.closeAll();
    this.conn.close();
  }
}

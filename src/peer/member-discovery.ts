import type { MeshMember } from '../protocol/mesh-frames';
import { RateLimiter } from '../net/rate-limit';
import type { Clock, TimerHandle } from '../util/clock';
import { AddressBackoff, addressKey } from './address-backoff';
import { resolveLearnedHost } from './addresses';
import { LostMembers } from './lost-members';
import type { DialOutcome, MeshLink } from './mesh-link';
import type { MemberInfo, MemberTable } from './member-table';
import { VouchLedger } from './vouch-ledger';

/** How long a member lost without goodbye is re-dialled (partition healing). */
export const LOST_RETRY_WINDOW_MS = 10 * 60_000;
/** Re-dial interval for lost members, in heartbeat intervals (at least 2 s). */
const LOST_RETRY_BEATS = 5;
/** Dials in flight at once; gossip naming more members waits its turn (no dial storm). */
export const MAX_PARALLEL_DIALS = 64;
/** Members waiting to be dialled (one full member list); beyond this, gossip is dropped (a later list names them again). */
export const MAX_QUEUED_DIALS = 1024;
/** Dials started per second, after a burst of `MAX_PARALLEL_DIALS`: the most a peer dials, whatever it is told. */
export const MAX_DIALS_PER_SEC = 32;
/** Vouchers remembered per waiting member (one that can pay is enough). */
const MAX_VOUCHERS_PER_MEMBER = 8;

/** What discovery needs from its peer. */
export interface DiscoveryHost {
  readonly table: MemberTable<MeshLink>;
  readonly clock: Clock;
  readonly heartbeatMs: number;
  /** Most members the peer links (the table refuses more); nothing is dialled beyond it. */
  readonly maxMembers: number;
  /** False once the peer is leaving or lost its name: nothing more is dialled. */
  active(): boolean;
  /** Dials a member's address, expecting instance `to`. */
  dial(address: { host: string; port: number }, to: string): Promise<DialOutcome>;
}

/** A member to dial: who named it, or `own` when we linked it ourselves before (a lost member). */
interface Candidate {
  readonly info: MemberInfo;
  readonly key: string;
  readonly vouchers: Set<string>;
  own: boolean;
  dialing: boolean;
}

/** What to do with a waiting candidate now; a dial names the voucher that pays for it (null: our own). */
type Decision = { readonly payer: string | null } | 'wait' | 'drop';
/**
 * How a peer finds the members it lacks (docs/protocol-mesh.md, no split
 * view): member lists are gossiped to every member whenever ours grows, every
 * listed member we are not linked to is dialled — on the word of a member
 * that vouched for it (`VouchLedger`), at most once at a time per address and
 * not again soon after a failure (`AddressBackoff`), within a dial rate — and
 * members lost without goodbye are re-dialled for a while so a healed
 * partition merges again.
 */
export class MemberDiscovery {
  /** Members queued or being dialled, by instance, in arrival order. */
  private readonly candidates = new Map<string, Candidate>();
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly lost = new LostMembers(LOST_RETRY_WINDOW_MS);
  private readonly ledger = new VouchLedger();
  private readonly addresses = new AddressBackoff();
  private readonly rate: RateLimiter;
  private retryTimer: TimerHandle | null = null;
  private rateTimer: TimerHandle | null = null;

  constructor(private readonly host: DiscoveryHost) {
    this.rate = new RateLimiter(MAX_DIALS_PER_SEC, MAX_PARALLEL_DIALS, host.clock);
  }

  /** Starts re-dialling lost members. */
  start(): void {
    const retryMs = Math.max(this.host.heartbeatMs * LOST_RETRY_BEATS, 2_000);
    this.retryTimer = this.host.clock.setInterval(() => this.retryLost(), retryMs);
  }

  stop(): void {
    if (this.retryTimer !== null) this.host.clock.clearInterval(this.retryTimer);
    if (this.rateTimer !== null) this.host.clock.clearTimeout(this.rateTimer);
    this.retryTimer = this.rateTimer = null;
  }

  /** A member vanished without goodbye: keep trying it for a while; its word about others goes with it. */
  memberLost(member: MemberInfo): void {
    this.lost.add(member, this.host.clock.now());
    this.ledger.forget(member.instance);
  }

  /** A member left (bye): its word about others goes with it. */
  memberLeft(instance: string): void {
    this.ledger.forget(instance);
  }

  /** A member is linked (again): stop retrying it. */
  memberLinked(instance: string): void {
    this.lost.delete(instance);
  }

  /** The member list as sent to `to`: everyone but itself (and us). `members` is a table snapshot. */
  listFor(to: MeshLink, members = this.host.table.list()): MeshMember[] {
    return members
      .filter((m) => m.link !== to && m.name !== to.name)
      .map((m) => ({ name: m.name, peer: m.instance, host: m.host, port: m.port }));
  }

  /** Tells every member (but `except`, which just got the list in its welcome) the current list. */
  gossip(except: MeshLink | null): void {
    const members = this.host.table.list(); // one sorted snapshot for every recipient's list
    for (const member of members) {
      if (member.link !== except)
        member.link.conn.send({ type: 'members', members: this.listFor(member.link, members) });
    }
  }

  /**
   * `via` vouches for every member it lists: each one we lack is dialled on its
   * word (unless its word is used up). Addresses are resolved relative to `via`.
   */
  learn(members: readonly MeshMember[], via: MeshLink): void {
    const voucher = via.remote?.instance;
    if (voucher === undefined || !this.ledger.open(voucher)) return;
    const viaHost = via.remote?.host ?? '127.0.0.1';
    for (const m of members) {
      this.enqueue(
        { name: m.name, instance: m.peer, host: resolveLearnedHost(m.host, viaHost), port: m.port },
        voucher,
      );
    }
    this.pump();
  }

  /** Resolves when no member is queued or being dialled (the join has reached everyone it learned of). */
  settled(): Promise<void> {
    if (this.inflight === 0 && this.candidates.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Queues `member` on `voucher`'s word (null: one we linked before), or adds the voucher to it. */
  private enqueue(member: MemberInfo, voucher: string | null): void {
    if (!this.host.active() || !this.host.table.shouldDial(member)) return;
    const known = this.candidates.get(member.instance);
    if (known) {
      if (voucher === null) known.own = true;
      else if (known.vouchers.size < MAX_VOUCHERS_PER_MEMBER) known.vouchers.add(voucher);
      return;
    }
    if (this.candidates.size - this.inflight >= MAX_QUEUED_DIALS) return;
    const vouchers = new Set(voucher === null ? [] : [voucher]);
    this.candidates.set(member.instance, {
      info: member,
      key: addressKey(member),
      vouchers,
      own: voucher === null,
      dialing: false,
    });
  }

  /** Starts the dials the rules allow now; wakes `settled` waiters when nothing is left. */
  private pump(): void {
    for (const [instance, candidate] of this.candidates) {
      if (this.inflight >= MAX_PARALLEL_DIALS || this.rateTimer !== null) break;
      if (candidate.dialing) continue;
      const decision = this.decide(candidate);
      if (decision === 'drop') this.candidates.delete(instance);
      else if (decision !== 'wait') this.begin(candidate, decision.payer);
    }
    if (this.inflight === 0 && this.candidates.size === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** The rules, in order (docs/protocol-mesh.md, "Dialling gossiped members"). */
  private decide(c: Candidate): Decision {
    if (!this.host.active() || !this.host.table.shouldDial(c.info)) return 'drop';
    if (this.host.table.size + this.inflight >= this.host.maxMembers) return 'drop';
    let payer: string | null = null;
    if (!c.own) {
      const address = this.addresses.state(c.key, this.host.clock.now());
      if (address === 'failed') return 'drop';
      if (address === 'busy') return 'wait';
      payer = this.ledger.payer(c.vouchers);
      if (payer === null) return this.ledger.mayPayLater(c.vouchers) ? 'wait' : 'drop';
    }
    if (!this.rate.take()) {
      this.rateTimer = this.host.clock.setTimeout(
        () => {
          this.rateTimer = null;
          this.pump();
        },
        Math.ceil(1000 / MAX_DIALS_PER_SEC),
      );
      return 'wait';
    }
    return { payer };
  }

  /** Dials `c`; when it ends, settles the payer's credit and the address, then starts what may follow. */
  private begin(c: Candidate, payer: string | null): void {
    c.dialing = true;
    this.inflight++;
    if (payer !== null) {
      this.ledger.charge(payer);
      this.addresses.begin(c.key);
    }
    const end = (outcome: DialOutcome): void => {
      this.inflight--;
      this.candidates.delete(c.info.instance);
      if (payer !== null) {
        // The claim held if the member answered as itself, whether or not we kept the link.
        const held = outcome !== 'failed';
        this.ledger.settle(payer, held);
        this.addresses.end(c.key, held, this.host.clock.now());
      }
      this.pump();
    };
    this.host.dial(c.info, c.info.instance).then(end, () => end('failed'));
  }

  private retryLost(): void {
    for (const member of this.lost.due(this.host.clock.now())) this.enqueue(member, null);
    this.pump();
  }
}

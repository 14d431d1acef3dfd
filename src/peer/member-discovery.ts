import type { MeshMember } from '../protocol/mesh-frames';
import type { Clock, TimerHandle } from '../util/clock';
import { resolveLearnedHost } from './addresses';
import { LostMembers } from './lost-members';
import type { MeshLink } from './mesh-link';
import type { MemberInfo, MemberTable } from './member-table';

/** How long a member lost without goodbye is re-dialled (partition healing). */
export const LOST_RETRY_WINDOW_MS = 10 * 60_000;
/** Re-dial interval for lost members, in heartbeat intervals (at least 2 s). */
const LOST_RETRY_BEATS = 5;
/** Dials in flight at once; gossip naming more members waits its turn (no dial storm). */
export const MAX_PARALLEL_DIALS = 64;
/** Members waiting to be dialled; beyond this, gossip is dropped (a later list names them again). */
export const MAX_QUEUED_DIALS = 4096;

/** What discovery needs from its peer. */
export interface DiscoveryHost {
  readonly table: MemberTable<MeshLink>;
  readonly clock: Clock;
  readonly heartbeatMs: number;
  /** False once the peer is leaving or lost its name: nothing more is dialled. */
  active(): boolean;
  /** Dials a member's address, expecting instance `to`. */
  dial(address: { host: string; port: number }, to: string): Promise<unknown>;
}

/**
 * How a peer finds the members it lacks (SPEC §6, no split view): member lists
 * are gossiped to every member whenever ours grows, every listed member we
 * are not linked to is dialled, and members lost without goodbye are re-dialled
 * for a while so a healed partition merges again.
 */
export class MemberDiscovery {
  /** Instances queued or being dialled. */
  private readonly dialing = new Set<string>();
  private readonly queue: MemberInfo[] = [];
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly lost = new LostMembers(LOST_RETRY_WINDOW_MS);
  private retryTimer: TimerHandle | null = null;

  constructor(private readonly host: DiscoveryHost) {}

  /** Starts re-dialling lost members. */
  start(): void {
    const retryMs = Math.max(this.host.heartbeatMs * LOST_RETRY_BEATS, 2_000);
    this.retryTimer = this.host.clock.setInterval(() => this.retryLost(), retryMs);
  }

  stop(): void {
    if (this.retryTimer !== null) this.host.clock.clearInterval(this.retryTimer);
    this.retryTimer = null;
  }

  /** A member vanished without goodbye: keep trying it for a while. */
  memberLost(member: MemberInfo): void {
    this.lost.add(member, this.host.clock.now());
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
      if (member.link !== except) member.link.conn.send({ type: 'members', members: this.listFor(member.link, members) });
    }
  }

  /** Dials every listed member we lack; addresses are resolved relative to the member that sent the list. */
  learn(members: readonly MeshMember[], via: MeshLink): void {
    const viaHost = via.remote?.host ?? '127.0.0.1';
    for (const m of members) {
      this.dialMember({ name: m.name, instance: m.peer, host: resolveLearnedHost(m.host, viaHost), port: m.port });
    }
  }

  /** Resolves when no member is queued or being dialled (the join has reached everyone it learned of). */
  settled(): Promise<void> {
    if (this.inflight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private dialMember(member: MemberInfo): void {
    if (!this.host.active() || this.dialing.has(member.instance) || !this.host.table.shouldDial(member)) return;
    if (this.queue.length >= MAX_QUEUED_DIALS) return;
    this.dialing.add(member.instance);
    this.queue.push(member);
    this.pump();
  }

  /** Starts queued dials up to the parallel limit; wakes `settled` waiters when all are done. */
  private pump(): void {
    while (this.inflight < MAX_PARALLEL_DIALS && this.queue.length > 0) {
      const member = this.queue.shift()!;
      if (!this.host.active() || !this.host.table.shouldDial(member)) {
        this.dialing.delete(member.instance);
        continue;
      }
      this.inflight++;
      void this.host.dial(member, member.instance).finally(() => {
        this.inflight--;
        this.dialing.delete(member.instance);
        this.pump();
      });
    }
    if (this.inflight === 0 && this.queue.length === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  private retryLost(): void {
    for (const member of this.lost.due(this.host.clock.now())) this.dialMember(member);
  }
}

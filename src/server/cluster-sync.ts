import type { ClusterEvent, ClusterFeed } from '../store/cluster-events';
import type { ChatStore } from '../store/chat-store';
import { StoreUnavailableError } from '../store/store-errors';
import type { GroupFanout } from './group-fanout';
import type { Membership } from './membership';
import type { Session } from './session';
import type { TablePusher } from './table-push';

/** Most live messages held back during one catch-up (then they are delivered as they come). */
const MAX_HELD = 100_000;

/** What ClusterSync needs of the server around it. */
export interface ClusterHost {
  readonly store: ChatStore;
  readonly fanout: GroupFanout;
  readonly membership: Membership;
  readonly tables: TablePusher;
  /** Most messages a catch-up reads (the history limit). */
  readonly historyLimit: number;
  /** The owner tokens (session ids) of the names registered here now. */
  liveOwners(): number[];
  /** The session here of `name`, if it is connected to this node. */
  sessionOf(name: string): Session | undefined;
  fault(err: unknown): void;
}

/**
 * Applies the cluster feed to this node (docs/scaling.md "The cluster feed").
 * Group messages come from the feed on every node, the sender's included —
 * the feed's order is the store's seq order, so there is one order per group
 * across the cluster, and each node's GroupFanout delivers to its own
 * members and tracks their acks. The other changes were already applied
 * here when this node made them; those of other nodes are pushed to the
 * local clients: table entries as table deltas, joins and leaves as
 * presence notices, a deleted group to its members here.
 */
export class ClusterSync {
  constructor(
    private readonly feed: ClusterFeed,
    private readonly host: ClusterHost,
  ) {
    feed.onEvent((event) => (this.held === null || event.t !== 'msg' ? this.apply(event) : this.hold(event)));
    feed.onResumed(() => void this.catchUp());
  }

  /** Live messages that arrive while a catch-up reads the history wait here (so none overtakes a missed one). */
  private held: ClusterEvent[] | null = null;

  private hold(event: ClusterEvent): void {
    this.held!.push(event);
    if (this.held!.length > MAX_HELD) this.release(); // bounded: give up holding, deliver what we have
  }

  private release(): void {
    const held = this.held ?? [];
    this.held = null;
    for (const event of held) this.apply(event);
  }

  private apply(event: ClusterEvent): void {
    const { fanout } = this.host;
    if (event.t === 'msg') {
      // A message a member already has (a catch-up, a join's history) is skipped per member (GroupFanout).
      const sender = this.host.sessionOf(event.from);
      const from = sender?.name === event.from ? (sender as Session & { name: string }) : event.from;
      fanout.publish(event.group, from, event.text, event.seq);
      return;
    }
    if (event.node === this.feed.nodeId) return; // done here already
    switch (event.t) {
      case 'table':
        return this.host.tables.noteChanged(event.entry);
      case 'joined':
      case 'left': {
        const frame = { type: 'presence', group: event.group, name: event.member, state: event.t } as const;
        return fanout.announce(event.group, event.member, frame);
      }
      case 'groupDeleted': {
        const here = event.members.flatMap((m) => this.host.sessionOf(m) ?? []);
        return this.host.membership.groupDeleted(event.group, here);
      }
    }
  }

  /**
   * The feed was interrupted: messages published meanwhile never reached
   * this node. Each group with members here reads what came after the last
   * seq it delivered and delivers it, in order (each member gets each once).
   */
  private async catchUp(): Promise<void> {
    const { fanout, store } = this.host;
    this.feed.reconcileSoon(() => this.host.liveOwners()); // disconnects that failed meanwhile
    if (this.held !== null) return; // one catch-up at a time: the running one reads up to the newest
    this.held = [];
    try {
      await this.readMissed(fanout, store);
    } finally {
      this.release();
    }
  }

  private async readMissed(fanout: GroupFanout, store: ChatStore): Promise<void> {
    for (const group of fanout.groupsWithMembers()) {
      try {
        const missed = await store.history(group, { after: fanout.lastSeq(group), limit: this.host.historyLimit });
        for (const e of missed) if (e.seq > fanout.lastSeq(group)) fanout.publish(group, e.from, e.text, e.seq);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) this.host.fault(err); // lost again: the next resume reads it
        return;
      }
    }
  }
}

import { DELETED_ACCOUNT_KEY } from '../protocol/primitives';
import type { Duplex } from 'node:stream';
import type { ClientToServerFrame, ServerRequest, ServerToClientFrame } from '../protocol/frames';
import { SERVER_SIDE } from '../protocol/link-frames';
import { newChallenge } from '../protocol/signing';
import { DEFAULT_LIMITS, PROTOCOL_VERSION, type Limits } from '../protocol/limits';
import { FramedConnection, type ConnectionLimits, type SessionConnection } from '../net/framed-connection';
import type { SessionLink } from '../net/session-link';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import { toError } from '../util/errors';
import type { ChatStore, Owner } from '../store/chat-store';
import { MemoryStore } from '../store/memory-store';
import { GroupFanout, defaultBacklogLimits, type BacklogLimits, type DropReason } from './group-fanout';
import { DEFAULT_TABLE_FLUSH_MS, TablePusher } from './table-push';
import { chunkBytes } from '../protocol/chunk-frames';
import { Membership } from './membership';
import { RegisterDeadline } from './register-deadline';
import { MIN_REPLY_TTL_MS, ReplyCaches } from './reply-cache';
import { AddressLimits } from './address-limits';
import { normalizeAddress } from '../net/listen';
import { Session } from './session';
import { SavedDelivery } from './saved-delivery';
import { RelayAcks } from './relay-acks';
import { dispatchNotice, dispatchRequest, isReadOnly, routeKind } from './dispatch';
import type { ServerContext } from './context';
import type { EmitEvent, ServerEvents } from './events';
import type { ClusterFeed } from '../store/cluster-events';
import { ClusterSync } from './cluster-sync';
import { StoreUnavailableError } from '../store/store-errors';

/** ChatServer construction options; everything with a timeout uses `clock`. */
export interface ChatServerOptions {
  readonly limits?: Partial<Limits>;
  readonly clock?: Clock;
  /** Where the tables live; default an in-memory store. */
  readonly store?: ChatStore;
  /** Least ms between two table delta pushes; changes in between are coalesced (0: per event-loop turn). */
  readonly tableFlushMs?: number;
  /** Unacked-backlog bounds past which a group member holds the group's senders back. */
  readonly backlog?: Partial<BacklogLimits>;
  /** Apply the per-address limits to loopback addresses too (by default they are exempt). */
  readonly limitLoopback?: boolean;
  /**
   * Makes this server one node of a cluster (docs/scaling.md): the feed of
   * the store's changes, through which every group message is delivered.
   */
  readonly cluster?: ClusterFeed;
  /** Makes each connection's `hello` challenge (injectable, like the clock; default 32 random bytes). */
  readonly newChallenge?: () => string;
}

/** Acks are never rate limited (docs/protocol.md limits): a dropped ack would look like an unresponsive member. */
const RATE_EXEMPT: ReadonlySet<ClientToServerFrame['type']> = new Set(['group_ack', 'saved_ack', 'relayed_ack']);

/** The key a deleted account's last table entry carries: no key (all zero bytes). */

/** How long a drain lets the requests already read finish before it closes the connections anyway. */
export const DRAIN_GRACE_MS = 5_000;

/** What the server keeps per connection beside its Session. */
interface Connection {
  readonly session: Session;
  readonly deadline: RegisterDeadline;
  /** The remote address, as counted by AddressLimits (undefined for in-memory streams). */
  readonly address: string | undefined;
}

/** Read-only counters: what the server holds now and what it dropped so far (docs/architecture.md "Server"). */
export interface ServerStats {
  /** Open connections, registered or not. */
  readonly connections: number;
  /** Connections bound to a name. */
  readonly registered: number;
  /** Group deliveries sent and not yet acked, summed over every group's fan-out windows. */
  readonly unackedDeliveries: number;
  /** Members removed from their group for not acking in time, since start. */
  readonly membersRemovedUnresponsive: number;
  /** Connections dropped as `slow_consumer`, since start. */
  readonly slowConsumersDropped: number;
}

/**
 * The chat server core (docs/architecture.md "Server"). Its whole interface
 * is `handleConnection`: give it any duplex stream (a TCP socket, or an
 * in-memory pair in tests). It keeps the connections and the names bound to
 * them; the store keeps the tables, Membership moves clients between groups,
 * GroupFanout delivers, TablePusher pushes the client table. It reports what
 * happens as typed events and never prints.
 */
export class ChatServer extends TypedEmitter<ServerEvents> {
  readonly limits: Limits;
  private readonly clock: Clock;
  private readonly store: ChatStore;
  private readonly fanout: GroupFanout;
  private readonly membership: Membership;
  private readonly tables: TablePusher;
  private readonly replyCaches: ReplyCaches;
  private readonly addresses: AddressLimits;
  private readonly saved: SavedDelivery;
  private readonly ctx: ServerContext;
  /** Every open connection, oldest first. */
  private readonly connections = new Map<number, Connection>();
  /** Connections without a name, oldest first (shed first at the limit, docs/protocol.md limits). */
  private readonly unregistered = new Map<number, Connection>();
  private readonly byName = new Map<string, Session>();
  private nextId = 0;
  private readonly newChallenge: () => string;
  private removedUnresponsive = 0;
  private slowConsumers = 0;
  private stopped = false;
  private closing: Promise<void> | null = null;

  constructor(options: ChatServerOptions = {}) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.store = options.store ?? new MemoryStore();
    this.newChallenge = options.newChallenge ?? newChallenge;
    this.replyCaches = new ReplyCaches(
      this.limits.seenIdsCapacity,
      this.clock,
      Math.max(MIN_REPLY_TTL_MS, 10 * this.limits.ackTimeoutMs * this.limits.retries),
    );
    this.addresses = new AddressLimits(
      {
        maxConnections: this.limits.maxConnectionsPerAddress,
        registrationsPerSec: this.limits.registrationsPerAddressPerSec,
        exemptLoopback: options.limitLoopback !== true,
      },
      this.clock,
    );
    const emit: EmitEvent = (event, ...args) => void this.emit(event, ...args);
    const backlog = { ...defaultBacklogLimits(), ...options.backlog };
    this.fanout = new GroupFanout(
      {
        onUnresponsive: (session, group, reason) => this.removeUnresponsive(session, group, reason),
        onDelivered: (count) => emit('delivered', 'group', count),
        onAcked: (latencyMs) => emit('groupAcked', latencyMs),
      },
      this.clock,
      this.limits.ackTimeoutMs,
      this.limits.maxOutboundBytes,
      backlog,
    );
    this.membership = new Membership(this.store, this.fanout, emit, this.limits.historyLimit);
    this.saved = new SavedDelivery(
      this.store,
      (name) => this.byName.get(name),
      (err) => this.emit('fault', toError(err)),
      (count) => emit('delivered', 'saved', count),
    );
    this.tables = new TablePusher(
      () => this.byName.values(),
      chunkBytes(this.limits.maxFrameBytes),
      this.clock,
      options.tableFlushMs ?? DEFAULT_TABLE_FLUSH_MS,
    );
    if (options.cluster !== undefined) {
      new ClusterSync(options.cluster, {
        store: this.store,
        fanout: this.fanout,
        membership: this.membership,
        tables: this.tables,
        historyLimit: this.limits.historyLimit,
        sessionOf: (name) => this.byName.get(name),
        liveOwners: () => [...this.byName.values()].map((s) => s.id),
        fault: (err) => this.emit('fault', toError(err)),
      });
    }
    this.ctx = {
      clustered: options.cluster !== undefined,
      store: this.store,
      membership: this.membership,
      fanout: this.fanout,
      tables: this.tables,
      limits: this.limits,
      emit,
      now: () => this.clock.now(),
      sessionsOf: (names) => names.flatMap((n) => this.byName.get(n) ?? []),
      bind: (session, name) => this.bind(session, name),
      admitRegistration: (session) => this.addresses.register(this.connections.get(session.id)?.address),
      replaceIfStale: (holder) => this.replaceIfStale(holder),
      goOffline: (session) => this.goOffline(session),
      accountDeleted: (session, leftGroups) => this.accountDeleted(session, leftGroups),
      deliverSaved: (session, waiting) => this.saved.deliver(session, waiting),
      savedAcked: (session, id) => this.saved.acked(session, id),
      relayAcks: new RelayAcks(this.clock),
    };
  }

  /** A snapshot of the counters in ServerStats (cost O(group members), for occasional reads). */
  stats(): ServerStats {
    return {
      connections: this.connections.size,
      registered: this.byName.size,
      unackedDeliveries: this.fanout.unackedDeliveries(),
      membersRemovedUnresponsive: this.removedUnresponsive,
      slowConsumersDropped: this.slowConsumers,
    };
  }

  /** Takes over one client connection until it closes. */
  handleConnection(stream: Duplex): void {
    if (this.stopped) {
      stream.destroy();
      return;
    }
    this.handleSessionConnection(
      new FramedConnection(stream, SERVER_SIDE, this.connectionLimits(), this.clock, RATE_EXEMPT),
    );
  }

  /**
   * Takes over an in-process gateway session (docs/architecture.md
   * "Gateways"): its frames come and go as objects over `link`, and it is
   * otherwise a session like a socket's.
   */
  handleLink(link: SessionLink): void {
    if (this.stopped) return link.destroy('shutting_down');
    this.handleSessionConnection(link);
  }

  private handleSessionConnection(conn: SessionConnection<ClientToServerFrame, ServerToClientFrame>): void {
    const session: Session = new Session(
      ++this.nextId,
      conn,
      this.replyCaches.fresh(),
      (err) => this.fault(session, err),
      () => this.clock.now(),
      this.limits.maxOutboundBytes,
      undefined,
      this.newChallenge(),
    );
    // docs/protocol.md limits: a connection must register within registerTimeoutMs.
    const deadline = new RegisterDeadline(this.clock, this.limits.registerTimeoutMs, () => {
      if (session.name === null) conn.close('register_timeout');
    });
    const address = conn.remoteAddress === undefined ? undefined : normalizeAddress(conn.remoteAddress);
    const connection: Connection = { session, deadline, address };
    conn.on('fault', (err) => this.emit('fault', err));
    conn.on('rejected', (code) => this.emit('frameRejected', code));
    this.emit('connectionOpened');
    if (!this.addresses.open(address)) {
      conn.sendError('address_limit'); // docs/security.md: per-address limits
      return;
    }
    conn.on('close', (info) => {
      if (info.code === 'slow_consumer') this.slowConsumers++;
      this.emit('connectionClosed', info.code);
      this.addresses.close(address);
      this.onClose(connection);
    });
    if (this.connections.size >= this.limits.maxClients && !this.shedOldestUnregistered()) {
      conn.sendError('server_full'); // every connection is registered: refuse the newcomer
      return;
    }
    this.connections.set(session.id, connection);
    this.unregistered.set(session.id, connection);
    conn.send({ type: 'hello', v: PROTOCOL_VERSION, challenge: session.challenge }); // docs/protocol.md: first frame
    deadline.start();
    conn.on('frame', (frame) => this.onFrame(connection, frame));
  }

  /**
   * The graceful stop (docs/operations.md "Signals"): accepts no new
   * connection, stops reading, lets every request already read finish (so
   * each acknowledged message is in the store) for at most `graceMs`, then
   * closes as `close()` does — each client is told `shutting_down`.
   */
  async drain(graceMs = DRAIN_GRACE_MS): Promise<void> {
    if (this.stopped) return this.close();
    this.stopped = true;
    this.emit('draining');
    const open = [...this.connections.values()];
    for (const { session } of open) {
      session.conn.pause();
      session.resume('flow'); // requests held back for a slow group still get their answer
    }
    let timer: TimerHandle | undefined;
    const grace = new Promise<void>((resolve) => (timer = this.clock.setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all(open.map(({ session }) => session.idle())), grace]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    await this.close();
  }

  /** Closes every connection with `shutting_down` and stops all timers; resolves when all are closed. */
  close(): Promise<void> {
    this.closing ??= this.closeNow();
    return this.closing;
  }

  private async closeNow(): Promise<void> {
    this.stopped = true;
    this.fanout.close();
    this.replyCaches.close();
    this.tables.close();
    const open = [...this.connections.values()];
    for (const c of open) c.deadline.end();
    await Promise.all(open.map((c) => c.session.conn.closeAndWait('shutting_down')));
    await this.store.close();
  }

  /** Requests queue in order; notices (acks) run at once; the route table says which is which. */
  private onFrame(connection: Connection, frame: ClientToServerFrame): void {
    const { session, deadline } = connection;
    const kind = routeKind(frame);
    if (kind === 'link') return;
    this.emit('frameReceived', frame.type);
    if (kind === 'notice') return dispatchNotice(this.ctx, session, frame);
    const request = frame as ServerRequest;
    // The register deadline stops while this connection's requests wait here (register-deadline.ts).
    deadline.stop();
    const settled = (): void => {
      if (session.name === null && session.conn.open && !this.stopped) deadline.start();
    };
    session.enqueue(() => {
      // A read nobody will see (its connection closed while it waited) is not run (dispatch.ts readOnly).
      if (!session.conn.open && isReadOnly(request)) return undefined;
      const done = dispatchRequest(this.ctx, session, request);
      if (done instanceof Promise) return done.then(settled);
      return settled();
    });
  }

  private onClose(connection: Connection): void {
    const { session, deadline } = connection;
    deadline.end();
    this.saved.forget(session);
    this.connections.delete(session.id);
    this.unregistered.delete(session.id);
    session.resume('flow'); // nothing left to hold back: its held frames run, then it goes offline
    // docs/usage.md: a closed connection is marked offline at once, after the frames it already sent.
    if (!this.stopped && session.name !== null) session.enqueue(() => this.goOffline(session));
  }

  private fault(session: Session, err: unknown): void {
    this.emit('fault', toError(err));
    session.conn.close('internal_error');
  }

  private shedOldestUnregistered(): boolean {
    const oldest = this.unregistered.values().next();
    if (oldest.done) return false;
    const victim = oldest.value;
    this.unregistered.delete(victim.session.id);
    this.connections.delete(victim.session.id);
    victim.deadline.end();
    victim.session.conn.close('server_full');
    return true;
  }

  private bind(session: Session, name: string): void {
    session.setName(name);
    session.replies = this.replyCaches.adopt(name, session.replies);
    const connection = this.connections.get(session.id);
    connection?.deadline.end();
    this.unregistered.delete(session.id);
    this.byName.set(name, session);
  }

  /** The session has no name any more: a later name on this connection starts clean, and it is sheddable again. */
  private unbind(session: Session): void {
    const name = session.name;
    if (name === null) return;
    session.setName(null);
    session.replies = this.replyCaches.fresh();
    this.replyCaches.release(name);
    if (this.byName.get(name) === session) this.byName.delete(name);
    const connection = this.connections.get(session.id);
    if (connection && session.conn.open) this.unregistered.set(session.id, connection);
  }

  /** dereg or a closed connection: offline and out of its group in one store step, then pushed. */
  private async goOffline(session: Session): Promise<void> {
    const name = session.name;
    if (name === null) return;
    this.unbind(session);
    const result = await this.store.disconnect(name, session.id).catch((err: unknown) => {
      // A cluster node without its Redis: the name goes offline when Redis is back (ClusterSync reconciles).
      if (err instanceof StoreUnavailableError) return null;
      throw err;
    });
    if (result === null) return;
    this.membership.disconnected(session, name, result.leftGroups);
    this.emit('tableUpdated');
    this.tables.noteChanged(result.entry); // docs/protocol.md `table`: push the change to every online client
  }

  /**
   * Someone registers a name with the key it is bound to while `holder`
   * still holds it: a connection that is gone, or answers no ping within a
   * heartbeat interval, is stale — it is closed and taken offline (true).
   */
  private async replaceIfStale(holder: Owner): Promise<boolean> {
    const old = this.connections.get(holder)?.session ?? [...this.byName.values()].find((s) => s.id === holder);
    if (old === undefined) return true; // already gone: the next try settles it
    if (old.conn.open && (await old.conn.probe(this.limits.heartbeatMs || this.limits.ackTimeoutMs))) return false;
    old.conn.destroy('replaced');
    await this.goOffline(old);
    return true;
  }

  /** delete_account: the store forgot the name; the connection stays, unregistered, and the others are told. */
  private accountDeleted(session: Session & { readonly name: string }, leftGroups: readonly string[]): void {
    const name = session.name;
    this.membership.disconnected(session, name, leftGroups);
    this.unbind(session);
    this.emit('accountDeleted', name);
    this.tables.noteChanged({ name, host: '0.0.0.0', port: 0, online: false, key: DELETED_ACCOUNT_KEY });
  }

  /** docs/usage.md: a member that did not ack in time, or fell too far behind, leaves the group and is told so. */
  private removeUnresponsive(session: Session & { name: string }, group: string, reason: DropReason): void {
    this.removedUnresponsive++;
    this.membership.removeUnresponsive(session, group, reason).catch((err: unknown) => this.fault(session, err));
  }

  private connectionLimits(): ConnectionLimits {
    const l = this.limits;
    return {
      maxFrameBytes: l.maxFrameBytes,
      maxOutboundBytes: l.maxOutboundBytes,
      drainTimeoutMs: l.drainTimeoutMs,
      frameTimeoutMs: l.frameTimeoutMs,
      maxInvalidFrames: l.maxInvalidFrames,
      heartbeatMs: l.heartbeatMs,
      rateLimitPerSec: l.rateLimitPerSec,
      rateBurst: l.rateBurst,
    };
  }
}

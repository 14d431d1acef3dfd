import type { Duplex } from 'node:stream';
import { ClientToServerFrame, assertNever, type FrameOf, type ServerRequest } from '../protocol/frames';
import { DEFAULT_LIMITS, type Limits } from '../protocol/limits';
import { FramedConnection, type ConnectionLimits } from '../net/framed-connection';
import { systemClock, type Clock } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import { ClientTable } from './state/client-table';
import { GroupTable } from './state/group-table';
import { GroupFanout, defaultBacklogLimits, type BacklogLimits } from './group-fanout';
import { DEFAULT_TABLE_FLUSH_MS, TablePusher } from './table-push';
import { chunkBytes } from './json-chunks';
import { Session, type ReplyCache } from './session';
import { dispatchRequest } from './dispatch';
import type { ServerContext } from './context';
import type { EmitEvent, ServerEvents } from './events';

/** ChatServer construction options; everything with a timeout uses `clock`. */
export interface ChatServerOptions {
  readonly limits?: Partial<Limits>;
  readonly clock?: Clock;
  /** Least ms between two table delta pushes; changes in between are coalesced (0: per event-loop turn). */
  readonly tableFlushMs?: number;
  /** Unacked-backlog bounds past which a group member holds the group's senders back. */
  readonly backlog?: Partial<BacklogLimits>;
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
 * The chat server core (SPEC §4). Its whole interface is `handleConnection`:
 * give it any duplex stream (a TCP socket, or an in-memory pair in tests). It
 * reports what happens as typed events and never prints.
 */
export class ChatServer extends TypedEmitter<ServerEvents> {
  readonly limits: Limits;
  private readonly clock: Clock;
  private readonly clients = new ClientTable();
  private readonly groups = new GroupTable();
  private readonly fanout: GroupFanout;
  private readonly tables: TablePusher;
  private readonly ctx: ServerContext;
  /** Every open connection, oldest first. */
  private readonly sessions = new Map<number, Session>();
  /** Connections that have not registered, oldest first (shed first at the limit, SPEC §7). */
  private readonly unregistered = new Map<number, Session>();
  private readonly byName = new Map<string, Session>();
  /** Reply cache of each name ever registered (bounded per name by seenIdsCapacity). */
  private readonly replyCaches = new Map<string, ReplyCache>();
  private epoch = 0;
  private nextId = 0;
  private removedUnresponsive = 0;
  private slowConsumers = 0;
  private stopped = false;

  constructor(options: ChatServerOptions = {}) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    const backlog = { ...defaultBacklogLimits(this.limits.ackTimeoutMs), ...options.backlog };
    this.fanout = new GroupFanout(
      this.fanoutHost(), this.clock, this.limits.ackTimeoutMs, this.limits.maxOutboundBytes, backlog,
    );
    this.tables = new TablePusher(
      () => this.byName.values(), chunkBytes(this.limits.maxFrameBytes), this.clock,
      options.tableFlushMs ?? DEFAULT_TABLE_FLUSH_MS,
    );
    const emit: EmitEvent = (event, ...args) => void this.emit(event, ...args);
    this.ctx = {
      clients: this.clients, groups: this.groups, fanout: this.fanout, tables: this.tables,
      limits: this.limits, emit,
      bind: (session, name) => this.bind(session, name),
      goOffline: (session) => this.goOffline(session),
      leaveGroup: (name) => this.leaveGroup(name),
    };
  }

  /** Number of open connections. */
  get connectionCount(): number {
    return this.sessions.size;
  }

  /** A snapshot of the counters in ServerStats (cost O(group members), for occasional reads). */
  stats(): ServerStats {
    return {
      connections: this.sessions.size,
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
    const conn = new FramedConnection(stream, ClientToServerFrame, this.connectionLimits(), this.clock);
    const session: Session = new Session(
      ++this.nextId, conn, this.limits.seenIdsCapacity, (err) => this.fault(session, err), () => this.clock.now(),
      this.limits.maxOutboundBytes,
    );
    conn.on('fault', (err) => this.emit('fault', err));
    conn.on('close', (info) => {
      if (info.code === 'slow_consumer') this.slowConsumers++;
      this.onClose(session);
    });
    if (this.sessions.size >= this.limits.maxClients && !this.shedOldestUnregistered()) {
      conn.sendError('server_full'); // SPEC §7: every connection registered; refuse the newcomer
      return;
    }
    this.sessions.set(session.id, session);
    this.unregistered.set(session.id, session);
    this.armRegisterTimer(session, this.limits.registerTimeoutMs);
    conn.on('frame', (frame) => this.onFrame(session, frame));
  }

  /** SPEC §7: registration deadline; `ms` is what is left of it. */
  private armRegisterTimer(session: Session, ms: number): void {
    session.registerDeadline = this.clock.now() + ms;
    session.registerTimer = this.clock.setTimeout(() => {
      if (session.name === null) session.conn.close('register_timeout');
    }, Math.max(1, ms));
  }

  /**
   * A `register` arrived: the deadline stops while it waits in this server's
   * queues (a registration storm is not the client's fault), and restarts with
   * what was left of it if the registration fails. A connection with no
   * deadline running (it deregistered, or another `register` already stopped
   * it) gets none from this one.
   */
  private onRegister(session: Session, frame: FrameOf<ServerRequest, 'register'>): void {
    if (session.registerTimer === null) return session.enqueue(() => dispatchRequest(this.ctx, session, frame));
    const left = session.registerDeadline - this.clock.now();
    this.clearRegisterTimer(session);
    session.enqueue(async () => {
      await dispatchRequest(this.ctx, session, frame);
      if (session.name === null && !session.conn.closed && !this.stopped && session.registerTimer === null) {
        this.armRegisterTimer(session, left);
      }
    });
  }

  /** Closes every connection with `shutting_down` and stops all timers; resolves when all are closed. */
  close(): Promise<void> {
    this.stopped = true;
    this.fanout.close();
    this.tables.close();
    const open = [...this.sessions.values()];
    const closed = open.map((s) => new Promise<void>((resolve) => {
      if (s.conn.closed && !this.sessions.has(s.id)) return resolve();
      s.conn.once('close', () => resolve());
    }));
    for (const s of open) {
      this.clearRegisterTimer(s);
      s.conn.close('shutting_down');
    }
    return Promise.all(closed).then(() => undefined);
  }

  private onFrame(session: Session, frame: ClientToServerFrame): void {
    switch (frame.type) {
      case 'group_ack':
        // Acks bypass the queue: cumulative and order-free, they must not wait behind a backlog.
        if (session.name !== null) this.fanout.ack(frame.group, session.name, frame.seq);
        return;
      case 'ping':
      case 'pong':
        return; // answered by FramedConnection
      case 'register':
        return session.name === null ? this.onRegister(session, frame) : session.enqueue(() => dispatchRequest(this.ctx, session, frame));
      case 'dereg': case 'create_group': case 'list_groups': case 'join_group':
      case 'leave_group': case 'list_members': case 'send_group':
        return session.enqueue(() => dispatchRequest(this.ctx, session, frame));
      default:
        return assertNever(frame);
    }
  }

  private onClose(session: Session): void {
    this.clearRegisterTimer(session);
    this.sessions.delete(session.id);
    this.unregistered.delete(session.id);
    session.resume('flow'); // nothing left to hold back: its held frames run, then it goes offline
    // SPEC §4: a closed connection is marked offline at once, after the frames it already sent.
    if (!this.stopped && session.name !== null) session.enqueue(() => this.goOffline(session));
  }

  private fault(session: Session, err: unknown): void {
    this.emit('fault', err instanceof Error ? err : new Error(String(err)));
    session.conn.close('internal_error');
  }

  private shedOldestUnregistered(): boolean {
    const oldest = this.unregistered.values().next();
    if (oldest.done) return false;
    const victim = oldest.value;
    this.unregistered.delete(victim.id);
    this.sessions.delete(victim.id);
    this.clearRegisterTimer(victim);
    victim.conn.close('server_full');
    return true;
  }

  private bind(session: Session, name: string): void {
    session.name = name;
    this.adoptReplyCache(session, name);
    this.clearRegisterTimer(session);
    this.unregistered.delete(session.id);
    this.byName.set(name, session);
    this.epoch++;
  }

  /**
   * Gives the session its name's reply cache (created on first registration),
   * carrying over anything cached before registering. A client that lost its
   * connection retries its pending request with the same id on the new one;
   * the name's cache answers it instead of performing it again.
   */
  private adoptReplyCache(session: Session, name: string): void {
    const cache = this.replyCaches.get(name);
    if (cache === undefined) {
      this.replyCaches.set(name, session.seen);
      return;
    }
    for (const [id, reply] of session.seen.entries()) cache.set(id, reply);
    session.seen = cache;
  }

  private async goOffline(session: Session): Promise<void> {
    const name = session.name;
    if (name === null) return;
    session.name = null;
    if (this.byName.get(name) === session) this.byName.delete(name);
    if (!session.conn.closed) this.unregistered.set(session.id, session); // sheddable again (SPEC §7)
    this.epoch++;
    // Lock order: client table, then group table (one after the other, never nested).
    const entry = await this.clients.goOffline(name, session.id);
    await this.leaveGroup(name);
    if (entry === null) return;
    this.emit('tableUpdated');
    this.tables.noteChanged(entry); // SPEC §4: push the change to every online client
  }

  private async leaveGroup(name: string): Promise<string | null> {
    const group = await this.takeOutOfGroup(name);
    if (group !== null) this.emit('groupLeft', name, group);
    return group;
  }

  /** SPEC §4: a member that did not ack in time leaves the group and is told so. */
  private async removeUnresponsive(name: string, group: string): Promise<void> {
    if ((await this.takeOutOfGroup(name, group)) === null) return;
    this.removedUnresponsive++;
    this.emit('memberUnresponsive', name, group);
    this.byName.get(name)?.conn.send({ type: 'removed', group });
  }

  /** Takes `name` out of its group (with `onlyFrom`, only if still that one) and out of its fan-out. */
  private async takeOutOfGroup(name: string, onlyFrom?: string): Promise<string | null> {
    const result = await this.groups.leave(name, onlyFrom);
    if (!result.ok) return null;
    this.fanout.forget(result.group, name);
    return result.group;
  }

  private fanoutHost(): ConstructorParameters<typeof GroupFanout>[0] {
    return {
      membersOf: (group) => this.groups.membersOf(group),
      sessionOf: (name) => this.byName.get(name),
      sessionsEpoch: () => this.epoch,
      onUnresponsive: (name, group) => {
        this.removeUnresponsive(name, group).catch((err: unknown) => this.emit('fault', err as Error));
      },
    };
  }

  private connectionLimits(): ConnectionLimits {
    const l = this.limits;
    return {
      maxFrameBytes: l.maxFrameBytes, maxOutboundBytes: l.maxOutboundBytes, drainTimeoutMs: l.drainTimeoutMs,
      frameTimeoutMs: l.frameTimeoutMs, maxInvalidFrames: l.maxInvalidFrames, heartbeatMs: l.heartbeatMs,
      rateLimitPerSec: l.rateLimitPerSec, rateBurst: l.rateBurst,
    };
  }

  private clearRegisterTimer(session: Session): void {
    if (session.registerTimer !== null) this.clock.clearTimeout(session.registerTimer);
    session.registerTimer = null;
  }
}

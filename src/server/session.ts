import type { ClientToServerFrame, ServerToClientFrame } from '../protocol/frames';
import type { FramedConnection } from '../net/framed-connection';
import { SeenIds } from '../net/seen-ids';
import type { TimerHandle } from '../util/clock';
import { PacedOutbox } from './paced-outbox';
import type { DeltaBatch } from './table-push';

/** Cached replies by request id; 0 stands for a bare `reply{id}`. */
export type ReplyCache = SeenIds<ServerToClientFrame | 0>;

/** A unit of work for one connection; may finish synchronously or later. */
export type SessionTask = () => void | Promise<void>;

/** Why a session is paused: 'backlog' stops reading, 'flow' holds its tasks (see `pause`). */
export type PauseReason = 'backlog' | 'flow';

/** Queued tasks past which reading pauses until the backlog drains. */
const BACKLOG_PAUSE = 256;

/**
 * One client connection on the server: its framed connection, the name it
 * registered (null before), cached replies by request id, its table push
 * counter, and a task queue that runs its frames strictly in order — with a
 * fast path that runs a task at once when nothing is pending. While paused
 * for 'flow' the queue holds its tasks too (frames already read when the
 * pause came), so flow control stops a sender at its next message.
 */
export class Session {
  name: string | null = null;
  /** Pushes sent on this connection (`table.rev`). */
  tableRev = 0;
  /** Change counter at the time this session got its full table. */
  fullTableAt = -1;
  /** Counts full tables started on this connection; a catch-up of an older one stops. */
  tableGen = 0;
  /** True once the full table (and the changes made while it was paced) went out: deltas go straight out. */
  tableLive = false;
  /** Delta batches held back while the full table is still being paced out. */
  pendingDeltas: DeltaBatch[] = [];
  /** Long chunked jobs (full table, long lists), paced by this connection's outbound queue. */
  readonly outbox: PacedOutbox;
  registerTimer: TimerHandle | null = null;
  /** When the registration deadline falls (clock ms), while it runs. */
  registerDeadline = Infinity;
  /** When reading last resumed after a 'backlog' pause; ack deadlines do not run while we are not reading. */
  resumedAt = -Infinity;
  /**
   * Request id → its reply (0 stands for a bare `reply{id}`), for duplicate
   * suppression. Once registered, this is the name's cache, kept across
   * reconnects, so a request retried on a new connection is not performed twice.
   */
  seen: ReplyCache;
  private readonly pending: SessionTask[] = [];
  private busy = false;
  private readonly pauses = new Set<PauseReason>();

  constructor(
    readonly id: number,
    readonly conn: FramedConnection<ClientToServerFrame, ServerToClientFrame>,
    seenIdsCapacity: number,
    private readonly onFault: (error: unknown) => void,
    private readonly now: () => number,
    outboundBudget = Number.POSITIVE_INFINITY,
  ) {
    this.seen = new SeenIds(Math.max(1, seenIdsCapacity));
    this.outbox = new PacedOutbox(conn, outboundBudget);
  }

  /** Runs `task` after every task queued before it. */
  enqueue(task: SessionTask): void {
    // Held back by flow control: what was read before the pause waits too, so a pause takes effect at once.
    if (this.busy || this.pauses.has('flow')) {
      this.pending.push(task);
      if (this.pending.length === BACKLOG_PAUSE) this.pause('backlog');
      return;
    }
    this.execute(task);
  }

  /**
   * 'backlog': stops reading this connection until the queue drains. 'flow':
   * holds the queued tasks (a sender to a congested group) but keeps reading,
   * so this member's acks still arrive — flow control never makes a member
   * look unresponsive. Frames read meanwhile wait in the queue (bounded by
   * the 'backlog' pause).
   */
  pause(reason: PauseReason): void {
    if (this.pauses.has(reason)) return;
    this.pauses.add(reason);
    if (reason === 'backlog') this.conn.pause();
  }

  /**
   * Withdraws `reason`. Tasks held by 'flow' run from a microtask, never
   * inside the caller (which may be releasing several senders at once).
   */
  resume(reason: PauseReason): void {
    if (!this.pauses.delete(reason)) return;
    if (reason === 'backlog') {
      this.resumedAt = this.now();
      this.conn.resume();
    } else if (!this.busy && this.pending.length > 0) {
      this.busy = true; // the held tasks keep their place ahead of anything read meanwhile
      queueMicrotask(() => this.next());
    }
  }

  /** True while reading is paused (a long backlog of tasks). */
  get paused(): boolean {
    return this.pauses.has('backlog');
  }

  /** True while flow control holds this session's tasks. */
  get held(): boolean {
    return this.pauses.has('flow');
  }

  private execute(task: SessionTask): void {
    let result: void | Promise<void>;
    try {
      result = task();
    } catch (err) {
      this.onFault(err);
      return;
    }
    if (result instanceof Promise) {
      this.busy = true;
      result.then(
        () => this.next(),
        (err: unknown) => {
          this.onFault(err);
          this.next();
        },
      );
    }
  }

  private next(): void {
    this.busy = false;
    while (!this.busy && !this.pauses.has('flow')) {
      const task = this.pending.shift();
      if (!task) break;
      this.execute(task);
    }
    if (this.pending.length < BACKLOG_PAUSE / 2) this.resume('backlog');
  }
}

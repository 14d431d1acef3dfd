import type { ClientToServerFrame, ServerToClientFrame } from '../protocol/frames';
import type { SessionConnection } from '../net/connection-types';
import { newChallenge } from '../protocol/signing';
import { foldName } from '../protocol/names';
import { PacedOutbox } from './paced-outbox';
import { TableFeed } from './table-feed';
import type { ReplyCache } from './reply-cache';
import { defaultTurnBudget, type TurnBudget } from './turn-budget';

/** A unit of work for one connection; may finish synchronously or later. */
export type SessionTask = () => void | Promise<void>;

/** Why a session is paused: 'backlog' stops reading, 'flow' holds its tasks (see `pause`). */
export type PauseReason = 'backlog' | 'flow';

/** Queued tasks past which reading pauses until the backlog drains. */
const BACKLOG_PAUSE = 256;

/**
 * One client connection on the server: its framed connection, the name it
 * registered (null before; written only by ChatServer), the groups it is in
 * (written only by Membership; one, unless it joined with `keep`), its table feed (written only by
 * TablePusher), and a task queue that runs its frames strictly in order —
 * with a fast path that runs a task at once when nothing is pending. While
 * paused for 'flow' the queue holds its tasks too (frames already read when
 * the pause came), so flow control stops a sender at its next message.
 */
export class Session {
  private registeredName: string | null = null;
  /** The groups it is in, in join order. */
  private joined: readonly string[] = [];
  /** This connection's table pushes: revision, full-table progress, held deltas. */
  readonly feed = new TableFeed();
  /** Long chunked jobs (full table, long lists), paced by this connection's outbound queue. */
  readonly outbox: PacedOutbox;
  /**
   * Request id → its reply, for duplicate suppression: the connection's own
   * until it registers, then its name's (ReplyCaches; ChatServer writes it).
   */
  replies: ReplyCache;
  /** When reading last resumed after a 'backlog' pause; ack deadlines do not run while we are not reading. */
  resumedAt = -Infinity;
  private readonly pending: SessionTask[] = [];
  private busy = false;
  private readonly pauses = new Set<PauseReason>();
  /** The turn this session last ran a task in, and how many it ran then (TurnBudget). */
  private turn = -1;
  private ranThisTurn = 0;
  private waitingForTurn = false;
  /** Callers of `idle()` waiting for the queue to empty. */
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly id: number,
    readonly conn: SessionConnection<ClientToServerFrame, ServerToClientFrame>,
    replies: ReplyCache,
    private readonly onFault: (error: unknown) => void,
    private readonly now: () => number,
    outboundBudget = Number.POSITIVE_INFINITY,
    private readonly budget: TurnBudget = defaultTurnBudget,
    /** What this connection's `register` must sign (sent in `hello`, docs/security.md "Accounts"). */
    readonly challenge: string = newChallenge(),
  ) {
    this.replies = replies;
    this.outbox = new PacedOutbox(conn, outboundBudget);
  }

  /** The name this connection registered, or null. */
  get name(): string | null {
    return this.registeredName;
  }

  /** ChatServer binds and unbinds the name (its one writer). */
  setName(name: string | null): void {
    this.registeredName = name;
  }

  /** The group this connection's client is in (the last it joined), as this server last changed it. */
  get group(): string | null {
    return this.joined.at(-1) ?? null;
  }

  /** Every group it is in, in join order (one, unless it joined with `keep`). */
  get groups(): readonly string[] {
    return this.joined;
  }

  /** `group` as shown if the client is in it (any case), else null. */
  memberOf(group: string): string | null {
    const folded = foldName(group);
    return this.joined.find((g) => foldName(g) === folded) ?? null;
  }

  /** Membership puts the client in a group (its one writer). */
  addGroup(group: string): void {
    if (this.memberOf(group) === null) this.joined = [...this.joined, group];
  }

  /** Membership takes the client out of a group (its one writer). */
  dropGroup(group: string): void {
    const folded = foldName(group);
    this.joined = this.joined.filter((g) => foldName(g) !== folded);
  }

  /** Runs `task` after every task queued before it. */
  enqueue(task: SessionTask): void {
    // Held back by flow control: what was read before the pause waits too, so a pause takes effect at once.
    if (this.busy || this.pauses.has('flow') || !this.mayRun()) {
      this.pending.push(task);
      if (this.pending.length === BACKLOG_PAUSE) this.pause('backlog');
      return;
    }
    this.execute(task);
  }

  /** True if this turn's budget has room for one more task; else the queue goes on next turn. */
  private mayRun(): boolean {
    const turn = this.budget.current();
    if (turn !== this.turn) {
      this.turn = turn;
      this.ranThisTurn = 0;
    }
    if (this.ranThisTurn < this.budget.perTurn) return true;
    if (!this.waitingForTurn) {
      this.waitingForTurn = true;
      this.budget.nextTurn(() => {
        this.waitingForTurn = false;
        if (!this.busy) this.next();
      });
    }
    return false;
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

  /** Resolves once no task runs or waits (the server's drain waits for this, docs/operations.md). */
  idle(): Promise<void> {
    if (!this.busy && this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
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
    this.ranThisTurn++;
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
    while (!this.busy && !this.pauses.has('flow') && this.pending.length > 0 && this.mayRun()) {
      this.execute(this.pending.shift()!);
    }
    if (this.pending.length < BACKLOG_PAUSE / 2) this.resume('backlog');
    if (!this.busy && this.pending.length === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}

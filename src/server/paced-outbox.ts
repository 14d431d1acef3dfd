import type { EncodedFrame } from '../protocol/codec';
import type { ClientToServerFrame, ServerToClientFrame } from '../protocol/frames';
import type { SessionConnection } from '../net/connection-types';

/** A chunked job: yields encoded frames, then null once exhausted. */
export interface ChunkSource {
  next(): EncodedFrame<ServerToClientFrame> | null;
}

/** What the outbox needs of a connection. */
export type PacedConnection = Pick<
  SessionConnection<ClientToServerFrame, ServerToClientFrame>,
  'open' | 'outboundBytes' | 'congested' | 'sendEncoded' | 'on'
>;

interface Job {
  readonly source: ChunkSource;
  readonly resolve: () => void;
}

/**
 * Sends long chunked jobs (a new client's full table, long list replies) to
 * one connection at the pace it drains: chunks are queued while the
 * connection's outbound bytes are at most `budget` (maxOutboundBytes), and the
 * rest waits for its 'drain' event — or for the next turn, if the bytes went
 * straight to the kernel and the connection never became congested. So a job
 * never pushes a reader past the hard outbound cap, however long it is. Jobs
 * run one after another in the order given; a closed connection ends them all.
 */
export class PacedOutbox {
  private jobs: Job[] = [];
  private turnPending = false;
  private listening = false;

  constructor(
    private readonly conn: PacedConnection,
    private readonly budget: number,
  ) {}

  /** True when no job is queued or running. */
  get idle(): boolean {
    return this.jobs.length === 0;
  }

  /** Queues `source`; resolves once its last frame is queued on the connection, or the connection closed. */
  send(source: ChunkSource): Promise<void> {
    if (!this.conn.open) return Promise.resolve();
    this.listen();
    return new Promise((resolve) => {
      this.jobs.push({ source, resolve });
      if (this.jobs.length === 1) this.pump();
    });
  }

  /** Subscribes to the connection once, at the first job. */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    this.conn.on('drain', () => this.pump());
    this.conn.on('close', () => this.abandon());
  }

  private pump(): void {
    for (let job = this.jobs[0]; job !== undefined; job = this.jobs[0]) {
      if (!this.conn.open) return this.abandon();
      if (this.conn.outboundBytes > this.budget) return this.waitForRoom();
      const frame = job.source.next(); // may queue a follow-up job (table catch-up): it runs next
      if (frame === null) {
        this.jobs.shift();
        job.resolve();
      } else {
        this.conn.sendEncoded(frame);
      }
    }
  }

  /** Over budget: a congested connection pumps us on 'drain'; otherwise the bytes leave at this turn's flush. */
  private waitForRoom(): void {
    if (this.conn.congested || this.turnPending) return;
    this.turnPending = true;
    setImmediate(() => {
      this.turnPending = false;
      this.pump();
    });
  }

  /** The connection closed: every job ends (its waiters resume), nothing more is sent. */
  private abandon(): void {
    const jobs = this.jobs;
    this.jobs = [];
    for (const job of jobs) job.resolve();
  }
}

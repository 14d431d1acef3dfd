import { encodeTableChunk } from '../protocol/chunk-frames';
import type { ClientEntry } from '../protocol/frames';
import { chunkEntries, type JsonArray } from '../protocol/json-chunks';
import { systemClock, type Clock, type TimerHandle } from '../util/clock';
import { FullTableCache } from './table-cache';
import type { ChunkSource } from './paced-outbox';
import type { Session } from './session';
import type { DeltaBatch, TableChange as Change } from './table-feed';

/** How often changes are pushed; 0 pushes at the end of the event-loop turn. */
export const DEFAULT_TABLE_FLUSH_MS = 50;

/**
 * docs/usage.md "Server": on every change to the client table, push it to every online
 * client. Delta pushes are at least `flushMs` apart (50 ms by default, on
 * the injected clock; a change after a quiet spell goes out at the end of the
 * turn): each online session gets one delta push listing every entry changed
 * since the last one, encoded once for all of them. So a
 * registration storm costs each session one write per interval, not one per
 * event-loop turn, and is not quadratic in bytes. A new client's full table
 * comes from a FullTableCache, so it is not re-encoded per registrant.
 *
 * Every push is split in `table` chunks of at most `chunkBytes` of entries
 * (docs/protocol.md: `more`, one `rev` per push). A new client's full table is
 * paced by its outbound queue (PacedOutbox), so even a table of 20,000 entries
 * never trips the hard outbound cap; the deltas made meanwhile are held back
 * and follow it as one merged push. Order per connection: register reply,
 * full table, then deltas.
 */
export class TablePusher {
  private readonly changed = new Map<string, Change>();
  private counter = 0;
  private timer: TimerHandle | null = null;
  private lastFlush = Number.NEGATIVE_INFINITY;
  private immediate: NodeJS.Immediate | null = null;
  private readonly fullTable: FullTableCache;

  /**
   * @param recipients the sessions to push to (registered, online) at a flush
   * @param chunkBytes largest entry array per `table` frame, in bytes
   * @param clock the clock of the flush timer
   * @param flushMs least time between two delta pushes (a change after a quiet spell goes out at the end of the turn)
   */
  constructor(
    private readonly recipients: () => Iterable<Session>,
    private readonly chunkBytes: number,
    private readonly clock: Clock = systemClock,
    private readonly flushMs = 0,
  ) {
    this.fullTable = new FullTableCache(chunkBytes);
  }

  /**
   * Starts `session`'s full table: every change noted from now on reaches it
   * as a delta after the table. Call it before reading the snapshot that
   * `sendFull` will send, so that no change falls between the two (a change
   * already in the snapshot and sent again as a delta is harmless).
   */
  startFull(session: Session): void {
    session.feed.startFull(this.counter);
  }

  /**
   * Sends `session`'s full table (started by `startFull`, or now), paced by
   * its outbound queue. Resolves once the last chunk is queued (or the
   * connection closed).
   */
  sendFull(session: Session, clients: readonly ClientEntry[]): Promise<void> {
    const { rev, gen } = session.feed.takeStarted() ?? session.feed.startFull(this.counter);
    session.feed.takeStarted();
    const chunks = this.fullTable.chunksOf(clients);
    let i = 0;
    return session.outbox.send({
      next: () => {
        const json = chunks[i];
        if (json === undefined) {
          this.catchUp(session, gen); // the full table is out: the held-back deltas follow
          return null;
        }
        i++;
        return encodeTableChunk(rev, i === 1, i < chunks.length, json);
      },
    });
  }

  /** Notes a changed entry; pushed to every online session at the next flush (within flushMs). */
  noteChanged(entry: ClientEntry): void {
    this.counter += 1;
    this.changed.delete(entry.name); // re-insert so the list keeps change order
    this.changed.set(entry.name, { entry, at: this.counter });
    if (this.timer !== null || this.immediate !== null) return;
    // A throttle, not a debounce: a change after a quiet spell goes out at the end of this turn.
    const wait = this.lastFlush + this.flushMs - this.clock.now();
    if (wait > 0) this.timer = this.clock.setTimeout(() => this.flush(), wait);
    else this.immediate = setImmediate(() => this.flush());
  }

  /** Stops the flush timer (server shutdown); changes not yet pushed are dropped. */
  close(): void {
    this.cancel();
    this.changed.clear();
  }

  /** Pushes what changed since the last flush. */
  flush(): void {
    this.cancel();
    if (this.changed.size === 0) return;
    this.lastFlush = this.clock.now();
    const changes = [...this.changed.values()];
    this.changed.clear();
    const batch: DeltaBatch = { changes, chunks: this.chunk(changes) };
    const firstAt = changes[0]!.at;
    for (const session of this.recipients()) {
      if (!session.conn.open) continue;
      const route = session.feed.route(batch, firstAt);
      if (route === 'all') this.sendDelta(session, batch.chunks);
      else if (route === 'fresh') {
        const fresh = changes.filter((c) => c.at > session.feed.fullTableAt);
        if (fresh.length > 0) this.sendDelta(session, this.chunk(fresh)); // else its full table had them all
      }
    }
  }

  /**
   * After a full table (or a catch-up push) went out: sends the changes held
   * back meanwhile as one merged push, paced too, then goes live.
   */
  private catchUp(session: Session, gen: number): void {
    if (!session.feed.isCurrent(gen)) return; // a newer full table replaced this one
    const merged = session.feed.takeHeld();
    if (merged.length === 0) return session.feed.goLive();
    void session.outbox.send(this.deltaSource(session, gen, this.chunk(merged)));
  }

  /** A paced delta push of `chunks`; when it is out, catches up again. */
  private deltaSource(session: Session, gen: number, chunks: readonly JsonArray<ClientEntry>[]): ChunkSource {
    const rev = session.feed.nextRev();
    let i = 0;
    return {
      next: () => {
        const json = chunks[i];
        if (json === undefined) {
          this.catchUp(session, gen); // deltas held back while this one was paced follow
          return null;
        }
        i++;
        return encodeTableChunk(rev, false, i < chunks.length, json);
      },
    };
  }

  /** Queues one delta push (a new rev) at once. */
  private sendDelta(session: Session, chunks: readonly JsonArray<ClientEntry>[]): void {
    const rev = session.feed.nextRev();
    chunks.forEach((json, i) => session.conn.sendEncoded(encodeTableChunk(rev, false, i < chunks.length - 1, json)));
  }

  private cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.immediate = null;
  }

  private chunk(changes: readonly Change[]): JsonArray<ClientEntry>[] {
    return chunkEntries(
      changes.map((c) => c.entry),
      this.chunkBytes,
    );
  }
}

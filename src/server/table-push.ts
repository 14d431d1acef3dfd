import type { ClientEntry } from '../protocol/frames';
import { JsonChunker, tableFrame } from './json-chunks';
import type { ChunkSource } from './paced-outbox';
import type { Session } from './session';

/** One changed entry and the change counter when it changed. */
interface Change {
  readonly entry: ClientEntry;
  readonly at: number;
}

/** The changes of one turn, with their chunks encoded once for every recipient. */
export interface DeltaBatch {
  readonly changes: readonly Change[];
  readonly chunks: readonly string[];
}

/**
 * SPEC §4: on every change to the client table, push it to every online
 * client. Changes are coalesced per event-loop turn: each online session gets
 * one delta push listing every entry changed in that turn, encoded once for
 * all of them, so a registration storm is not quadratic in bytes.
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
  private scheduled = false;

  /**
   * @param recipients the sessions to push to (registered, online) when a turn ends
   * @param chunkBytes largest entry array per `table` frame, in bytes
   */
  constructor(private readonly recipients: () => Iterable<Session>, private readonly chunkBytes: number) {}

  /** The current change counter; a full table sent now covers every change up to it. */
  get changeCount(): number {
    return this.counter;
  }

  /**
   * Starts `session`'s full table (a new rev), paced by its outbound queue.
   * Resolves once the last chunk is queued (or the connection closed).
   */
  sendFull(session: Session, clients: readonly ClientEntry[]): Promise<void> {
    const rev = ++session.tableRev;
    const gen = ++session.tableGen;
    session.fullTableAt = this.counter;
    session.tableLive = false;
    session.pendingDeltas = [];
    const chunker = JsonChunker.entries(clients, this.chunkBytes);
    let first = true;
    return session.outbox.send({
      next: () => {
        const json = chunker.next();
        if (json === null) {
          this.catchUp(session, gen); // the full table is out: the held-back deltas follow
          return null;
        }
        const full = first;
        first = false;
        return tableFrame(rev, full, !chunker.done, json);
      },
    });
  }

  /** Notes a changed entry; pushed to every online session when this turn ends. */
  noteChanged(entry: ClientEntry): void {
    this.counter += 1;
    this.changed.delete(entry.name); // re-insert so the list keeps change order
    this.changed.set(entry.name, { entry, at: this.counter });
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Pushes what changed in this turn. */
  flush(): void {
    this.scheduled = false;
    if (this.changed.size === 0) return;
    const changes = [...this.changed.values()];
    this.changed.clear();
    const batch: DeltaBatch = { changes, chunks: this.chunk(changes) };
    const firstAt = changes[0]!.at;
    for (const session of this.recipients()) {
      if (session.conn.closed || session.tableRev === 0) continue;
      if (!session.tableLive) {
        session.pendingDeltas.push(batch); // its full table is still going out: follow it
      } else if (session.fullTableAt < firstAt) {
        this.sendDelta(session, batch.chunks);
      } else {
        const fresh = changes.filter((c) => c.at > session.fullTableAt);
        if (fresh.length > 0) this.sendDelta(session, this.chunk(fresh)); // else its full table had them all
      }
    }
  }

  /**
   * After a full table (or a catch-up push) went out: sends the changes held
   * back meanwhile as one merged push, paced too, then goes live.
   */
  private catchUp(session: Session, gen: number): void {
    if (session.tableGen !== gen) return; // a newer full table replaced this one
    const merged = new Map<string, Change>();
    for (const batch of session.pendingDeltas) {
      for (const change of batch.changes) {
        if (change.at <= session.fullTableAt) continue;
        merged.delete(change.entry.name);
        merged.set(change.entry.name, change);
      }
    }
    session.pendingDeltas = [];
    if (merged.size === 0) {
      session.tableLive = true;
      return;
    }
    void session.outbox.send(this.deltaSource(session, gen, this.chunk([...merged.values()])));
  }

  /** A paced delta push of `chunks`; when it is out, catches up again. */
  private deltaSource(session: Session, gen: number, chunks: readonly string[]): ChunkSource {
    const rev = ++session.tableRev;
    let i = 0;
    return {
      next: () => {
        const json = chunks[i];
        if (json === undefined) {
          this.catchUp(session, gen); // deltas held back while this one was paced follow
          return null;
        }
        i++;
        return tableFrame(rev, false, i < chunks.length, json);
      },
    };
  }

  /** Queues one delta push (a new rev) at once. */
  private sendDelta(session: Session, chunks: readonly string[]): void {
    const rev = ++session.tableRev;
    chunks.forEach((json, i) => session.conn.sendEncoded(tableFrame(rev, false, i < chunks.length - 1, json)));
  }

  private chunk(changes: readonly Change[]): string[] {
    return JsonChunker.entries(changes.map((c) => c.entry), this.chunkBytes).rest();
  }
}

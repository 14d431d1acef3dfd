import type { ClientEntry } from '../protocol/frames';
import type { Session } from './session';

/**
 * SPEC §4: on every change to the client table, push it to every online
 * client. Changes are coalesced per event-loop turn: each online session gets
 * one `table{full:false}` frame listing every entry changed in that turn, and
 * the entry list is serialized once for all of them, so a registration storm
 * is not quadratic in bytes.
 */
export class TablePusher {
  private readonly changed = new Map<string, { entry: ClientEntry; at: number }>();
  private counter = 0;
  private scheduled = false;

  /** @param recipients the sessions to push to (registered, online) when a turn ends */
  constructor(private readonly recipients: () => Iterable<Session>) {}

  /** The current change counter; a full table sent now covers every change up to it. */
  get changeCount(): number {
    return this.counter;
  }

  /** Sends `session` its full table (rev 1 onward), after the register reply. */
  sendFull(session: Session, clients: readonly ClientEntry[]): void {
    session.tableRev += 1;
    session.fullTableAt = this.counter;
    session.conn.send({ type: 'table', rev: session.tableRev, full: true, clients });
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

  /** Pushes what changed in this turn (also called by the turn-end callback). */
  flush(): void {
    this.scheduled = false;
    if (this.changed.size === 0) return;
    const changes = [...this.changed.values()];
    this.changed.clear();
    const allJson = JSON.stringify(changes.map((c) => c.entry));
    for (const session of this.recipients()) {
      if (session.conn.closed || session.tableRev === 0) continue;
      let json = allJson;
      if (session.fullTableAt >= (changes[0]?.at ?? 0)) {
        const fresh = changes.filter((c) => c.at > session.fullTableAt);
        if (fresh.length === 0) continue; // its full table already had them all
        json = JSON.stringify(fresh.map((c) => c.entry));
      }
      session.tableRev += 1;
      session.conn.sendEncoded(
        Buffer.from(`{"type":"table","rev":${session.tableRev},"full":false,"clients":${json}}\n`, 'utf8'),
      );
    }
  }
}

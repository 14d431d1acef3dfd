import type { HistoryEntry } from '../protocol/frames';
import type { HistoryQuery, NewGroupMessage } from './chat-store';

/**
 * Where group messages are kept (docs/architecture.md "Store"): each group's
 * last `limit` messages, numbered by one seq per group that never goes back.
 */
export interface HistoryLog {
  /** Appends `message` to `group`, returns its seq; resolves once it is durable. */
  append(group: string, message: NewGroupMessage): Promise<number>;
  /** Messages of `group` in seq order: after `query.after` if given, the newest `query.limit` of those. */
  read(group: string, query: HistoryQuery): Promise<readonly HistoryEntry[]>;
  /** Forgets `group`'s messages (the group was deleted). */
  drop(group: string): Promise<void>;
}

/** Bytes of message text an in-memory history keeps in all groups together (oldest go first). */
export const MEMORY_HISTORY_BYTES = 64 * 1024 * 1024;

interface GroupLog {
  lastSeq: number;
  entries: HistoryEntry[];
}

/** Rough bytes one entry holds (text in UTF-16, plus the object). */
function sizeOf(entry: HistoryEntry): number {
  return entry.text.length * 2 + entry.from.length * 2 + 64;
}

/**
 * The history of `--ephemeral` servers: in memory, at most `limit` messages
 * per group and MEMORY_HISTORY_BYTES in all (the oldest message of all is
 * dropped first), gone when the process ends.
 */
export class MemoryHistory implements HistoryLog {
  private readonly groups = new Map<string, GroupLog>();
  /** Groups in the order their messages were appended, for the total bound. */
  private readonly order: string[] = [];
  private orderHead = 0;
  private bytes = 0;

  constructor(
    private readonly limit: number,
    private readonly maxBytes: number = MEMORY_HISTORY_BYTES,
  ) {}

  async append(group: string, message: NewGroupMessage): Promise<number> {
    let log = this.groups.get(group);
    if (log === undefined) {
      log = { lastSeq: 0, entries: [] };
      this.groups.set(group, log);
    }
    const entry: HistoryEntry = { seq: ++log.lastSeq, from: message.from, text: message.text, at: message.at };
    if (this.limit === 0) return entry.seq;
    log.entries.push(entry);
    this.bytes += sizeOf(entry);
    this.order.push(group);
    if (log.entries.length > this.limit) this.dropOldest(log);
    while (this.bytes > this.maxBytes && this.orderHead < this.order.length) {
      const oldest = this.groups.get(this.order[this.orderHead++]!);
      if (oldest && oldest.entries.length > 0) this.dropOldest(oldest);
    }
    if (this.orderHead > 4096 && this.orderHead * 2 > this.order.length) {
      this.order.splice(0, this.orderHead);
      this.orderHead = 0;
    }
    return entry.seq;
  }

  async read(group: string, query: HistoryQuery): Promise<readonly HistoryEntry[]> {
    const entries = this.groups.get(group)?.entries ?? [];
    const after = query.after ?? 0;
    const newer = after > 0 ? entries.filter((e) => e.seq > after) : entries;
    return newer.slice(Math.max(0, newer.length - query.limit));
  }

  async drop(group: string): Promise<void> {
    const log = this.groups.get(group);
    if (log === undefined) return;
    for (const entry of log.entries) this.bytes -= sizeOf(entry);
    this.groups.delete(group);
  }

  private dropOldest(log: GroupLog): void {
    const dropped = log.entries.shift();
    if (dropped) this.bytes -= sizeOf(dropped);
  }
}

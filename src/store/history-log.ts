import type { HistoryEntry } from '../protocol/frames';
import type { HistoryQuery, NewGroupMessage } from './chat-store';

/**
 * Where group messages are kept (docs/architecture.md "Store"): each group's
 * last `limit` messages, numbered by one seq per group that never goes back.
 */
export interface HistoryLog {
  /** Appends `message` to `group`, returns its seq; resolves once it is durable. */
  append(group: string, message: NewGroupMessage): Promise<number>;
  /** Messages of `group` in seq order: inside the query's bounds, `query.limit` of those (ChatStore.history). */
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
    return selectHistory(this.groups.get(group)?.entries ?? [], query);
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

/** True when the query has a bound besides `after` (the common reads have none). */
function hasBounds(query: HistoryQuery): boolean {
  return query.before !== undefined || query.afterAt !== undefined || query.beforeAt !== undefined;
}

/** The entries of `entries` (in seq order) that `query` selects, in seq order. */
export function selectHistory(entries: readonly HistoryEntry[], query: HistoryQuery): HistoryEntry[] {
  const after = query.after ?? 0;
  let inside = after > 0 ? entries.filter((e) => e.seq > after) : [...entries];
  if (hasBounds(query)) {
    const { before = Infinity, afterAt = -Infinity, beforeAt = Infinity } = query;
    inside = inside.filter((e) => e.seq < before && e.at > afterAt && e.at < beforeAt);
  }
  return query.oldest === true ? inside.slice(0, query.limit) : inside.slice(Math.max(0, inside.length - query.limit));
}

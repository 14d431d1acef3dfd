/**
 * Items handled in order, one event-loop turn after they arrive (setImmediate).
 * ChatClient routes pushed server frames through it so that a reply read in
 * the same chunk resolves its caller first (docs/events.md, Ordering).
 */
export class TurnQueue<T> {
  private items: T[] = [];
  private timer: NodeJS.Immediate | null = null;

  constructor(private readonly handle: (item: T) => void) {}

  /** Queues `item`; the queue drains on the next turn. */
  push(item: T): void {
    this.items.push(item);
    this.timer ??= setImmediate(() => this.drain());
  }

  /** Drops everything queued and the pending turn. */
  clear(): void {
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    this.items = [];
  }

  private drain(): void {
    this.timer = null;
    const batch = this.items;
    this.items = [];
    for (const item of batch) this.handle(item);
  }
}

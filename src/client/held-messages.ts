import type { DirectMessage, Inbox } from './peer-listener';

/**
 * Where a ChatClient's accepted private messages go (docs/usage.md "Group
 * mode"): in normal mode they are shown at once; in group mode they are held,
 * in arrival order, until the renderer takes them with `release()` when group
 * mode ends or before it exits. Bounded: once `capacity` are held the inbox is
 * `full`, and the listener answers the sender `inbox_full` instead of acking,
 * so a flood of valid messages cannot grow the client's memory without limit.
 */
export class HeldInbox implements Inbox {
  private held: DirectMessage[] = [];

  /**
   * @param inGroup whether the client is in group mode now
   * @param show hands a message to the renderer (the `directMessage` event)
   */
  constructor(
    private readonly capacity: number,
    private readonly inGroup: () => boolean,
    private readonly show: (message: DirectMessage) => void,
  ) {}

  /** True in group mode once `capacity` messages are held. */
  get full(): boolean {
    return this.inGroup() && this.held.length >= this.capacity;
  }

  /**
   * Holds the message in group mode; shows it otherwise — after any still
   * held (group mode ended and nobody released them), so none is lost or
   * shown out of order.
   */
  deliver(message: DirectMessage): void {
    if (this.inGroup()) {
      if (this.held.length < this.capacity) this.held.push(message);
      return;
    }
    for (const earlier of this.release()) this.show(earlier);
    this.show(message);
  }

  /** Every held message, oldest first; none is held afterwards. */
  release(): readonly DirectMessage[] {
    const released = this.held;
    this.held = [];
    return released;
  }

  get size(): number {
    return this.held.length;
  }
}

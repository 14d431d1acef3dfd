import { SeenIds } from '../net/seen-ids';

/** What to do with an incoming mesh message. */
export type InboxVerdict = 'show' | 'duplicate' | 'too_long';

/**
 * Receive-side rules for mesh messages (docs/usage.md "Peer mode"; docs/protocol.md "Limits"): a message longer than
 * the limit is refused (never truncated); a message id already seen — a
 * resend after a link was replaced, or one of our own — is acked again but
 * shown only once. Memory stays bounded by `SeenIds`.
 */
export class MessageInbox {
  private readonly seen: SeenIds;

  constructor(
    capacity: number,
    private readonly maxMessageLength: number,
  ) {
    this.seen = new SeenIds(capacity);
  }

  /** Classifies message `id`; a `show` verdict is given once per id. */
  accept(id: string, text: string): InboxVerdict {
    if (text.length > this.maxMessageLength) return 'too_long';
    return this.seen.add(id, true) ? 'show' : 'duplicate';
  }

  /** Marks an id as seen (our own messages, so they are never shown back to us). */
  remember(id: string): void {
    this.seen.add(id, true);
  }
}

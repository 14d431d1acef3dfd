import type { DmEnvelope } from '../protocol/dm-envelope';
import type { SavedMessage } from './chat-store';

/**
 * Where private messages wait for their offline receivers (docs/usage.md
 * "Saved messages"): per receiver (its name as shown: callers resolve the
 * case), oldest first, bounded per mailbox by the caller's limit. A message
 * is deleted only once its receiver acked it.
 */
export interface Mailbox {
  /** Adds `message` to `recipient`'s mailbox (the name as shown); false if it already holds `limit` messages. */
  save(recipient: string, message: DmEnvelope, senderKey: string, limit: number): Promise<boolean>;
  /** The mailbox of `name`, oldest first. */
  list(name: string): Promise<readonly SavedMessage[]>;
  /** Deletes these messages of `name`'s mailbox; resolves once durable. */
  delete(name: string, ids: readonly string[]): Promise<void>;
  /** Empties `name`'s mailbox (the account was deleted). */
  drop(name: string): Promise<void>;
  /** Saved messages in every mailbox. */
  total(): Promise<number>;
}

/** The mailboxes of `--ephemeral` servers, in memory. */
export class MemoryMailbox implements Mailbox {
  private readonly boxes = new Map<string, SavedMessage[]>();

  async total(): Promise<number> {
    let total = 0;
    for (const box of this.boxes.values()) total += box.length;
    return total;
  }

  async save(recipient: string, message: DmEnvelope, senderKey: string, limit: number): Promise<boolean> {
    const box = this.boxes.get(recipient) ?? [];
    if (box.some((m) => m.message.id === message.id)) return true; // a retried save: kept once
    if (box.length >= limit) return false;
    box.push({ message, senderKey });
    this.boxes.set(recipient, box);
    return true;
  }

  async list(name: string): Promise<readonly SavedMessage[]> {
    return [...(this.boxes.get(name) ?? [])];
  }

  async delete(name: string, ids: readonly string[]): Promise<void> {
    const box = this.boxes.get(name);
    if (box === undefined) return;
    const gone = new Set(ids);
    const left = box.filter((m) => !gone.has(m.message.id));
    if (left.length === 0) this.boxes.delete(name);
    else this.boxes.set(name, left);
  }

  async drop(name: string): Promise<void> {
    this.boxes.delete(name);
  }
}

import type { ChatStore, SavedMessage } from '../store/chat-store';
import type { Session } from './session';

/** A registered session. */
type Member = Session & { readonly name: string };

/** One client's delivery of saved messages: which ids are out, and from whom. */
interface Delivery {
  readonly session: Member;
  /** Message id → its sender, until acked. */
  readonly pending: Map<string, string>;
  /** Sender → how many of its messages are still unacked in this delivery. */
  readonly perSender: Map<string, number>;
}

/**
 * Saved messages on their way to a client that came back (docs/protocol.md
 * "Saved messages"): sent after its full table, each deleted from the store
 * only once the client acked it — so a crash in the middle loses none and
 * the client's own memory of shown ids keeps it from showing one twice — and
 * a read receipt to each sender that is online once all of its messages in
 * this delivery are acked.
 */
export class SavedDelivery {
  private readonly deliveries = new Map<number, Delivery>();

  constructor(
    private readonly store: ChatStore,
    /** The online session of `name`, if any (where a receipt goes). */
    private readonly sessionOf: (name: string) => Session | undefined,
    private readonly onFault: (err: unknown) => void,
    /** `count` saved messages were queued to a client (metrics). */
    private readonly onDelivered: (count: number) => void = () => undefined,
  ) {}

  /** Sends `session` its saved messages (`saved`, oldest first, as read when it registered). */
  deliver(session: Member, saved: readonly SavedMessage[]): void {
    if (saved.length === 0 || !session.conn.open) return;
    const delivery: Delivery = { session, pending: new Map(), perSender: new Map() };
    this.deliveries.set(session.id, delivery);
    for (const { message, senderKey } of saved) {
      delivery.pending.set(message.id, message.from);
      delivery.perSender.set(message.from, (delivery.perSender.get(message.from) ?? 0) + 1);
      session.conn.send({ type: 'saved', message, key: senderKey });
    }
    this.onDelivered(saved.length);
  }

  /** The client showed saved message `id`: delete it, and tell its sender once the sender's are all shown. */
  acked(session: Member, id: string): void {
    const delivery = this.deliveries.get(session.id);
    const sender = delivery?.pending.get(id);
    if (delivery === undefined || sender === undefined) return;
    delivery.pending.delete(id);
    this.store.deleteSaved(session.name, [id]).catch((err: unknown) => this.onFault(err));
    const left = (delivery.perSender.get(sender) ?? 1) - 1;
    if (left > 0) delivery.perSender.set(sender, left);
    else {
      delivery.perSender.delete(sender);
      this.sessionOf(sender)?.conn.send({ type: 'receipt', name: session.name });
    }
    if (delivery.pending.size === 0) this.deliveries.delete(session.id);
  }

  /** The session closed: what it did not ack stays saved for next time. */
  forget(session: Session): void {
    this.deliveries.delete(session.id);
  }
}

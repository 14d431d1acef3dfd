import type { PendingAcks } from '../net/pending-acks';
import type { EncodedFrame } from '../protocol/codec';
import type { MeshFrame } from '../protocol/mesh-frames';

/** A mesh message, encoded once for every member. */
export type EncodedMessage = EncodedFrame<MeshFrame>;

/** The part of a link a delivery needs (MeshLink satisfies it; tests use fakes). */
export interface DeliveryLink {
  /** Settled true by `msg_ack`, false by an `error` for the id, closed when the link closes. */
  readonly acks: PendingAcks<boolean>;
  readonly conn: { readonly open: boolean; sendEncoded(bytes: EncodedMessage): void };
}

/** Tries in all for one member: a link replaced mid-send (tie) gets the same id again. */
const MAX_TRIES = 3;

/**
 * Delivers one encoded message to member `name` and waits for its ack
 * (docs/usage.md "Peer mode"). If the link closes before the ack and the member is by then
 * reachable over another link, the same bytes (same id) are sent again — the
 * receiver shows an id once, so this never duplicates. Resolves true when the
 * member acked, false when it did not within `ackTimeoutMs` or is gone.
 */
export async function deliver(
  linkOf: (name: string) => DeliveryLink | undefined,
  name: string,
  id: string,
  bytes: EncodedMessage,
  ackTimeoutMs: number,
): Promise<boolean> {
  const tried = new Set<DeliveryLink>();
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const link = linkOf(name);
    if (!link || !link.conn.open || tried.has(link)) return false;
    tried.add(link);
    const outcome = link.acks.wait(id, ackTimeoutMs);
    link.conn.sendEncoded(bytes);
    const result = await outcome;
    if (result.kind === 'acked') return result.value;
    if (result.kind === 'timeout') return false;
  }
  return false;
}

/** Outcome of sending one message to every member. */
export interface SendReport {
  readonly id: string;
  /** Members the message was sent to, in name order. */
  readonly recipients: readonly string[];
  /** Members that did not ack it (docs/usage.md "Peer mode": reported as "No ACK"). */
  readonly missing: readonly string[];
}

/** Sends to every member in parallel and reports who did not ack. */
export async function deliverToAll(
  linkOf: (name: string) => DeliveryLink | undefined,
  recipients: readonly string[],
  id: string,
  bytes: EncodedMessage,
  ackTimeoutMs: number,
): Promise<SendReport> {
  const results = await Promise.all(recipients.map((name) => deliver(linkOf, name, id, bytes, ackTimeoutMs)));
  return { id, recipients, missing: recipients.filter((_, i) => !results[i]) };
}

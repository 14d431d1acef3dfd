import type { ErrorCode } from '../protocol/errors';
import type { Clock, TimerHandle } from '../util/clock';

/** How a wait ended: acked (true), no answer in time (false), or the receiver's refusal code. */
export type RelayVerdict = boolean | ErrorCode;

/** Waits of at most this many relayed messages at once; past it a new one is refused (`no_ack`) at once. */
const MAX_WAITING = 10_000;

/**
 * Relayed private messages sent and not yet acknowledged by their receiver
 * (docs/protocol.md "Relayed private messages"), keyed by the receiving
 * connection and the message id, so only the addressed connection can
 * acknowledge one. Bounded, and every wait ends at its deadline.
 */
export class RelayAcks {
  private readonly waiting = new Map<string, { resolve: (verdict: RelayVerdict) => void; timer: TimerHandle }>();

  constructor(private readonly clock: Clock) {}

  /** Resolves true when `receiver` acks `id` within `ms`, its code when it refuses it, false otherwise. */
  wait(receiver: number, id: string, ms: number): Promise<RelayVerdict> {
    const key = `${receiver}:${id}`;
    if (this.waiting.size >= MAX_WAITING || this.waiting.has(key)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.settle(key, false), ms);
      this.waiting.set(key, { resolve, timer });
    });
  }

  /** `receiver` has message `id` (or refused it, with `code`). Anything else (unknown id, another connection) is ignored. */
  ack(receiver: number, id: string, code?: ErrorCode): void {
    this.settle(`${receiver}:${id}`, code ?? true);
  }

  private settle(key: string, acked: RelayVerdict): void {
    const entry = this.waiting.get(key);
    if (entry === undefined) return;
    this.waiting.delete(key);
    this.clock.clearTimeout(entry.timer);
    entry.resolve(acked);
  }
}

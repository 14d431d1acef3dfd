import { nowMs } from './message-text';
import { round } from './stats';

/**
 * A fixed send schedule for N members at `rate` msg/s each: member i's
 * message k is due at start + i/N of a period + k periods (phases spread over
 * one period, so sends do not all land in the same tick). A late timer sends
 * every message that is due, each with its own due time, so the schedule never
 * slips: whoever measures from the due time sees every delay the load generator
 * or the server added (no coordinated omission). Used by chatapp's `paced`
 * scenario and by the IRC runs alike.
 */
/** What a SendSchedule drives. */
export interface ScheduleOptions {
  members: number;
  /** Messages per second per member. */
  rate: number;
  /** Messages per member. */
  messages: number;
  /** Sends member i's next message stamped `dueAt`. */
  send(member: number, dueAt: number): void;
  /** False stops member i's schedule. */
  alive(member: number): boolean;
  /** The schedule starts this long from now (default 20 ms, so the first due times are not already late). */
  leadMs?: number;
  /** The clock due times are on (default: the load generator's monotonic ms clock). */
  now?: () => number;
}

export class SendSchedule {
  /** Messages handed to `send` so far. */
  scheduled = 0;
  readonly startedAt: number;
  private readonly periodMs: number;
  private readonly now: () => number;
  private readonly timers: (NodeJS.Timeout | undefined)[] = [];

  constructor(private readonly options: ScheduleOptions) {
    this.periodMs = 1000 / options.rate;
    this.now = options.now ?? nowMs;
    this.startedAt = this.now() + (options.leadMs ?? 20);
    for (let i = 0; i < options.members; i++) this.member(i);
  }

  /** When member `i`'s first message is due. */
  firstDueAt(i: number): number {
    return this.startedAt + (this.periodMs * i) / this.options.members;
  }

  stop(): void {
    for (const timer of this.timers) if (timer !== undefined) clearTimeout(timer);
  }

  private member(i: number): void {
    const { messages, send, alive } = this.options;
    let k = 0;
    const dueAt = (n: number): number => this.firstDueAt(i) + n * this.periodMs;
    const fire = (): void => {
      const now = this.now();
      for (; k < messages && dueAt(k) <= now && alive(i); k++) {
        send(i, dueAt(k));
        this.scheduled++;
      }
      this.timers[i] = k < messages && alive(i) ? setTimeout(fire, Math.max(0, dueAt(k) - this.now())) : undefined;
    };
    this.timers[i] = setTimeout(fire, Math.max(0, dueAt(0) - this.now()));
  }
}

/** One member's sending, as achievedRate needs it. */
export interface SenderProgress {
  /** Messages written to the socket. */
  readonly sent: number;
  /** When the last one was written (load-generator ms clock). */
  readonly lastSendAt: number;
}

/**
 * Messages per second each member actually sent, averaged over members: the
 * intervals between its sends (sent − 1) over the time from its first due
 * time to its last actual send. On schedule this is exactly the rate.
 */
export function achievedRate(senders: readonly SenderProgress[], firstDueAt: (i: number) => number): number | null {
  const rates: number[] = [];
  senders.forEach((sender, i) => {
    const spanMs = sender.lastSendAt - firstDueAt(i);
    if (sender.sent > 1 && spanMs > 0) rates.push(((sender.sent - 1) * 1000) / spanMs);
  });
  return rates.length === 0 ? null : round(rates.reduce((a, b) => a + b, 0) / rates.length, 2);
}

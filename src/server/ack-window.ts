/**
 * Acked entries left at the front of the arrays before they are compacted
 * (and only once they are over half of them): copying then costs O(1) per ack
 * amortized, and the arrays stay under twice the outstanding deliveries.
 */
const COMPACT_AFTER = 1024;

/**
 * One member's outstanding group deliveries: (seq, sentAt) in send order,
 * kept in two flat number arrays so a delivery costs no allocation. Acks are
 * cumulative, so acking pops from the front.
 */
export class AckWindow {
  private seqs: number[] = [];
  private times: number[] = [];
  private head = 0;
  /** Set once the member is being removed: no more deliveries, no more reports. */
  dead = false;

  /** Records that `seq` was sent at `at`. */
  push(seq: number, at: number): void {
    this.seqs.push(seq);
    this.times.push(at);
  }

  /** Cumulative ack: forgets every outstanding seq ≤ `seq`. */
  ackUpTo(seq: number): void {
    const seqs = this.seqs;
    let head = this.head;
    while (head < seqs.length && seqs[head]! <= seq) head++;
    this.head = head;
    if (head === seqs.length) {
      this.seqs = [];
      this.times = [];
      this.head = 0;
    } else if (head > COMPACT_AFTER && head * 2 > seqs.length) {
      this.seqs = seqs.slice(head);
      this.times = this.times.slice(head);
      this.head = 0;
    }
  }

  /** When the oldest unacked delivery was sent, or undefined if all are acked. */
  oldestSentAt(): number | undefined {
    return this.times[this.head];
  }

  get outstanding(): number {
    return this.seqs.length - this.head;
  }
}

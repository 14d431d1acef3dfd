/**
 * A bounded memory of ids already handled, each with an optional cached value
 * (the reply to a request). Oldest entries are forgotten first, so memory stays
 * bounded however many ids arrive (STYLE §11).
 */
export class SeenIds<V = true> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new RangeError('capacity must be >= 1');
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): V | undefined {
    return this.entries.get(id);
  }

  /** Remembers `id`; returns false if it was already known (a duplicate). */
  add(id: string, value: V): boolean {
    if (this.entries.has(id)) return false;
    this.entries.set(id, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return true;
  }

  /** Replaces the value of a known id (e.g. the reply once a request finished). */
  set(id: string, value: V): void {
    if (this.entries.has(id)) this.entries.set(id, value);
    else this.add(id, value);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * A bounded memory of ids already handled, each with an optional cached value
 * (the reply to a request). Oldest entries are forgotten first, so memory stays
 * bounded however many ids arrive.
 */
export class SeenIds<V = true> {
  private readonly byId = new Map<string, V>();

  constructor(private readonly capacity: number) {
    if (capacity < 1) throw new RangeError('capacity must be >= 1');
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): V | undefined {
    return this.byId.get(id);
  }

  /** Remembers `id`; returns false if it was already known (a duplicate). */
  add(id: string, value: V): boolean {
    if (this.byId.has(id)) return false;
    this.byId.set(id, value);
    if (this.byId.size > this.capacity) {
      const oldest = this.byId.keys().next();
      if (!oldest.done) this.byId.delete(oldest.value);
    }
    return true;
  }

  /** Replaces the value of a known id (e.g. the reply once a request finished). */
  set(id: string, value: V): void {
    if (this.byId.has(id)) this.byId.set(id, value);
    else this.add(id, value);
  }

  /** Remembered ids and values, oldest first. */
  entries(): IterableIterator<[string, V]> {
    return this.byId.entries();
  }

  get size(): number {
    return this.byId.size;
  }
}

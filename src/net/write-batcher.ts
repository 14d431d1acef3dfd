/**
 * Coalesces writes per event-loop turn: frames queued during one turn (for
 * example a fan-out to 100 members triggered by several senders' reads) leave
 * as one `write` per socket when the turn ends.
 */
export interface Flushable {
  flush(): void;
}

const dirty = new Set<Flushable>();
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  const batch = [...dirty];
  dirty.clear();
  for (const target of batch) target.flush();
}

/** Marks `target` to be flushed at the end of this event-loop turn. */
export function scheduleFlush(target: Flushable): void {
  dirty.add(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

import type { Duplex } from 'node:stream';

/**
 * Coalesces writes per event-loop turn: frames queued during one turn (for
 * example a fan-out to 100 members triggered by several senders' reads) leave
 * as one `write` per socket when the turn ends; `writeBatch` picks how.
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

/**
 * Average queued frame size from which a flush hands the frames to the socket
 * as one `writev` (cork, write each, uncork) instead of copying them into one
 * buffer. Measured on 100 loopback sockets (CPU per frame, this machine):
 * 100 B frames are 4–12 % cheaper concatenated (a corked write costs more per
 * chunk than copying 100 bytes); 1 KB frames 5–15 % and 4 KB frames ~25 %
 * cheaper with writev. Fan-out of short chat lines (~120 B) stays on concat.
 */
const WRITEV_MIN_AVG_BYTES = 512;

/** True if the stream can take several chunks in one call (`net.Socket` can; a bare Duplex cannot). */
function hasWritev(stream: Duplex): boolean {
  return typeof (stream as { _writev?: unknown })._writev === 'function';
}

/** Writes one turn's queued frames (`totalBytes` in all) to `stream` as a single write or writev. */
export function writeBatch(stream: Duplex, frames: readonly Buffer[], totalBytes: number): void {
  if (frames.length === 1) stream.write(frames[0]!);
  else if (totalBytes >= frames.length * WRITEV_MIN_AVG_BYTES && hasWritev(stream)) {
    stream.cork();
    for (const bytes of frames) stream.write(bytes);
    stream.uncork();
  } else stream.write(Buffer.concat(frames, totalBytes));
}

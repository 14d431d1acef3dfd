import { MAX_LINE_BYTES, MAX_TAGS_BYTES } from './message';

/** What the reader finds in the byte stream. */
export type LineEvent =
  /** A complete line, decoded as UTF-8 (invalid bytes become U+FFFD). */
  | { readonly kind: 'line'; readonly text: string }
  /** A line longer than the limit: dropped whole (the sender gets ERR_INPUTTOOLONG). */
  | { readonly kind: 'too_long' };

const CR = 0x0d;
const LF = 0x0a;
const NUL = 0x00;

/** Most bytes a line may hold, tags included, terminator excluded. */
export const MAX_TOTAL_LINE_BYTES = MAX_TAGS_BYTES + MAX_LINE_BYTES;

/**
 * Byte-in, line-out state machine for IRC (docs/irc.md "Lines"). CR, LF or
 * CR LF end a line; empty lines are ignored; NUL ends nothing but is dropped
 * with the rest of its line's text after it (RFC 1459 forbids it). A line
 * past the limit is dropped whole and reported once; the reader never holds
 * more than the limit, so a peer that never sends a newline costs a bounded
 * buffer.
 */
export class IrcLineReader {
  private chunks: Buffer[] = [];
  private bytes = 0;
  private overlong = false;
  private readonly decoder = new TextDecoder('utf-8', { fatal: false });

  constructor(private readonly maxBytes: number = MAX_TOTAL_LINE_BYTES) {}

  /** Bytes held for an unfinished line. */
  get bufferedBytes(): number {
    return this.bytes;
  }

  /** Feeds bytes; returns the events they complete, in order. */
  push(chunk: Buffer): LineEvent[] {
    const events: LineEvent[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b !== CR && b !== LF) continue;
      this.take(chunk.subarray(start, i));
      this.finish(events);
      start = i + 1;
    }
    this.take(chunk.subarray(start));
    return events;
  }

  private take(part: Buffer): void {
    if (part.length === 0 || this.overlong) return;
    if (this.bytes + part.length > this.maxBytes) {
      this.overlong = true;
      this.chunks = [];
      this.bytes = 0;
      return;
    }
    this.chunks.push(part);
    this.bytes += part.length;
  }

  private finish(events: LineEvent[]): void {
    if (this.overlong) {
      events.push({ kind: 'too_long' });
    } else if (this.bytes > 0) {
      const line = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      const nul = line.indexOf(NUL);
      const text = this.decoder.decode(nul === -1 ? line : line.subarray(0, nul));
      if (text.length > 0) events.push({ kind: 'line', text });
    }
    this.chunks = [];
    this.bytes = 0;
    this.overlong = false;
  }
}

/** True when a parsed line is within the limits: at most MAX_LINE_BYTES without its tags. */
export function withinLineLimit(text: string): boolean {
  const bodyStart = text.startsWith('@') ? text.indexOf(' ') + 1 : 0;
  if (bodyStart > MAX_TAGS_BYTES) return false;
  return Buffer.byteLength(text) - bodyStart + 2 <= MAX_LINE_BYTES;
}

import { FrameDecoder, type DecodeError } from '../src/protocol/codec';
import { ServerToClientFrame } from '../src/protocol/frames';
import { decodeBenchText, type BenchTextMeta } from './message-text';

/**
 * The load generator's server-link decoder. One process plays every client, so
 * it must take in deliveries at least as fast as the server can fan them out.
 *
 * A `group_msg` fan-out is serialized once and its bytes are identical for every
 * recipient (docs/protocol.md). So the first copy of each line goes through the
 * real validation (JSON.parse + the ServerToClientFrame schema) and is remembered
 * by its `seq`; every later copy is accepted only if it is byte-for-byte equal to
 * that validated line (a memcmp), otherwise it is fully decoded again. Nothing is
 * inferred: each delivery is a complete line read from that client's socket.
 * `strict` mode decodes every line with FrameDecoder, as a real client does.
 */

export interface DeliveryHooks {
  /** A group_msg; `meta` is null when its text is not a bench text. */
  delivery(frame: GroupMsg, meta: BenchTextMeta | null): void;
  /** Any other valid frame, with its size on the wire (0 in strict mode). */
  frame(frame: ServerToClientFrame, bytes: number): void;
  /** A table frame skipped unparsed (skipTables): its size only. */
  tableBytes(bytes: number): void;
  error(error: DecodeError): void;
}

export type GroupMsg = Extract<ServerToClientFrame, { type: 'group_msg' }>;

interface CachedLine {
  seq: number;
  bytes: Buffer;
  frame: GroupMsg;
  meta: BenchTextMeta | null;
}

const RING_SIZE = 1 << 17;
const RING_MASK = RING_SIZE - 1;
const SEQ_NEEDLE = Buffer.from('"seq":');
const TABLE_PREFIX = Buffer.from('{"type":"table"');
const NEWLINE = 0x0a;

/** Validated group_msg lines by seq, shared by every client of the process. */
export class GroupLineCache {
  readonly ring: (CachedLine | undefined)[] = new Array<CachedLine | undefined>(RING_SIZE);
  hits = 0;
  misses = 0;
  /** Length of the bytes before the seq digits in the server's group_msg lines (0: not learned yet). */
  prefixLength = 0;

  /** Clears the cache between scenarios (seqs restart with a new server). */
  reset(): void {
    this.ring.fill(undefined);
    this.prefixLength = 0;
    this.hits = 0;
    this.misses = 0;
  }

  /** Learns where the seq digits start from a validated group_msg line. */
  learnPrefix(line: Buffer): void {
    if (this.prefixLength > 0) return;
    const at = line.indexOf(SEQ_NEEDLE);
    if (at >= 0) this.prefixLength = at + SEQ_NEEDLE.length;
  }
}

export interface DeliveryDecoderOptions {
  maxFrameBytes: number;
  /** Decode every line with FrameDecoder (no shared cache). */
  strict: boolean;
  /** Count table frames' bytes without parsing them (clients that do not need the table). */
  skipTables: boolean;
}

export class DeliveryDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;
  private readonly strictDecoder: FrameDecoder<ServerToClientFrame> | null;

  constructor(
    private readonly cache: GroupLineCache,
    private readonly options: DeliveryDecoderOptions,
    private readonly hooks: DeliveryHooks,
  ) {
    this.strictDecoder = options.strict
      ? new FrameDecoder(ServerToClientFrame, options, {
          frame: (frame) => this.dispatch(frame),
          error: (error) => hooks.error(error),
        })
      : null;
  }

  push(chunk: Buffer): void {
    if (this.strictDecoder) return this.strictDecoder.push(chunk);
    if (this.failed) return;
    let start = 0;
    if (this.pendingBytes > 0) {
      const end = chunk.indexOf(NEWLINE);
      if (end === -1) return this.hold(chunk, 0);
      const line = Buffer.concat([...this.pending, chunk.subarray(0, end + 1)]);
      this.pending = [];
      this.pendingBytes = 0;
      if (this.cachedCopyAt(line, 0) === 0) this.line(line, 0, line.length - 1);
      start = end + 1;
    }
    while (start < chunk.length && !this.failed) {
      const used = this.cachedCopyAt(chunk, start);
      if (used > 0) {
        start += used;
        continue;
      }
      const end = chunk.indexOf(NEWLINE, start);
      if (end === -1) return this.hold(chunk, start);
      this.line(chunk, start, end);
      start = end + 1;
    }
  }

  /** Keeps an unfinished line for the next chunk. */
  private hold(chunk: Buffer, start: number): void {
    this.pending.push(start === 0 ? chunk : chunk.subarray(start));
    this.pendingBytes += chunk.length - start;
    if (this.pendingBytes > this.options.maxFrameBytes + 1) this.fail();
  }

  /**
   * Fast path: if the line at `start` is a copy of a validated group_msg (same
   * bytes, newline right after), deliver it and return the bytes used; else 0.
   * The seq read at the learned prefix length is only a cache key: the whole
   * line is compared, so a wrong guess just falls back to a full decode.
   */
  private cachedCopyAt(data: Buffer, start: number): number {
    const prefixLength = this.cache.prefixLength;
    if (prefixLength === 0) return 0;
    const from = start + prefixLength;
    let seq = 0;
    let i = from;
    for (; i < data.length && i < from + 16; i++) {
      const c = data[i]!;
      if (c < 0x30 || c > 0x39) break;
      seq = seq * 10 + (c - 0x30);
    }
    if (i === from) return 0;
    const cached = this.cache.ring[seq & RING_MASK];
    if (cached === undefined || cached.seq !== seq) return 0;
    const end = start + cached.bytes.length;
    if (end >= data.length || data[end] !== NEWLINE || cached.bytes.compare(data, start, end) !== 0) return 0;
    this.cache.hits++;
    this.hooks.delivery(cached.frame, cached.meta);
    return cached.bytes.length + 1;
  }

  private fail(): void {
    this.failed = true;
    this.pending = [];
    this.hooks.error({ code: 'frame_too_large', message: 'frame too large', fatal: true });
  }

  /** One line `data[start, end)`: cached group_msg copy, skipped table, or a full decode. */
  private line(data: Buffer, start: number, end: number): void {
    if (end - start > this.options.maxFrameBytes) return this.fail();
    if (
      this.options.skipTables &&
      end - start > TABLE_PREFIX.length &&
      TABLE_PREFIX.compare(data, start, start + TABLE_PREFIX.length) === 0
    ) {
      return this.hooks.tableBytes(end - start + 1);
    }
    this.fullDecode(data, start, end);
  }

  private fullDecode(data: Buffer, start: number, end: number): void {
    const text = data.toString('utf8', start, end).replace(/\r$/, '');
    if (text.length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return this.hooks.error({ code: 'invalid_json', message: 'Frame is not valid JSON', fatal: false });
    }
    const result = ServerToClientFrame.safeParse(value);
    if (!result.success) {
      return this.hooks.error({
        code: 'bad_frame',
        message: result.error.issues[0]?.message ?? 'bad frame',
        fatal: false,
      });
    }
    const frame = result.data;
    if (frame.type === 'group_msg') {
      this.cache.misses++;
      const meta = decodeBenchText(frame.text);
      const bytes = Buffer.from(data.subarray(start, end));
      this.cache.ring[frame.seq & RING_MASK] = { seq: frame.seq, bytes, frame, meta };
      this.cache.learnPrefix(bytes);
      return this.hooks.delivery(frame, meta);
    }
    this.hooks.frame(frame, end - start + 1);
  }

  private dispatch(frame: ServerToClientFrame): void {
    if (frame.type === 'group_msg') return this.hooks.delivery(frame, decodeBenchText(frame.text));
    this.hooks.frame(frame, 0);
  }
}

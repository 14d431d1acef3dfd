import type { ZodType } from 'zod';
import type { ErrorCode } from './errors';
import type { ClientToServerFrame, DirectFrame, ServerToClientFrame } from './frames';
import { MAX_ID_LENGTH } from './ids';
import type { MeshFrame } from './mesh-frames';

/**
 * Framing: one JSON object per line (UTF-8, `\n`-terminated; a trailing `\r` is
 * tolerated). Pure: no sockets, no timers. The decoder checks a frame's size
 * before any JSON parse and validates every parsed value against a schema, so
 * nothing unvalidated leaves this module.
 */

const NEWLINE = 0x0a;
/** A line may end in `\r\n` (telnet, netcat -C); the `\r` is not part of the frame. */
const CARRIAGE_RETURN = 0x0d;
/** Longest decode-error message sent back: enough for the path and zod's text, well under the 1,024 the error schema allows. */
const MAX_ERROR_MESSAGE_CHARS = 512;

/** Any frame of any link, in either direction. */
export type WireFrame = ClientToServerFrame | ServerToClientFrame | DirectFrame | MeshFrame;

declare const encodedFrame: unique symbol;

/**
 * The bytes of one encoded frame (one line, newline included). The brand
 * records which frame it holds, so bytes encoded once for a fan-out can only
 * be queued on a connection whose outbound union admits that frame.
 */
export type EncodedFrame<F> = Buffer & { readonly [encodedFrame]: F };

/**
 * Encodes a frame as one line. Callers serialize once and reuse the bytes for
 * fan-out. The frame type `F` comes from where the bytes go (a connection's
 * outbound union) or is given explicitly, never from the object literal, so a
 * misspelt field or a frame of another link is a compile error.
 */
export function encodeFrame<F extends WireFrame = WireFrame>(frame: NoInfer<F>): EncodedFrame<F> {
  return Buffer.from(JSON.stringify(frame) + '\n', 'utf8') as EncodedFrame<F>;
}

/**
 * Marks bytes built by one of protocol/'s typed encoders (`chunk-frames.ts`)
 * as frame `F`. Only for encoders whose output a test decodes with the schema.
 */
export function asEncodedFrame<F extends WireFrame>(bytes: Buffer): EncodedFrame<F> {
  return bytes as EncodedFrame<F>;
}

/** A decode failure. `fatal` ones mean the byte stream can no longer be trusted. */
export interface DecodeError {
  readonly code: Extract<ErrorCode, 'invalid_json' | 'bad_frame' | 'frame_too_large'>;
  readonly message: string;
  readonly fatal: boolean;
  /** The request id, when a schema-invalid frame still carried a string id. */
  readonly id?: string;
}

/** Where the decoder pushes what it finds. */
export interface FrameSink<F> {
  frame(frame: F): void;
  error(error: DecodeError): void;
}

export interface DecoderOptions {
  maxFrameBytes: number;
}

/**
 * Byte-in, frame-out state machine. Push chunks of any size; complete lines are
 * decoded in order. After a fatal error the decoder ignores further input.
 */
export class FrameDecoder<F> {
  /** Chunks of an unfinished frame, joined only once its newline arrives (no O(n²) copying). */
  private pendingChunks: Buffer[] = [];
  private pendingBytes = 0;
  private failed = false;

  constructor(
    private readonly schema: ZodType<F>,
    private readonly options: DecoderOptions,
    private readonly sink: FrameSink<F>,
  ) {}

  /** True while a frame has begun but its newline has not arrived. */
  get hasPartialFrame(): boolean {
    return this.pendingBytes > 0;
  }

  /** Bytes held for an unfinished frame. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    if (this.failed || chunk.length === 0) return;
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    if (end !== -1 && this.pendingBytes > 0) {
      if (this.pendingBytes + end > this.options.maxFrameBytes + 1) return this.fail(this.pendingBytes + end);
      const line = Buffer.concat([...this.pendingChunks, chunk.subarray(0, end)]);
      this.pendingChunks = [];
      this.pendingBytes = 0;
      this.decodeLine(line, 0, line.length);
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    while (end !== -1 && !this.failed) {
      this.decodeLine(chunk, start, end);
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    if (this.failed || start >= chunk.length) return;
    this.pendingChunks.push(start === 0 ? chunk : chunk.subarray(start));
    this.pendingBytes += chunk.length - start;
    if (this.pendingBytes > this.options.maxFrameBytes + 1) this.fail(this.pendingBytes);
  }

  private fail(size: number): void {
    this.failed = true;
    this.pendingChunks = [];
    this.pendingBytes = 0;
    this.sink.error({
      code: 'frame_too_large',
      message: `Frame of ${size}+ bytes exceeds the limit of ${this.options.maxFrameBytes} bytes`,
      fatal: true,
    });
  }

  private decodeLine(data: Buffer, start: number, end: number): void {
    let stop = end;
    if (stop > start && data[stop - 1] === CARRIAGE_RETURN) stop -= 1;
    if (stop - start > this.options.maxFrameBytes) return this.fail(stop - start);
    if (stop === start) return; // empty line: ignored (keepalive-safe)
    const text = data.toString('utf8', start, stop);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.sink.error({ code: 'invalid_json', message: 'Frame is not valid JSON', fatal: false });
      return;
    }
    const result = this.schema.safeParse(value);
    if (result.success) {
      this.sink.frame(result.data);
      return;
    }
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    this.sink.error({
      code: 'bad_frame',
      message: `Invalid frame${where}: ${issue?.message ?? 'schema mismatch'}`.slice(0, MAX_ERROR_MESSAGE_CHARS),
      fatal: false,
      ...idOf(value),
    });
  }
}

/** Extracts a plausible request id from an invalid frame so the error can be correlated. */
function idOf(value: unknown): { id?: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  const id = Object.prototype.hasOwnProperty.call(value, 'id') ? (value as { id: unknown }).id : undefined;
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH ? { id } : {};
}

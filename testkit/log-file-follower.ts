import fs from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Bytes read from the log file per read call. */
const READ_CHUNK_BYTES = 64 * 1024;

/**
 * Reads what a child process appends to its log file: on demand
 * (`readNew`), and on every file-change event (inotify on Linux) while
 * `follow(true)`. Nothing is read while nobody waits, so a benchmarked server
 * that logs a line per message costs its observer nothing.
 */
export class LogFileFollower {
  private offset = 0;
  private readonly decoder = new StringDecoder('utf8');
  private watcher: fs.FSWatcher | null = null;
  private fd: number | null;

  /**
   * @param file the log file (it must exist)
   * @param onText receives each decoded piece of appended text, in order
   */
  constructor(
    private readonly file: string,
    private readonly onText: (text: string) => void,
  ) {
    this.fd = fs.openSync(file, 'r');
  }

  /** Reads everything appended since the last read and hands it to `onText`. */
  readNew(): void {
    if (this.fd === null) return;
    const buffer = Buffer.alloc(READ_CHUNK_BYTES);
    for (;;) {
      const n = fs.readSync(this.fd, buffer, 0, buffer.length, this.offset);
      if (n === 0) break;
      this.offset += n;
      const text = this.decoder.write(buffer.subarray(0, n));
      if (text !== '') this.onText(text);
    }
  }

  /** Starts (or stops) reading on every change event of the file. */
  follow(on: boolean): void {
    if (on && this.watcher === null && this.fd !== null) {
      this.watcher = fs.watch(this.file, () => this.readNew());
      this.watcher.on('error', () => this.follow(false));
    } else if (!on && this.watcher !== null) {
      this.watcher.close();
      this.watcher = null;
    }
  }

  /** Reads the rest of the file and releases it. */
  close(): void {
    this.readNew();
    this.follow(false);
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

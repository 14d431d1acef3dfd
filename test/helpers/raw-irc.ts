import net from 'node:net';
import { Waiters } from '../../testkit/waiters';

/** A line matcher: exact text or a pattern. */
export type IrcMatcher = string | RegExp;

const matches = (line: string, m: IrcMatcher): boolean => (typeof m === 'string' ? line === m : m.test(line));

/**
 * A raw IRC connection for tests: writes whatever bytes it is given and
 * records every line the server sends. Waits are event driven (a line
 * arrived, the socket closed), with a safety-net deadline only.
 */
export class RawIrc {
  readonly lines: string[] = [];
  private buffered = '';
  private ended = false;
  private readonly waiters = new Waiters(() => `last lines:\n${this.lines.slice(-15).join('\n')}`);
  private readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.buffered += text;
      const parts = this.buffered.split('\r\n');
      this.buffered = parts.pop() ?? '';
      this.lines.push(...parts);
      this.waiters.notify();
    });
    socket.on('error', () => undefined);
    this.closedPromise = new Promise((resolve) =>
      socket.on('close', () => {
        this.ended = true;
        this.waiters.notify();
        resolve();
      }),
    );
  }

  static connect(port: number): Promise<RawIrc> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawIrc(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects and registers as `nick` without CAP; resolves after the end of the MOTD. */
  static async registered(port: number, nick: string, pass?: string): Promise<RawIrc> {
    const irc = await RawIrc.connect(port);
    irc.send(`${pass === undefined ? '' : `PASS ${pass}\r\n`}NICK ${nick}\r\nUSER ${nick} 0 * :${nick}`);
    await irc.waitFor(/^:\S+ 376 /);
    return irc;
  }

  get closed(): boolean {
    return this.ended;
  }

  /** Index of the next line to arrive (for `from`). */
  mark(): number {
    return this.lines.length;
  }

  /** Sends `text` followed by CR LF. */
  send(text: string): void {
    this.socket.write(`${text}\r\n`);
  }

  /** Sends raw bytes. */
  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Resolves with the first line from `from` on that matches. */
  waitFor(matcher: IrcMatcher, options: { from?: number; timeoutMs?: number } = {}): Promise<string> {
    const from = options.from ?? 0;
    return this.waiters.wait({
      what: `an IRC line ${String(matcher)}`,
      timeoutMs: options.timeoutMs,
      probe: () => {
        const line = this.lines.slice(from).find((l) => matches(l, matcher));
        return line === undefined ? null : { value: line };
      },
      hopeless: () => (this.ended ? 'the connection closed' : null),
    });
  }

  /** Resolves with the lines from `from` on that match, once there are at least `count` of them. */
  waitForCount(
    matcher: IrcMatcher,
    count: number,
    options: { from?: number; timeoutMs?: number } = {},
  ): Promise<string[]> {
    const found: string[] = [];
    let scanned = options.from ?? 0; // each line is matched once, however often the probe runs
    return this.waiters.wait({
      what: `${count} IRC lines ${String(matcher)}`,
      timeoutMs: options.timeoutMs,
      probe: () => {
        for (; scanned < this.lines.length; scanned++)
          if (matches(this.lines[scanned]!, matcher)) found.push(this.lines[scanned]!);
        return found.length >= count ? { value: found } : null;
      },
      hopeless: () => (this.ended ? 'the connection closed' : null),
    });
  }

  /** Resolves once the server closed the connection. */
  waitClosed(timeoutMs?: number): Promise<void> {
    return this.waiters.wait({
      what: 'the connection to close',
      timeoutMs,
      probe: () => (this.ended ? { value: undefined } : null),
    });
  }

  /** Closes and waits for the close. */
  async close(): Promise<void> {
    this.socket.destroy();
    await this.closedPromise;
  }
}

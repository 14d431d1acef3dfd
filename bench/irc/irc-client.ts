import net from 'node:net';
import { SendLog } from '../loss';
import { clientName, decodeBenchTextAt, encodeBenchText, nowMs } from '../message-text';
import { LatencyHistogram, ReceiverLedger } from '../stats';

/**
 * A lean IRC client for the comparison runs: registers (NICK/USER, waits for
 * 001), joins #bench (waits for 366), answers PING, sends PRIVMSGs carrying
 * the same bench text as chatapp's runs, and counts the PRIVMSGs it reads
 * exactly as the chatapp bench counts group_msg: per (receiver, sender)
 * ledger, `from` checked against the text, latency to display-ready (after
 * the read batch is parsed) on the one load-generator clock. IRC has no acks
 * and no reply to PRIVMSG; see IrcRun for how fan-out senders are windowed.
 */

export const CHANNEL = '#bench';
const PRIVMSG = ` PRIVMSG ${CHANNEL} :`;
const REGISTER_TIMEOUT_MS = 60_000;

/** State shared by every IRC client of one run. */
export class IrcRun {
  readonly latency = new LatencyHistogram();
  readonly clients: IrcClient[] = [];
  deliveries = 0;
  fromMismatches = 0;
  lastDeliveryAt = 0;
  closes = 0;
  /** KICKs from #bench the members got (chatapp removes a member it gave up on with one). */
  kicks = 0;
  /** Send times of the deliveries in the read batch being parsed. */
  readonly batch: number[] = [];

  /**
   * Fan-out flow control: IRC answers nothing, so sender s may have at most
   * `window` messages that its neighbour, member s+1, has not received yet.
   */
  neighbourGot(sender: number, n: number): void {
    this.clients[sender]?.neighbourGot(n);
  }
}

export class IrcClient {
  readonly ledger = new ReceiverLedger();
  readonly sends = new SendLog();
  closed = false;
  lastSendAt = 0;
  private buffered = '';
  private waiting: { token: string; resolve: () => void } | null = null;
  private receivedSeq = 0;
  private sendTotal = 0;
  private window = 0;
  private textSize = 16;
  private neighbourCount = 0;
  onSendDone: (() => void) | null = null;

  private constructor(
    readonly index: number,
    private readonly socket: net.Socket,
    private readonly run: IrcRun,
    private readonly previous: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.closed = true;
      run.closes++;
    });
  }

  /** Connects client `index` of `members` and registers it as `b<index>`. */
  static async connect(port: number, index: number, members: number, run: IrcRun): Promise<IrcClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    const client = new IrcClient(index, socket, run, (index - 1 + members) % members);
    run.clients[index] = client;
    const name = clientName(index);
    await client.command(`NICK ${name}\r\nUSER ${name} 0 * :bench\r\n`, ' 001 ');
    return client;
  }

  join(): Promise<void> {
    return this.command(`JOIN ${CHANNEL}\r\n`, ' 366 ');
  }

  /** Fan-out: sends `total` messages, at most `window` ahead of what the neighbour received (0: all at once). */
  startSending(total: number, window: number, textSize: number): void {
    this.sendTotal = total;
    this.window = window === 0 ? Infinity : window;
    this.textSize = textSize;
    this.topUp();
    if (total === 0) this.onSendDone?.();
  }

  /** Paced: sends the next message now, stamped with its due time. */
  sendAt(dueAt: number, textSize: number): void {
    if (this.closed) return;
    const n = this.sends.sent;
    this.write(n, dueAt, textSize);
  }

  neighbourGot(n: number): void {
    if (n + 1 > this.neighbourCount) this.neighbourCount = n + 1;
    this.topUp();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private topUp(): void {
    let wrote = false;
    while (!this.closed && this.sends.sent < this.sendTotal && this.sends.sent - this.neighbourCount < this.window) {
      this.write(this.sends.sent, nowMs(), this.textSize);
      wrote = true;
    }
    if (wrote && this.sends.sent === this.sendTotal) this.onSendDone?.();
  }

  private write(n: number, stampMs: number, textSize: number): void {
    this.sends.noteSent(n);
    this.sends.noteAccepted(n); // IRC answers nothing: every message written is owed to every member
    this.socket.write(`PRIVMSG ${CHANNEL} :${encodeBenchText(this.index, n, textSize, stampMs)}\r\n`);
    this.lastSendAt = nowMs();
  }

  private command(text: string, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no${token}for ${clientName(this.index)}`)), REGISTER_TIMEOUT_MS);
      this.waiting = {
        token,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.socket.write(text);
    });
  }

  private onData(chunk: Buffer): void {
    const text = this.buffered + chunk.toString('latin1');
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      this.line(text, start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
      start = end + 1;
    }
    this.buffered = text.slice(start);
    const batch = this.run.batch;
    if (batch.length > 0) {
      const readyAt = nowMs();
      this.run.lastDeliveryAt = readyAt;
      for (const sentAt of batch) this.run.latency.record(readyAt - sentAt);
      batch.length = 0;
    }
  }

  private line(text: string, start: number, end: number): void {
    const at = text.indexOf(PRIVMSG, start);
    if (at !== -1 && at < end) return this.delivery(text, start, at, end);
    const kick = text.indexOf(` KICK ${CHANNEL} `, start);
    if (kick !== -1 && kick < end) this.run.kicks++;
    if (text.startsWith('PING', start)) {
      this.socket.write(`PONG${text.slice(start + 4, end)}\r\n`);
      return;
    }
    if (this.waiting !== null && text.slice(start, end).includes(this.waiting.token)) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting.resolve();
    }
  }

  private delivery(text: string, start: number, at: number, _end: number): void {
    const meta = decodeBenchTextAt(text, at + PRIVMSG.length);
    if (meta === null) return;
    this.run.deliveries++;
    // `:<nick>!user@host PRIVMSG …`: the nick must be the sender written in the text.
    const nick = clientName(meta.sender);
    if (!text.startsWith(nick, start + 1) || text.charCodeAt(start + 1 + nick.length) !== 0x21)
      this.run.fromMismatches++;
    this.ledger.record(meta.sender, meta.n, this.receivedSeq++);
    this.run.batch.push(meta.sentAtMs);
    if (meta.sender === this.previous) this.run.neighbourGot(meta.sender, meta.n);
  }
}

import type { Duplex } from 'node:stream';
import { IrcLineReader, withinLineLimit } from '../../protocol/irc/line-reader';
import { ircMessage, parseMessage, serializeMessage, type IrcMessage } from '../../protocol/irc/message';
import { ERR } from '../../protocol/irc/numerics';
import { channelOf } from '../../protocol/irc/casemap';
import type { Limits } from '../../protocol/limits';
import type { ServerToClientFrame } from '../../protocol/frames';
import { ERROR_CODES } from '../../protocol/errors';
import type { Clock, TimerHandle } from '../../util/clock';
import { CoreLink } from './core-link';
import { IrcState } from './irc-state';
import { COMMANDS } from './commands';

/** What every session of one gateway shares. */
export interface GatewayConfig {
  /** The server name IRC clients see as the source of numerics. */
  readonly serverName: string;
  /** Hands the core one end of a session's link (`ChatServer.handleConnection`). */
  readonly connect: (stream: Duplex) => void;
  readonly limits: Limits;
  readonly clock: Clock;
  /** ms of silence after which the gateway PINGs a client; twice that without an answer closes it. */
  readonly pingMs: number;
  /** When the gateway started (RPL_CREATED). */
  readonly createdAt: number;
}

/** How long a closing socket may take to flush its last lines. */
const CLOSE_GRACE_MS = 2_000;

/** Unprocessed lines a session holds before it stops reading its socket (backpressure, not loss). */
const MAX_QUEUED_LINES = 64;

/**
 * One IRC connection (docs/irc.md): reads lines, runs each command in order
 * against the core through its CoreLink, and writes IRC lines back. The
 * commands live in dispatch tables (commands.ts); this class owns the
 * socket, the queue and the core's pushes.
 */
export class IrcSession {
  readonly state: IrcState;
  readonly link: CoreLink;
  private readonly reader = new IrcLineReader();
  private readonly queue: IrcMessage[] = [];
  private running = false;
  private closed = false;
  private lastHeard: number;
  private readonly pingTimer: TimerHandle;
  /** Lines of this event-loop turn, written at its end in one write (docs/irc.md "Acks"). */
  private outLines: string[] = [];
  private outCallbacks: (() => void)[] = [];
  /** Highest seq per group in the lines of this turn, acked once they are written. */
  private toAck = new Map<string, number>();

  constructor(
    readonly socket: Duplex,
    readonly config: GatewayConfig,
    readonly host: string,
    private readonly onGone: (session: IrcSession) => void,
  ) {
    this.state = new IrcState(config.clock);
    this.lastHeard = config.clock.now();
    this.link = new CoreLink(config.connect, config.limits, config.clock);
    this.link.on('push', (frame) => this.onPush(frame));
    this.link.on('closed', () => this.close());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => void this.quit(null));
    socket.on('end', () => socket.end());
    this.pingTimer = config.clock.setInterval(() => this.checkAlive(), config.pingMs);
  }

  /** The nick for numerics: `*` until one is given. */
  get nick(): string {
    return this.state.nick ?? '*';
  }

  /** `nick!user@host`, the source of this user's own lines. */
  get mask(): string {
    return `${this.nick}!${this.state.user ?? this.nick}@${this.host}`;
  }

  /** Bytes waiting in the socket: past the bound the session stops acking (core.ts slow-reader rule). */
  get backlogBytes(): number {
    return this.socket.writableLength;
  }

  /** Writes one message; `written` runs once the socket took it (the ack point of a group message). */
  send(message: IrcMessage, written?: () => void): void {
    if (this.closed || this.socket.destroyed) return;
    if (this.outLines.push(serializeMessage(message)) === 1) process.nextTick(() => this.flush());
    if (written !== undefined) this.outCallbacks.push(written);
  }

  /** One socket write per turn; its callbacks (acks) run once the socket took it. */
  private flush(): void {
    const text = this.outLines.join('\r\n') + '\r\n';
    const callbacks = this.outCallbacks;
    const acks = this.toAck;
    this.outLines = [];
    this.outCallbacks = [];
    this.toAck = new Map();
    if (this.socket.destroyed) return;
    if (acks.size > 0) callbacks.push(() => this.ack(acks));
    this.socket.write(text, callbacks.length === 0 ? undefined : () => callbacks.forEach((done) => done()));
  }

  /** Past the bound the session stops acking, so the core treats it as the slow reader it is. */
  private ack(acks: ReadonlyMap<string, number>): void {
    if (this.backlogBytes > this.config.limits.maxOutboundBytes) return;
    for (const [group, seq] of acks) this.link.notify({ type: 'group_ack', group, seq });
  }

  /** A numeric reply from the server to this user: `:server <num> <nick> params...`. */
  numeric(code: string, ...params: string[]): void {
    this.send(ircMessage(this.config.serverName, code, [this.nick, ...params]));
  }

  /** A line from the server itself (NOTICE, PONG, KICK ...). */
  fromServer(command: string, ...params: string[]): void {
    this.send(ircMessage(this.config.serverName, command, params));
  }

  /** Ends the session: ERROR line, guest account forgotten, core link and socket closed. */
  async quit(reason: string | null): Promise<void> {
    if (this.closed) return;
    if (reason !== null) this.send(ircMessage(null, 'ERROR', [`Closing Link: ${this.host} (${reason})`]));
    this.closed = true;
    this.config.clock.clearInterval(this.pingTimer);
    this.queue.length = 0;
    // docs/irc.md "Accounts": a guest's name is bound only while it is online.
    if (this.state.guest && this.state.registeredName !== null)
      await this.link.request({ type: 'delete_account', name: this.state.registeredName });
    await this.link.close();
    this.socket.end();
    this.config.clock.setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS); // a peer that never reads

    this.onGone(this);
  }

  private close(): void {
    void this.quit('Connection closed by the server');
  }

  private onData(chunk: Buffer): void {
    this.lastHeard = this.config.clock.now();
    for (const event of this.reader.push(chunk)) {
      if (event.kind === 'too_long') {
        this.numeric(ERR.INPUTTOOLONG, 'Input line was too long');
        continue;
      }
      if (!withinLineLimit(event.text)) {
        this.numeric(ERR.INPUTTOOLONG, 'Input line was too long');
        continue;
      }
      const message = parseMessage(event.text);
      if (message !== null) this.queue.push(message);
    }
    if (this.queue.length >= MAX_QUEUED_LINES) this.socket.pause();
    void this.run();
  }

  /** Runs queued commands one at a time, in order (a JOIN completes before the PRIVMSG after it). */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next !== undefined && !this.closed; next = this.queue.shift()) {
        await this.dispatch(next);
        if (this.queue.length < MAX_QUEUED_LINES / 2 && this.socket.isPaused()) this.socket.resume();
      }
    } finally {
      this.running = false;
    }
  }

  private async dispatch(message: IrcMessage): Promise<void> {
    const command = COMMANDS.get(message.command);
    if (command === undefined) {
      if (this.state.welcomed) this.numeric(ERR.UNKNOWNCOMMAND, message.command, 'Unknown command');
      else this.numeric(ERR.NOTREGISTERED, 'You have not registered');
      return;
    }
    if (command.registered && !this.state.welcomed) return this.numeric(ERR.NOTREGISTERED, 'You have not registered');
    if (message.params.length < command.minParams) {
      return this.numeric(ERR.NEEDMOREPARAMS, message.command, 'Not enough parameters');
    }
    await command.run(this, message);
  }

  /** What the core pushes: group messages, presence, removals, saved messages, fatal errors. */
  private onPush(frame: ServerToClientFrame): void {
    switch (frame.type) {
      case 'group_msg':
        return this.deliverGroupMessage(frame.group, frame.seq, frame.from, frame.text);
      case 'presence':
        return this.send(
          ircMessage(`${frame.name}!${frame.name}@chatapp`, frame.state === 'joined' ? 'JOIN' : 'PART', [
            channelOf(frame.group),
          ]),
        );
      case 'removed':
        return this.kicked(frame.group, 'Not responsive: removed from the group');
      case 'group_deleted':
        return this.kicked(frame.group, 'The group was deleted');
      case 'saved':
        // Sealed for a key an IRC session does not have (nobody can seal for it: it publishes none).
        return this.link.notify({ type: 'saved_ack', id: frame.message.id });
      case 'relayed_dm': {
        const { body } = frame;
        if (!('text' in body)) return this.link.notify({ type: 'relayed_ack', id: frame.id, code: 'undecryptable' });
        return this.send(this.state.taggedFrom(frame.from, 'PRIVMSG', [this.nick, body.text], frame.ts), () =>
          this.link.notify({ type: 'relayed_ack', id: frame.id }),
        );
      }
      case 'error':
        if (frame.id === undefined) void this.quit(ERROR_CODES[frame.code]);
        return;
      default:
        return; // tables, receipts: an IRC client has no use for them
    }
  }

  /** docs/irc.md "Acks": acked once the socket took the line, unless the socket's backlog is past the bound. */
  private deliverGroupMessage(group: string, seq: number, from: string, text: string): void {
    const lines = this.state.splitText(`${from}!${from}@chatapp`, 'PRIVMSG', channelOf(group), text, seq);
    for (const line of lines) this.send(line);
    this.toAck.set(group, seq); // acks are cumulative: one per written batch, for its highest seq
    if (this.backlogBytes > 4 * this.config.limits.maxOutboundBytes) this.socket.destroy(); // slow reader
  }

  private kicked(group: string, reason: string): void {
    if (this.state.channel !== null && this.state.channel.toLowerCase() === group.toLowerCase())
      this.state.channel = null;
    this.send(ircMessage(this.config.serverName, 'KICK', [channelOf(group), this.nick, reason]));
  }

  /** PING after pingMs of silence; close after twice that. */
  private checkAlive(): void {
    const silent = this.config.clock.now() - this.lastHeard;
    if (silent >= 2 * this.config.pingMs) return void this.quit('Ping timeout');
    if (silent >= this.config.pingMs) this.send(ircMessage(null, 'PING', [this.config.serverName]));
  }
}

import type { Duplex } from 'node:stream';
import type { SessionLink } from '../../net/session-link';
import { IrcLineReader, withinLineLimit } from '../../protocol/irc/line-reader';
import { ircMessage, parseMessage, serializeMessage, type IrcMessage } from '../../protocol/irc/message';
import { ERR } from '../../protocol/irc/numerics';
import { channelOf } from '../../protocol/irc/casemap';
import type { Limits } from '../../protocol/limits';
import type { FrameOf, ServerToClientFrame } from '../../protocol/frames';
import { ERROR_CODES, type ErrorCode } from '../../protocol/errors';
import type { Clock, TimerHandle } from '../../util/clock';
import { CoreLink } from './core-link';
import { IrcState } from './irc-state';
import { COMMANDS } from './commands';
import { groupMessageLines } from './shared-lines';

/** What every session of one gateway shares. */
export interface GatewayConfig {
  /** The server name IRC clients see as the source of numerics. */
  readonly serverName: string;
  /** Hands the core one end of a session's link (`ChatServer.handleLink`). */
  readonly connect: (link: SessionLink) => void;
  readonly limits: Limits;
  readonly clock: Clock;
  /** ms of silence after which the gateway PINGs a client; twice that without an answer closes it. */
  readonly pingMs: number;
  /** When the gateway started (RPL_CREATED). */
  readonly createdAt: number;
  /** Every session of this gateway (a NICK change is told to those sharing a channel). */
  readonly sessions: ReadonlySet<IrcSession>;
}

/** How long a closing socket may take to flush its last lines. */
const CLOSE_GRACE_MS = 2_000;

/** Unprocessed lines a session holds before it stops reading its socket (backpressure, not loss). */
const MAX_QUEUED_LINES = 64;

/**
 * Requests a session may have in the core at once: past it the session
 * waits for replies before running the next command, so a client that
 * blasts PRIVMSGs is read as fast as its messages are fanned out (its
 * socket is paused once MAX_QUEUED_LINES wait), never dropped.
 */
const MAX_IN_FLIGHT = 32;

/**
 * One IRC connection (docs/irc.md): reads lines, runs each command in order
 * against the core through its CoreLink, and writes IRC lines back. The
 * commands live in dispatch tables (commands.ts); this class owns the
 * socket, the queue and the core's pushes.
 */
export class IrcSession {
  readonly state: IrcState;
  private current: CoreLink;
  /** Links the core closed (a link that closes before it becomes current ends the session when it does). */
  private readonly closedLinks = new WeakMap<CoreLink, ErrorCode | undefined>();
  /** Links not closed yet (two during a NICK change): each sees this session's send queue. */
  private readonly live = new Set<CoreLink>();
  private readonly reader = new IrcLineReader();
  private readonly queue: IrcMessage[] = [];
  private running = false;
  private closed = false;
  private lastHeard: number;
  private readonly pingTimer: TimerHandle;
  /** Lines of this event-loop turn, written at its end in one write (docs/irc.md "Acks"). */
  private outLines: Buffer[] = [];
  /** Bytes in `outLines`, counted in the send queue the core's slow-reader rules see. */
  private outBytes = 0;
  private outCallbacks: (() => void)[] = [];
  /** Highest seq per group in the lines of this turn, by the link that delivered them, acked once written. */
  private toAck = new Map<CoreLink, Map<string, number>>();

  constructor(
    readonly socket: Duplex,
    readonly config: GatewayConfig,
    readonly host: string,
    private readonly onGone: (session: IrcSession) => void,
  ) {
    this.state = new IrcState(config.clock);
    this.lastHeard = config.clock.now();
    this.current = this.newLink();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => void this.quit(null));
    socket.on('end', () => socket.end());
    socket.on('drain', () => this.live.forEach((link) => link.drained()));
    this.pingTimer = config.clock.setInterval(() => this.checkAlive(), config.pingMs);
  }

  /** The session's connection to the core (a NICK change replaces it: docs/irc.md "Nick changes"). */
  get link(): CoreLink {
    return this.current;
  }

  /** A new connection to the core whose pushes this session handles; its close ends the session once current. */
  newLink(): CoreLink {
    const link = new CoreLink(this.config.connect, this.config.limits, this.config.clock, () => this.backlogBytes);
    this.live.add(link);
    link.on('push', (frame) => this.onPush(frame, link));
    link.onGroupMessage = (frame) => this.deliverGroupMessage(link, frame);
    link.on('closed', (code) => {
      this.live.delete(link);
      this.closedLinks.set(link, code);
      if (link === this.current) this.close(code);
    });
    return link;
  }

  /** Makes `next` the session's core link; returns the previous one (its pushes are still handled). */
  replaceLink(next: CoreLink): CoreLink {
    const previous = this.current;
    this.current = next;
    if (this.closedLinks.has(next)) this.close(this.closedLinks.get(next)); // it closed while it was not current yet
    return previous;
  }

  /** True once the session ended (QUIT, a closed socket, the core's close). */
  get ended(): boolean {
    return this.closed;
  }

  /** The nick for numerics: `*` until one is given. */
  get nick(): string {
    return this.state.nick ?? '*';
  }

  /** `nick!user@host`, the source of this user's own lines. */
  get mask(): string {
    return `${this.nick}!${this.state.user ?? this.nick}@${this.host}`;
  }

  /** This connection's send queue: lines of this turn plus bytes the socket has not written yet. */
  get backlogBytes(): number {
    return this.outBytes + this.socket.writableLength;
  }

  /** Writes one message; `written` runs once the socket took it (the ack point of a group message). */
  send(message: IrcMessage, written?: () => void): void {
    if (this.closed || this.socket.destroyed) return;
    this.sendLines(Buffer.from(`${serializeMessage(message)}\r\n`, 'utf8'));
    if (written !== undefined) this.outCallbacks.push(written);
  }

  /** Queues serialized lines (each ending in CR LF) for this turn's write. */
  private sendLines(lines: Buffer): void {
    this.outBytes += lines.length;
    if (this.outLines.push(lines) === 1) process.nextTick(() => this.flush());
  }

  /**
   * One socket write per turn. A group message is acked as soon as its line
   * is in the connection's send queue (docs/irc.md "Acks and slow
   * readers"), as an IRC server counts a line sent once queued: the core's
   * slow-reader rules then watch that queue, not the ack's timing.
   */
  private flush(): void {
    if (this.outLines.length === 0) return; // flushed early by quit()
    // One copy into one buffer: cheaper than a write per line, or a string joined and encoded per member.
    const bytes = this.outLines.length === 1 ? this.outLines[0]! : Buffer.concat(this.outLines, this.outBytes);
    const callbacks = this.outCallbacks;
    const acks = this.toAck;
    this.outLines = [];
    this.outBytes = 0;
    this.outCallbacks = [];
    this.toAck = new Map();
    if (this.socket.destroyed) return;
    this.socket.write(bytes, callbacks.length === 0 ? undefined : () => callbacks.forEach((done) => done()));
    // Each ack goes back on the link that delivered the message (two links deliver during a NICK change).
    for (const [link, groups] of acks)
      for (const [group, seq] of groups) link.notify({ type: 'group_ack', group, seq });
    for (const link of this.live) link.wrote();
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
    this.link.close();
    this.flush(); // the ERROR line goes before the end
    this.socket.end();
    this.config.clock.setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS); // a peer that never reads

    this.onGone(this);
  }

  /** The core closed the link: a slow reader is cut off at once, as an IRC server drops a full sendq. */
  private close(code: ErrorCode | undefined): void {
    if (code !== 'slow_consumer') return void this.quit('Connection closed by the server');
    void this.quit('SendQ exceeded');
    this.socket.destroy();
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
        while (this.link.inFlight >= MAX_IN_FLIGHT && !this.closed) await this.link.room(MAX_IN_FLIGHT);
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
  private onPush(frame: ServerToClientFrame, link: CoreLink): void {
    switch (frame.type) {
      case 'group_msg':
        return this.deliverGroupMessage(link, frame);
      case 'presence':
        if (this.state.renames.consume(frame.state, frame.name, frame.group)) return; // shown as NICK
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
        return link.notify({ type: 'saved_ack', id: frame.message.id });
      case 'relayed_dm': {
        const { body } = frame;
        if (!('text' in body)) return link.notify({ type: 'relayed_ack', id: frame.id, code: 'undecryptable' });
        return this.send(this.state.taggedFrom(frame.from, 'PRIVMSG', [this.nick, body.text], frame.ts), () =>
          link.notify({ type: 'relayed_ack', id: frame.id }),
        );
      }
      case 'error':
        if (frame.id === undefined) void this.quit(ERROR_CODES[frame.code]);
        return;
      default:
        return; // tables, receipts: an IRC client has no use for them
    }
  }

  /** docs/irc.md "Acks": acked on the link that delivered it once the line is in the socket's send queue. */
  private deliverGroupMessage(link: CoreLink, frame: FrameOf<ServerToClientFrame, 'group_msg'>): void {
    if (this.closed || this.socket.destroyed) return;
    const { group, seq } = frame;
    // During a NICK change the old and the new link both deliver for a moment: each message is shown once,
    // and a copy already queued to the socket is acked at once on the link that sent it again.
    if (!this.state.firstDelivery(group, seq)) return link.notify({ type: 'group_ack', group, seq });
    this.sendLines(groupMessageLines(this.state, frame)); // formatted once for all members
    let acks = this.toAck.get(link);
    if (acks === undefined) this.toAck.set(link, (acks = new Map<string, number>()));
    acks.set(group, seq); // acks are cumulative: one per written batch, for its highest seq
  }

  private kicked(group: string, reason: string): void {
    this.state.exit(group);
    this.send(ircMessage(this.config.serverName, 'KICK', [channelOf(group), this.nick, reason]));
  }

  /** PING after pingMs of silence; close after twice that. */
  private checkAlive(): void {
    const silent = this.config.clock.now() - this.lastHeard;
    if (silent >= 2 * this.config.pingMs) return void this.quit('Ping timeout');
    if (silent >= this.config.pingMs) this.send(ircMessage(null, 'PING', [this.config.serverName]));
  }
}

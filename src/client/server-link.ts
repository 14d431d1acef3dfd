import net from 'node:net';
import type { Duplex } from 'node:stream';
import { FramedConnection } from '../net/framed-connection';
import { PendingAcks } from '../net/pending-acks';
import {
  assertNever,
  type ClientToServerFrame,
  type FrameOf,
  type ServerRequest,
  type ServerToClientFrame,
} from '../protocol/frames';
import { CLIENT_SIDE } from '../protocol/link-frames';
import type { Limits } from '../protocol/limits';
import type { Clock, TimerHandle } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import { connectionLimits } from './connection-limits';

/** How far a server connection has come; a request is sent only once the link reaches its level. */
export const LinkLevel = { none: 0, connected: 1, registered: 2, ready: 3 } as const;
export type LinkLevel = (typeof LinkLevel)[keyof typeof LinkLevel];

/**
 * The server's answer to one request; or none after every try on a
 * connection believed open (`not_responding`); or none because the link is
 * being re-established (`not_connected`, docs/usage.md "When the server is
 * away").
 */
export type RequestOutcome =
  | FrameOf<ServerToClientFrame, 'reply'>
  | FrameOf<ServerToClientFrame, 'error'>
  | { readonly type: 'not_responding' }
  | { readonly type: 'not_connected' };

const NOT_CONNECTED = { type: 'not_connected' } as const;

/** Events of the link; ChatClient turns them into its own. */
export type ServerLinkEvents = {
  /** A pushed frame (table, group_msg, removed, presence, saved, receipt, group_deleted, or an error without id). */
  frame: [frame: Exclude<ServerToClientFrame, { type: 'reply' | 'list_part' | 'hello' | 'ping' | 'pong' }>];
  /** A new connection is open (not yet registered). */
  connected: [];
  /** The open connection ended. */
  lost: [];
  fault: [error: Error];
};

/** Opens a byte stream to the server; injectable so tests can use in-memory pairs. */
export type Dialer = () => Duplex;

/** Where the server is, and the limits and clock to use. */
export interface ServerLinkOptions {
  readonly host: string;
  readonly port: number;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly dial?: Dialer;
}

/** The client's end of a server connection. */
type ServerConnection = FramedConnection<ServerToClientFrame, ClientToServerFrame>;

/**
 * A request, or how to build it from the connection's `hello` challenge
 * (`register` signs it: each new connection gets the request built anew,
 * with the same id).
 */
export type RequestFrame =
  ServerRequest | { readonly id: string; readonly build: (challenge: string) => ServerRequest };

interface InFlight {
  readonly frame: RequestFrame;
  readonly level: LinkLevel;
  sentOn: ServerConnection | null;
}

const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 2_000;

/**
 * The client's link to the server (docs/usage.md "Client"): one framed connection at a time,
 * requests with ack timeout and retries under one id, background reconnect
 * with exponential backoff once `autoReconnect` is on. It never registers by
 * itself: the owner does that on `connected` and then raises the level.
 */
export class ServerLink extends TypedEmitter<ServerLinkEvents> {
  private conn: ServerConnection | null = null;
  private isOpen = false;
  /** The socket connected (the link is open once `hello` came too). */
  private socketOpen = false;
  private linkLevel: LinkLevel = LinkLevel.none;
  private readonly pending: PendingAcks<RequestOutcome>;
  private readonly inFlight = new Map<string, InFlight>();
  /** Items of `list_part` frames per request id on the current connection, until its reply arrives. */
  private readonly listParts = new Map<string, string[]>();
  /** The challenge the current connection's `hello` carried (docs/protocol.md `hello`). */
  private challenge: string | null = null;
  private reconnectTimer: TimerHandle | null = null;
  private backoffMs = BACKOFF_BASE_MS;
  private closed = false;
  /** After the first successful registration a lost link is re-dialled in the background. */
  autoReconnect = false;

  constructor(private readonly options: ServerLinkOptions) {
    super();
    this.pending = new PendingAcks(options.clock);
  }

  get level(): LinkLevel {
    return this.linkLevel;
  }

  /** Raises the level of the open connection and sends the requests that were waiting for it. */
  setLevel(level: LinkLevel): void {
    if (!this.isOpen) return;
    this.linkLevel = level;
    if (level === LinkLevel.ready) this.backoffMs = BACKOFF_BASE_MS;
    for (const entry of this.inFlight.values()) this.trySend(entry);
  }

  /**
   * True while a registered link is being re-established: from the loss of
   * its connection until the owner raises the new one to `ready`.
   */
  get reconnecting(): boolean {
    return this.autoReconnect && !this.closed && this.linkLevel < LinkLevel.ready;
  }

  /**
   * Sends `frame` and waits ackTimeoutMs per try for its reply or error, up to
   * `retries` tries in all with the same id (docs/usage.md "Client"). A reply that arrives
   * late, during a later try, settles it once; the next try is then skipped.
   * A user request (level `ready`) made while reconnecting is not sent but
   * ends `not_connected` at once (and dials now rather than after the
   * backoff); one whose tries ran out while reconnecting ends so too.
   */
  async request(frame: RequestFrame, level: LinkLevel = LinkLevel.ready): Promise<RequestOutcome> {
    if (level === LinkLevel.ready && this.reconnecting) {
      this.connect();
      return NOT_CONNECTED;
    }
    const { ackTimeoutMs, retries } = this.options.limits;
    const entry: InFlight = { frame, level, sentOn: null };
    this.inFlight.set(frame.id, entry);
    try {
      for (let attempt = 0; attempt < retries && !this.closed; attempt++) {
        const wait = this.pending.wait(frame.id, ackTimeoutMs);
        entry.sentOn = null; // a retry sends again, even on the same connection
        this.trySend(entry);
        const outcome = await wait;
        if (outcome.kind === 'acked') return outcome.value;
      }
      return level === LinkLevel.ready && this.reconnecting ? NOT_CONNECTED : { type: 'not_responding' };
    } finally {
      this.inFlight.delete(frame.id);
      this.listParts.delete(frame.id);
    }
  }

  /** Sends a frame that gets no reply (group_ack) if the link is at `level`; dropped otherwise. */
  notify(frame: ClientToServerFrame, level: LinkLevel = LinkLevel.registered): void {
    if (this.conn && this.linkLevel >= level) this.conn.send(frame);
  }

  /** Dials now unless a connection is open or being opened. */
  connect(): void {
    if (this.closed || this.conn !== null) return;
    this.cancelReconnect();
    const stream = this.options.dial
      ? this.options.dial()
      : net.connect({ host: this.options.host, port: this.options.port });
    const conn = new FramedConnection(
      stream,
      CLIENT_SIDE,
      connectionLimits(this.options.limits, false),
      this.options.clock,
    );
    this.conn = conn;
    conn.on('frame', (frame) => this.onFrame(conn, frame));
    conn.on('fault', (error) => this.emit('fault', error));
    conn.on('close', () => this.onClose(conn));
    if (stream instanceof net.Socket && stream.connecting) stream.once('connect', () => this.onOpen(conn));
    else queueMicrotask(() => this.onOpen(conn));
  }

  /** Drops the current connection (e.g. registration failed after a reconnect); it is re-dialled if autoReconnect. */
  drop(): void {
    this.conn?.destroy();
  }

  /** Closes the link for good: no reconnect, pending requests end as not responding. */
  async close(): Promise<void> {
    this.closed = true;
    this.autoReconnect = false;
    this.cancelReconnect();
    this.pending.closeAll();
    await this.conn?.closeAndWait();
  }

  /** The socket is open; the link counts as connected once the server's `hello` arrives. */
  private onOpen(conn: ServerConnection): void {
    if (conn !== this.conn || !conn.open) return;
    this.socketOpen = true;
    if (this.challenge !== null) this.onHello(conn);
  }

  private onHello(conn: ServerConnection): void {
    if (conn !== this.conn || !conn.open || !this.socketOpen || this.isOpen) return;
    this.isOpen = true;
    this.linkLevel = LinkLevel.connected;
    this.emit('connected');
    for (const entry of this.inFlight.values()) this.trySend(entry);
  }

  private trySend(entry: InFlight): void {
    if (this.closed) return;
    if (this.conn === null) {
      this.connect(); // a waiting request dials at once instead of sitting out the backoff
      return;
    }
    if (!this.isOpen || this.linkLevel < entry.level || entry.sentOn === this.conn) return;
    entry.sentOn = this.conn;
    const frame = entry.frame;
    this.conn.send('build' in frame ? frame.build(this.challenge ?? '') : frame);
  }

  private onFrame(conn: ServerConnection, frame: ServerToClientFrame): void {
    switch (frame.type) {
      case 'hello':
        if (this.challenge !== null) return; // one per connection
        this.challenge = frame.challenge;
        this.onHello(conn);
        return;
      case 'list_part':
        this.addListPart(frame.id, frame.items);
        return;
      case 'reply':
        this.pending.settle(frame.id, this.withListParts(frame));
        return;
      case 'error':
        if (frame.id !== undefined) this.listParts.delete(frame.id);
        if (frame.id !== undefined && this.pending.settle(frame.id, frame)) return;
        this.emit('frame', frame);
        return;
      case 'table':
      case 'group_msg':
      case 'removed':
      case 'saved':
      case 'receipt':
      case 'group_deleted':
      case 'presence':
        this.emit('frame', frame);
        return;
      case 'ping':
      case 'pong':
        return;
      default:
        assertNever(frame);
    }
  }

  /** Keeps the items of a long list reply for a request still waiting (others are ignored). */
  private addListPart(id: string, items: readonly string[]): void {
    if (!this.inFlight.has(id)) return;
    const parts = this.listParts.get(id);
    if (parts === undefined) this.listParts.set(id, [...items]);
    else for (const item of items) parts.push(item);
  }

  /**
   * The reply with the items of the `list_part` frames before it prepended. A
   * retry on the same connection is answered after the earlier try's parts
   * and reply, so parts are cleared at each reply and never duplicated.
   */
  private withListParts(frame: FrameOf<ServerToClientFrame, 'reply'>): FrameOf<ServerToClientFrame, 'reply'> {
    const parts = this.listParts.get(frame.id);
    if (parts === undefined) return frame;
    this.listParts.delete(frame.id);
    const request = this.inFlight.get(frame.id)?.frame;
    if (
      frame.members !== undefined ||
      (request !== undefined && 'type' in request && request.type === 'list_members')
    ) {
      return { ...frame, members: [...parts, ...(frame.members ?? [])] };
    }
    return { ...frame, groups: [...parts, ...(frame.groups ?? [])] };
  }

  private onClose(conn: ServerConnection): void {
    if (conn !== this.conn) return;
    const wasOpen = this.isOpen;
    this.listParts.clear(); // a retry on the next connection gets every part again
    this.conn = null;
    this.isOpen = false;
    this.socketOpen = false;
    this.challenge = null;
    this.linkLevel = LinkLevel.none;
    if (wasOpen) this.emit('lost');
    if (this.autoReconnect && !this.closed) this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== null) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
    this.reconnectTimer = this.options.clock.setTimeout(() => {
      this.reconnectTimer = null;
      this.connect();
    }, delay);
  }

  private cancelReconnect(): void {
    if (this.reconnectTimer !== null) this.options.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}

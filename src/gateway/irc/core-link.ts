import { randomBytes } from 'node:crypto';
import { SessionLink } from '../../net/session-link';
import type { ClientToServerFrame, FrameOf, ServerToClientFrame } from '../../protocol/frames';
import type { ErrorCode } from '../../protocol/errors';
import type { Limits } from '../../protocol/limits';
import type { Clock } from '../../util/clock';
import { TypedEmitter } from '../../util/typed-emitter';

/** A request frame without its id: the link numbers requests itself. */
export type CoreRequest = ClientToServerFrame extends infer F
  ? F extends { id: string; type: infer T }
    ? T extends 'saved_ack' | 'relayed_ack'
      ? never
      : Omit<F, 'id'>
    : never
  : never;

export type Reply = FrameOf<ServerToClientFrame, 'reply'>;

/** The outcome of one request: the reply, or the error code the core answered with. */
export type Outcome = { readonly ok: true; readonly reply: Reply } | { readonly ok: false; readonly code: ErrorCode };

/** What the core pushes that is not an answer to a request. */
export interface CoreLinkEvents {
  [event: string]: unknown[];
  push: [frame: ServerToClientFrame];
  /** The core closed the link (`code`: why, e.g. `slow_consumer`), or it was closed from here. */
  closed: [code: ErrorCode | undefined];
}

/**
 * One IRC session's connection to the chat core (docs/architecture.md
 * "Gateways"): a SessionLink handed to `ChatServer.handleLink`, over which
 * the frames of docs/protocol.md go both ways as objects, so the core
 * treats the IRC user as any other session (tables, groups, acks, limits,
 * slow readers) without a JSON encode or parse per delivery. Requests may be
 * pipelined: the core answers a connection's requests in order; replies are
 * matched by id.
 */
export class CoreLink extends TypedEmitter<CoreLinkEvents> {
  private readonly link: SessionLink;
  private readonly pending = new Map<string, (outcome: Outcome) => void>();
  /** Items of `list_part` frames, kept until their final reply (docs/protocol.md `list_part`). */
  private readonly parts = new Map<string, string[]>();
  private nextId = 0;
  /**
   * Request ids start with a random part: the core caches replies by name
   * across connections (a retried id gets the cached reply), so a later
   * connection of the same name — a second login, a NICK back — must never
   * repeat an id of an earlier one.
   */
  private readonly idBase = `${randomBytes(6).toString('base64url')}.`;
  private helloChallenge: string | null = null;
  private readonly helloWaiters: ((challenge: string | null) => void)[] = [];
  private roomWaiters: (() => void)[] = [];
  /**
   * The hot path, one call per delivery: group messages go straight to this
   * handler when one is set, not through the 'push' event.
   */
  onGroupMessage: ((frame: FrameOf<ServerToClientFrame, 'group_msg'>) => void) | null = null;
  private ended = false;

  /**
   * @param connect hands the core its end (`ChatServer.handleLink`)
   * @param backlogBytes bytes this session has not yet written to its IRC client (its send queue)
   */
  constructor(connect: (link: SessionLink) => void, limits: Limits, clock: Clock, backlogBytes: () => number) {
    super();
    this.link = new SessionLink(limits, clock);
    this.link.attach({
      receive: (frames) => {
        const direct = this.onGroupMessage;
        for (const frame of frames) {
          if (frame.type === 'group_msg' && direct !== null) direct(frame);
          else this.onFrame(frame);
        }
      },
      backlogBytes,
      closed: (code) => this.onClose(code),
    });
    connect(this.link);
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The core's `hello` challenge (what `register` signs); null if the link closed first. */
  challenge(): Promise<string | null> {
    if (this.helloChallenge !== null || !this.link.open) return Promise.resolve(this.helloChallenge);
    return new Promise((resolve) => this.helloWaiters.push(resolve));
  }

  /**
   * Sends a request; resolves with its reply or error (`shutting_down` once
   * the link is gone). `id` only where the frame must repeat it (`save_message`).
   */
  request(frame: CoreRequest, id = `${this.idBase}${++this.nextId}`): Promise<Outcome> {
    if (!this.link.open || this.pending.has(id)) return Promise.resolve({ ok: false, code: 'shutting_down' });
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.link.deliver({ ...frame, id });
    });
  }

  /** Resolves once fewer than `max` requests are in flight (a sender's back-pressure, docs/irc.md "Lines"). */
  room(max: number): Promise<void> {
    if (this.pending.size < max || !this.link.open) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** This session wrote lines to its client: the core's slow-reader rules look at its send queue now. */
  wrote(): void {
    this.link.wrote();
  }

  /** The client's socket drained. */
  drained(): void {
    this.link.drained();
  }

  /** Sends a notice (an ack): no reply. */
  notify(frame: FrameOf<ClientToServerFrame, 'group_ack' | 'saved_ack' | 'relayed_ack'>): void {
    this.link.deliver(frame);
  }

  /** Closes the link; the core sees a closed connection (the name goes offline). */
  close(): void {
    this.link.peerClosed();
    this.onClose(undefined);
  }

  private onFrame(frame: ServerToClientFrame): void {
    if (frame.type === 'hello') {
      this.helloChallenge = frame.challenge;
      for (const waiter of this.helloWaiters.splice(0)) waiter(frame.challenge);
      return;
    }
    if (frame.type === 'list_part' && this.pending.has(frame.id)) {
      const items = this.parts.get(frame.id) ?? [];
      this.parts.set(frame.id, items.concat(frame.items));
      return;
    }
    if ((frame.type === 'reply' || frame.type === 'error') && frame.id !== undefined) {
      const resolve = this.pending.get(frame.id);
      if (resolve !== undefined) {
        this.pending.delete(frame.id);
        if (this.roomWaiters.length > 0) this.wakeRoomWaiters();
        const parts = this.parts.get(frame.id) ?? [];
        this.parts.delete(frame.id);
        resolve(
          frame.type === 'reply' ? { ok: true, reply: withParts(frame, parts) } : { ok: false, code: frame.code },
        );
        return;
      }
    }
    this.emit('push', frame);
  }

  private wakeRoomWaiters(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const wake of waiters) wake();
  }

  private onClose(code: ErrorCode | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.wakeRoomWaiters();
    this.parts.clear();
    for (const waiter of this.helloWaiters.splice(0)) waiter(null);
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) resolve({ ok: false, code: 'shutting_down' });
    this.emit('closed', code);
  }
}

/** A list reply with the items of its `list_part` frames in front. */
function withParts(reply: Reply, parts: readonly string[]): Reply {
  if (parts.length === 0) return reply;
  if (reply.groups !== undefined) return { ...reply, groups: [...parts, ...reply.groups] };
  return { ...reply, members: [...parts, ...(reply.members ?? [])] };
}

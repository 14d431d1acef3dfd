import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { FramedConnection } from '../../net/framed-connection';
import { memoryDuplexPair } from '../../net/memory-duplex';
import type { ClientToServerFrame, FrameOf, ServerToClientFrame } from '../../protocol/frames';
import type { ErrorCode } from '../../protocol/errors';
import { CLIENT_SIDE, type LinkFrames } from '../../protocol/link-frames';
import { z } from 'zod';
import type { Limits } from '../../protocol/limits';
import { connectionLimits } from '../../client/connection-limits';
import type { Clock } from '../../util/clock';
import { TypedEmitter } from '../../util/typed-emitter';

/**
 * The core's frames as the gateway reads them: the core is this process's
 * own code, so its frames are not validated again (the cost was one schema
 * check per member per group message); the gateway's frames to the core are
 * checked by the core as any client's.
 */
const TRUSTED_CORE: LinkFrames<ServerToClientFrame, ClientToServerFrame> = {
  receives: z.custom<ServerToClientFrame>(),
  sends: CLIENT_SIDE.sends,
};

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
  closed: [];
}

/**
 * One IRC session's connection to the chat core (docs/architecture.md
 * "Gateways"): the JSON frames of docs/protocol.md over an in-process
 * duplex handed to `ChatServer.handleConnection`, so the core treats the IRC
 * user as any other session (tables, groups, acks, limits, slow readers).
 * Requests may be pipelined: the core answers a connection's requests in
 * order; replies are matched by id.
 */
export class CoreLink extends TypedEmitter<CoreLinkEvents> {
  private readonly conn: FramedConnection<ServerToClientFrame, ClientToServerFrame>;
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

  /** @param connect hands the core its end of the pair (`ChatServer.handleConnection`). */
  constructor(connect: (stream: Duplex) => void, limits: Limits, clock: Clock) {
    super();
    const [ours, theirs] = memoryDuplexPair();
    this.conn = new FramedConnection(ours, TRUSTED_CORE, connectionLimits(limits, false), clock);
    this.conn.on('frame', (frame) => this.onFrame(frame));
    this.conn.on('close', () => this.onClose());
    connect(theirs);
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** The core's `hello` challenge (what `register` signs); null if the link closed first. */
  challenge(): Promise<string | null> {
    if (this.helloChallenge !== null || !this.conn.open) return Promise.resolve(this.helloChallenge);
    return new Promise((resolve) => this.helloWaiters.push(resolve));
  }

  /**
   * Sends a request; resolves with its reply or error (`shutting_down` once
   * the link is gone). `id` only where the frame must repeat it (`save_message`).
   */
  request(frame: CoreRequest, id = `${this.idBase}${++this.nextId}`): Promise<Outcome> {
    if (!this.conn.open || this.pending.has(id)) return Promise.resolve({ ok: false, code: 'shutting_down' });
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.conn.send({ ...frame, id });
    });
  }

  /** Sends a notice (an ack): no reply. */
  notify(frame: FrameOf<ClientToServerFrame, 'group_ack' | 'saved_ack' | 'relayed_ack'>): void {
    if (this.conn.open) this.conn.send(frame);
  }

  /** Closes the link; the core sees a closed connection (the name goes offline). */
  async close(): Promise<void> {
    await this.conn.closeAndWait();
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

  private onClose(): void {
    this.parts.clear();
    for (const waiter of this.helloWaiters.splice(0)) waiter(null);
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const resolve of waiting) resolve({ ok: false, code: 'shutting_down' });
    this.emit('closed');
  }
}

/** A list reply with the items of its `list_part` frames in front. */
function withParts(reply: Reply, parts: readonly string[]): Reply {
  if (parts.length === 0) return reply;
  if (reply.groups !== undefined) return { ...reply, groups: [...parts, ...reply.groups] };
  return { ...reply, members: [...parts, ...(reply.members ?? [])] };
}

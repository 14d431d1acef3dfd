import { StoreUnavailableError } from '../store/store-errors';
import { ERROR_CODES } from '../protocol/errors';
import type { ClientToServerFrame, FrameOf, ServerRequest } from '../protocol/frames';
import { fail, type Outcome, type RegisteredSession, type ServerContext } from './context';
import type { Session } from './session';
import { handleDeleteAccount, handleRegister } from './handlers/register';
import { handleLookup, handleSaveMessage } from './handlers/mailbox';
import { handleDereg } from './handlers/dereg';
import {
  handleCreateGroup,
  handleDeleteGroup,
  handleHistory,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleListMembers,
} from './handlers/groups';
import { handleSendGroup } from './handlers/send-group';
import { handleRelayDm } from './handlers/relay';
import { chunkBytes } from '../protocol/chunk-frames';
import { sameName } from '../protocol/names';
import { listOf, sendReply } from './list-reply';
import { PLAIN_REPLY } from './reply-cache';

type Result = Outcome | Promise<Outcome>;

/**
 * A request route: its preconditions, declared once, and its handler.
 * Requests run in order. `readOnly` ones change nothing: if their connection
 * closed while they waited, they are skipped (nobody would read the answer).
 */
type RequestRoute<F extends ServerRequest> =
  | { readonly kind: 'request'; readonly registered: false; handle(ctx: ServerContext, s: Session, f: F): Result }
  | {
      readonly kind: 'request';
      readonly registered: true;
      readonly readOnly?: true;
      /** The name the request acts as; it must be the caller's own (`not_self`). */
      readonly actsAs?: (f: F) => string;
      handle(ctx: ServerContext, s: RegisteredSession, f: F): Result;
    };

/**
 * A notice route: a frame without id or reply, handled at once, ahead of the
 * connection's queued requests (acks are cumulative and order-free, and must
 * not wait behind a backlog), and only from a registered connection.
 */
interface NoticeRoute<F> {
  readonly kind: 'notice';
  handle(ctx: ServerContext, s: RegisteredSession, f: F): void;
}

/** Answered inside FramedConnection; never handed to the server. */
interface LinkRoute {
  readonly kind: 'link';
}

type Route<F extends ClientToServerFrame> = F extends ServerRequest ? RequestRoute<F> : NoticeRoute<F> | LinkRoute;
type Routes = { readonly [T in ClientToServerFrame['type']]: Route<FrameOf<ClientToServerFrame, T>> };

/**
 * Every frame type a client may send, how it is scheduled, and its
 * preconditions; a new frame type breaks the build until it is listed here.
 */
export const ROUTES: Routes = {
  register: { kind: 'request', registered: false, handle: handleRegister },
  dereg: { kind: 'request', registered: true, actsAs: (f) => f.name, handle: handleDereg },
  create_group: { kind: 'request', registered: true, handle: handleCreateGroup },
  list_groups: { kind: 'request', registered: true, readOnly: true, handle: handleListGroups },
  join_group: { kind: 'request', registered: true, handle: handleJoinGroup },
  leave_group: { kind: 'request', registered: true, handle: handleLeaveGroup },
  list_members: { kind: 'request', registered: true, readOnly: true, handle: handleListMembers },
  send_group: { kind: 'request', registered: true, handle: handleSendGroup },
  history: { kind: 'request', registered: true, readOnly: true, handle: handleHistory },
  delete_group: { kind: 'request', registered: true, handle: handleDeleteGroup },
  delete_account: { kind: 'request', registered: true, actsAs: (f) => f.name, handle: handleDeleteAccount },
  lookup: { kind: 'request', registered: true, readOnly: true, handle: handleLookup },
  save_message: { kind: 'request', registered: true, handle: handleSaveMessage },
  saved_ack: { kind: 'notice', handle: (ctx, s, f) => ctx.savedAcked(s, f.id) },
  group_ack: { kind: 'notice', handle: (ctx, s, f) => ctx.fanout.ack(f.group, s.name, f.seq) },
  relay_dm: { kind: 'request', registered: true, handle: handleRelayDm },
  relayed_ack: { kind: 'notice', handle: (ctx, s, f) => ctx.relayAcks.ack(s.id, f.id, f.code) },
  ping: { kind: 'link' },
  pong: { kind: 'link' },
};

/** How a frame is scheduled: requests queue in order; notices run at once; link frames never arrive. */
export function routeKind(frame: ClientToServerFrame): 'request' | 'notice' | 'link' {
  return ROUTES[frame.type].kind;
}

/** True for requests that change nothing (skipped when nobody is left to read the answer). */
export function isReadOnly(request: ServerRequest): boolean {
  const route = ROUTES[request.type] as RequestRoute<ServerRequest>;
  return route.registered && route.readOnly === true;
}

/** Runs a notice frame (its route says so) if the connection is registered; else it is ignored. */
export function dispatchNotice(ctx: ServerContext, session: Session, frame: ClientToServerFrame): void {
  const route = ROUTES[frame.type] as NoticeRoute<ClientToServerFrame> | LinkRoute;
  if (route.kind === 'notice' && session.name !== null) route.handle(ctx, session as RegisteredSession, frame);
}

/**
 * Runs one request: a repeated id gets its cached reply and is not performed
 * again; otherwise preconditions are checked here, once, and the handler runs.
 * Returns a promise only when the handler is asynchronous, or a long answer
 * is still being paced out (fast path otherwise).
 */
export function dispatchRequest(ctx: ServerContext, session: Session, frame: ServerRequest): void | Promise<void> {
  const cached = session.replies.get(frame.id);
  if (cached !== undefined) {
    return session.conn.send(cached === PLAIN_REPLY ? { type: 'reply', id: frame.id } : cached); // performed once per id
  }
  const result = route(ctx, session, frame);
  if (result instanceof Promise)
    return result.then(
      (outcome) => deliver(ctx, session, frame, outcome),
      (err: unknown) => refuse(session, frame, err),
    );
  return deliver(ctx, session, frame, result);
}

/**
 * The store could not be reached (a cluster node without its Redis): the
 * request is refused with `store_unavailable` and not cached, so the client
 * may try the same id again; any other error is a fault of the connection.
 */
function refuse(session: Session, frame: ServerRequest, err: unknown): void {
  if (!(err instanceof StoreUnavailableError)) throw err;
  session.conn.sendError('store_unavailable', ERROR_CODES.store_unavailable, frame.id);
}

function route(ctx: ServerContext, session: Session, frame: ServerRequest): Result {
  const entry = ROUTES[frame.type] as RequestRoute<ServerRequest>;
  if (!entry.registered) {
    if (session.name !== null) return fail(frame.id, 'already_registered');
    return entry.handle(ctx, session, frame);
  }
  if (session.name === null) return fail(frame.id, 'not_registered'); // protocol.md: register first
  if (entry.actsAs && !sameName(entry.actsAs(frame), session.name)) return fail(frame.id, 'not_self'); // usage.md: only as itself, any case
  return entry.handle(ctx, session as RegisteredSession, frame);
}

/**
 * Caches and sends the answer, then runs the handler's follow-up work. A
 * long list goes out in paced `list_part` chunks; the connection's next
 * request waits until it is out.
 */
function deliver(ctx: ServerContext, session: Session, request: ServerRequest, outcome: Outcome): void | Promise<void> {
  const { id } = request;
  const frame = outcome.frame;
  // Read-only requests are idempotent and their replies can be long: never cached (a repeated id runs again).
  if (!isReadOnly(request)) {
    const plain = frame.type === 'reply' && listOf(frame) === null && frame.group === undefined;
    session.replies.set(id, plain ? PLAIN_REPLY : frame);
  }
  if (frame.type === 'error') {
    ctx.emit('frameRejected', frame.code);
    // An error naming someone (not_creator: the creator) goes whole: the client's line names them.
    if (frame.who !== undefined) session.conn.send({ ...frame, id });
    else session.conn.sendError(frame.code, frame.message, id);
    return outcome.after?.();
  }
  const sent = sendReply(session, frame, chunkBytes(ctx.limits.maxFrameBytes));
  const after = outcome.after?.();
  if (sent instanceof Promise)
    return after instanceof Promise ? Promise.all([sent, after]).then(() => undefined) : sent;
  return after;
}

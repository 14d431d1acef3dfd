import type { FrameOf, ServerRequest } from '../protocol/frames';
import { fail, type Outcome, type RegisteredSession, type ServerContext } from './context';
import type { Session } from './session';
import { handleRegister } from './handlers/register';
import { handleDereg } from './handlers/dereg';
import {
  handleCreateGroup, handleJoinGroup, handleLeaveGroup, handleListGroups, handleListMembers,
} from './handlers/groups';
import { handleSendGroup } from './handlers/send-group';
import { chunkBytes } from '../protocol/chunk-frames';
import { listOf, sendReply } from './list-reply';

type Result = Outcome | Promise<Outcome>;

/**
 * Cache marker for a bare `reply{id}` (most replies, send_group's above all):
 * the cache then holds only the id, not a frame object per request.
 */
export const PLAIN_REPLY = 0;

/** A request route: its preconditions, declared once, and its handler. */
type Route<F extends ServerRequest> =
  | { readonly registered: false; handle(ctx: ServerContext, s: Session, f: F): Result }
  | {
      readonly registered: true;
      /** The name the request acts as; it must be the caller's own (`not_self`). */
      readonly actsAs?: (f: F) => string;
      handle(ctx: ServerContext, s: RegisteredSession, f: F): Result;
    };

type Routes = { readonly [T in ServerRequest['type']]: Route<FrameOf<ServerRequest, T>> };

/** Every request type and its preconditions; a new request type breaks the build until listed. */
export const ROUTES: Routes = {
  register: { registered: false, handle: handleRegister },
  dereg: { registered: true, actsAs: (f) => f.name, handle: handleDereg },
  create_group: { registered: true, handle: handleCreateGroup },
  list_groups: { registered: true, handle: handleListGroups },
  join_group: { registered: true, handle: handleJoinGroup },
  leave_group: { registered: true, handle: handleLeaveGroup },
  list_members: { registered: true, handle: handleListMembers },
  send_group: { registered: true, handle: handleSendGroup },
};

/**
 * Runs one request: a repeated id gets its cached reply and is not performed
 * again; otherwise preconditions are checked here, once, and the handler runs.
 * Returns a promise only when the handler is asynchronous, or a long answer
 * is still being paced out (fast path otherwise).
 */
export function dispatchRequest(ctx: ServerContext, session: Session, frame: ServerRequest): void | Promise<void> {
  const cached = session.seen.get(frame.id);
  if (cached !== undefined) {
    return session.conn.send(cached === PLAIN_REPLY ? { type: 'reply', id: frame.id } : cached); // performed once per id
  }
  const result = route(ctx, session, frame);
  if (result instanceof Promise) return result.then((outcome) => deliver(ctx, session, frame, outcome));
  return deliver(ctx, session, frame, result);
}

function route(ctx: ServerContext, session: Session, frame: ServerRequest): Result {
  const entry = ROUTES[frame.type] as Route<ServerRequest>;
  if (!entry.registered) {
    if (session.name !== null) return fail(frame.id, 'already_registered');
    return entry.handle(ctx, session, frame);
  }
  if (session.name === null) return fail(frame.id, 'not_registered'); // protocol.md: register first
  if (entry.actsAs && entry.actsAs(frame) !== session.name) return fail(frame.id, 'not_self'); // SPEC §4
  return entry.handle(ctx, session as RegisteredSession, frame);
}

/**
 * List requests are idempotent reads whose replies can be long: they are never
 * cached (a repeated id runs again), which keeps the reply cache small.
 */
const UNCACHED: ReadonlySet<ServerRequest['type']> = new Set(['list_groups', 'list_members']);

/**
 * Caches and sends the answer, then runs the handler's follow-up work. A
 * long list goes out in paced `list_part` chunks; the connection's next
 * request waits until it is out.
 */
function deliver(ctx: ServerContext, session: Session, request: ServerRequest, outcome: Outcome): void | Promise<void> {
  const { id } = request;
  const frame = outcome.frame;
  if (!UNCACHED.has(request.type)) {
    const plain = frame.type === 'reply' && listOf(frame) === null && frame.group === undefined;
    session.seen.set(id, plain ? PLAIN_REPLY : frame);
  }
  if (frame.type === 'error') {
    session.conn.sendError(frame.code, frame.message, id);
    return outcome.after?.();
  }
  const sent = sendReply(session, frame, chunkBytes(ctx.limits.maxFrameBytes));
  const after = outcome.after?.();
  if (sent instanceof Promise) return after instanceof Promise ? Promise.all([sent, after]).then(() => undefined) : sent;
  return after;
}

import type { FrameOf, ServerRequest } from '../../protocol/frames';
import { ok, type Outcome, type RegisteredSession, type ServerContext } from '../context';

/** `dereg`: the client goes offline (the dispatcher already checked it names itself). */
export async function handleDereg(
  ctx: ServerContext,
  session: RegisteredSession,
  frame: FrameOf<ServerRequest, 'dereg'>,
): Promise<Outcome> {
  await ctx.goOffline(session);
  return ok(frame.id);
}

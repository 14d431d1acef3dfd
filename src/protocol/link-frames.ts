import type { ZodType } from 'zod';
import type { WireFrame } from './codec';
import { ClientToServerFrame, DirectFrame, ServerToClientFrame } from './frames';
import { MeshFrame } from './mesh-frames';

/**
 * One end of a link: the union it reads (validated by `receives`) and the
 * union it may write. A `FramedConnection` takes one, so its `send` accepts
 * exactly the frames its peer's schema accepts, and a frame for another link
 * is a compile error. `sends` is what the peer validates with; tests decode
 * encoders' output with it.
 */
export interface LinkFrames<In extends WireFrame, Out extends WireFrame> {
  readonly receives: ZodType<In>;
  readonly sends: ZodType<Out>;
}

/** The server's end of a client connection. */
export const SERVER_SIDE: LinkFrames<ClientToServerFrame, ServerToClientFrame> = {
  receives: ClientToServerFrame,
  sends: ServerToClientFrame,
};

/** A client's end of its server connection. */
export const CLIENT_SIDE: LinkFrames<ServerToClientFrame, ClientToServerFrame> = {
  receives: ServerToClientFrame,
  sends: ClientToServerFrame,
};

/** Either end of a direct (client ↔ client) link: both directions share one union. */
export const DIRECT_LINK: LinkFrames<DirectFrame, DirectFrame> = { receives: DirectFrame, sends: DirectFrame };

/** Either end of a mesh (peer ↔ peer) link: both directions share one union. */
export const MESH_LINK: LinkFrames<MeshFrame, MeshFrame> = { receives: MeshFrame, sends: MeshFrame };

import { z } from 'zod';
import { ErrorFrame, Host, Id, Name, PingFrame, PongFrame, Port, Text } from './frames';

/**
 * Peer-mode (mesh) frames, docs/usage.md "Peer mode". One union for both directions of a
 * peer ↔ peer link; objects are strict like every other frame schema.
 * docs/protocol-mesh.md documents each frame and the join/greet/gossip flow.
 */

/** Most members one `welcome` or `members` frame may list (the frame size cap applies too). */
export const MAX_GOSSIP_MEMBERS = 1024;

/**
 * A member as one peer knows it. `peer` is the member's instance id (a UUID v7
 * made when it started): two processes using the same name have different ones,
 * and the smaller (earlier) one keeps the name.
 */
export const MeshMember = z.strictObject({
  name: Name,
  peer: Id,
  host: Host,
  port: Port,
});
export type MeshMember = z.infer<typeof MeshMember>;

const members = z.array(MeshMember).max(MAX_GOSSIP_MEMBERS);

/**
 * First frame on every link, from the side that opened it. `port` is the
 * sender's listen port; `to`, when the sender dials a member it learned of,
 * is the instance it expects (anyone else refuses with `wrong_recipient`);
 * `joining` says the sender has not finished joining (it sends `joined` then).
 */
const hello = z.strictObject({
  type: z.literal('hello'),
  id: Id,
  v: z.int().min(0).max(1_000_000),
  name: Name,
  peer: Id,
  port: Port,
  to: Id.optional(),
  joining: z.literal(true).optional(),
});
/** Reply to `hello` (same `id`): who accepted it and every other member it is linked to. */
const welcome = z.strictObject({
  type: z.literal('welcome'),
  id: Id,
  name: Name,
  peer: Id,
  members,
  joining: z.literal(true).optional(),
});
/** Gossip: the sender's current members (itself and the receiver excluded), sent when they change. */
const membersFrame = z.strictObject({ type: z.literal('members'), members });
/** A chat message typed by the sender of the link; acked with `msg_ack` by the receiver. */
const msg = z.strictObject({ type: z.literal('msg'), id: Id, text: Text });
const msgAck = z.strictObject({ type: z.literal('msg_ack'), id: Id });
/** The sender finished joining: it is now an established member (its name can no longer be contested). */
const joined = z.strictObject({ type: z.literal('joined') });
/** Graceful leave: the receiver prints `[<name> has left the chat]`. */
const bye = z.strictObject({ type: z.literal('bye') });

/** Every frame a mesh link may carry, validated where it enters the program. */
export const MeshFrame = z.discriminatedUnion('type', [
  hello,
  welcome,
  membersFrame,
  joined,
  msg,
  msgAck,
  bye,
  ErrorFrame,
  PingFrame,
  PongFrame,
]);
export type MeshFrame = z.infer<typeof MeshFrame>;

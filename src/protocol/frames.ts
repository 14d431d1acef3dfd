import { z } from 'zod';
import { ERROR_CODE_LIST } from './errors';
import { MAX_ID_LENGTH } from './ids';
import { isValidHost } from './names';
import { Millis, Name, PublicKey, Signature } from './primitives';
import { DmEnvelope, EncryptionKey } from './dm-envelope';

export { Millis, Name, PublicKey, Signature };

/**
 * Every frame on the wire, as zod schemas: one source for validation and types.
 * Objects are strict (unknown fields, `__proto__` and `constructor` keys are
 * rejected). One union per direction; docs/protocol.md documents each frame.
 */

// ---- primitives -----------------------------------------------------------
export const Id = z.string().min(1).max(MAX_ID_LENGTH);
export const Port = z.int().min(0).max(65535);
/** Text is capped here only by a hard ceiling; the configured maxMessageLength is checked by handlers. */
export const Text = z.string().max(65536);
export const Host = z.string().min(1).max(255);
/**
 * A host a client claims in `register`: an IPv4/IPv6 literal or a hostname of
 * at most 253 chars (docs/usage.md "Command-line mistakes", the rule the CLI applies to the server host).
 */
export const ClaimedHost = z
  .string()
  .min(1)
  .max(253)
  .refine(isValidHost, { message: 'not a valid IP address or hostname' });
/** A server challenge: 32 random bytes in base64. */
export const Challenge = z.string().regex(/^[A-Za-z0-9+/]{43}=$/);
/** One message of a group's history (docs/protocol.md "Group history"). */
export const HistoryEntry = z.strictObject({ seq: z.int().min(1), from: Name, text: Text, at: Millis });
export type HistoryEntry = z.infer<typeof HistoryEntry>;
/** A catalogue code (`errors.ts`); parsed frames carry it as `ErrorCode`, not `string`. */
export const ErrorCodeSchema = z.enum(ERROR_CODE_LIST);

const ping = z.strictObject({ type: z.literal('ping') });
const pong = z.strictObject({ type: z.literal('pong') });
const error = z.strictObject({
  type: z.literal('error'),
  id: Id.optional(),
  code: ErrorCodeSchema,
  message: z.string().max(1024),
  /** The name the error is about, where the receiver needs it (`not_creator`: the group's creator). */
  who: Name.optional(),
});

// ---- client → server -------------------------------------------------------
const register = z.strictObject({
  type: z.literal('register'),
  id: Id,
  v: z.int().min(0).max(1_000_000),
  name: Name,
  port: Port,
  /** Address other clients should use for direct messages; defaults to the socket's remote address. */
  host: ClaimedHost.optional(),
  key: PublicKey,
  /** Proof of holding `key`: its signature over the connection's `hello` challenge (docs/security.md). */
  sig: Signature,
  /**
   * The X25519 key private messages to this client are sealed for, and `key`'s
   * signature publishing it (dm-envelope.ts `ekeySigningBytes`). Both or
   * neither: only IRC sessions, which cannot decrypt, register without.
   */
  ekey: EncryptionKey.optional(),
  ekeySig: Signature.optional(),
});
const dereg = z.strictObject({ type: z.literal('dereg'), id: Id, name: Name });
const createGroup = z.strictObject({ type: z.literal('create_group'), id: Id, group: Name });
const listGroups = z.strictObject({ type: z.literal('list_groups'), id: Id });
/**
 * `since`: the last seq this client saw of `group` (a re-join after a reconnect catches up from there).
 * `keep`: stay in the groups it is in (a relay session such as an IRC connection is in several).
 */
const joinGroup = z.strictObject({
  type: z.literal('join_group'),
  id: Id,
  group: Name,
  since: z.int().min(0).optional(),
  keep: z.literal(true).optional(),
});
/** `group` (optional on these four): which of the caller's groups; without it, the one it joined last. */
const leaveGroup = z.strictObject({ type: z.literal('leave_group'), id: Id, group: Name.optional() });
const listMembers = z.strictObject({ type: z.literal('list_members'), id: Id, group: Name.optional() });
const sendGroup = z.strictObject({ type: z.literal('send_group'), id: Id, text: Text, group: Name.optional() });
const deleteGroup = z.strictObject({ type: z.literal('delete_group'), id: Id, group: Name });
const deleteAccount = z.strictObject({ type: z.literal('delete_account'), id: Id, name: Name });
/**
 * `n` messages of the caller's group: the last ones, or inside the bounds given (seqs `after`/`before`,
 * times `afterTs`/`beforeTs` in ms), the newest of those unless `oldest`.
 */
const history = z.strictObject({
  type: z.literal('history'),
  id: Id,
  n: z.int().min(1).max(100),
  group: Name.optional(),
  after: z.int().min(0).optional(),
  before: z.int().min(1).optional(),
  afterTs: z.int().optional(),
  beforeTs: z.int().optional(),
  oldest: z.literal(true).optional(),
});
/** Who `name` is: its table entry (online or not), if the name has an account. */
const lookup = z.strictObject({ type: z.literal('lookup'), id: Id, name: Name });
/** Keep a sealed private message for an offline receiver (its `id` is the request id); the server never reads it. */
const saveMessage = z.strictObject({ type: z.literal('save_message'), id: Id, message: DmEnvelope });
/** The receiver shows saved message `id`: the server may delete it. */
const savedAck = z.strictObject({ type: z.literal('saved_ack'), id: Id });
/**
 * A private message relayed through the server, for a receiver (or from a
 * sender) that cannot take direct connections: an IRC session or a browser
 * page, table entries with port 0 (docs/protocol.md "Relayed private
 * messages"). The body is a sealed envelope, or readable text — allowed only
 * when one side is an IRC session, an entry without `ekey` (`e2e_required`
 * otherwise).
 */
export const RelayBody = z.union([z.strictObject({ enc: DmEnvelope }), z.strictObject({ text: Text })]);
export type RelayBody = z.infer<typeof RelayBody>;
const relayDm = z.strictObject({ type: z.literal('relay_dm'), id: Id, to: Name, body: RelayBody });
/**
 * The receiver has the relayed message `id` (an IRC session: once its
 * connection took the line) — or, with `code`, refused it (a bad signature,
 * not for it, a replay): the sender gets that code as the reply.
 */
const relayedAck = z.strictObject({ type: z.literal('relayed_ack'), id: Id, code: ErrorCodeSchema.optional() });
/** Cumulative: acknowledges every message of `group` with sequence number <= seq. */
const groupAck = z.strictObject({
  type: z.literal('group_ack'),
  group: Name,
  seq: z.int().min(0),
});

export const ClientToServerFrame = z.discriminatedUnion('type', [
  register,
  dereg,
  createGroup,
  listGroups,
  joinGroup,
  leaveGroup,
  listMembers,
  sendGroup,
  deleteGroup,
  deleteAccount,
  history,
  lookup,
  saveMessage,
  savedAck,
  groupAck,
  relayDm,
  relayedAck,
  ping,
  pong,
]);
export type ClientToServerFrame = z.infer<typeof ClientToServerFrame>;
/**
 * The request frames: those that carry an id and get exactly one reply or
 * error (`saved_ack` carries the id of what it acknowledges, and gets none).
 */
export type ServerRequest = Exclude<
  Extract<ClientToServerFrame, { id: string }>,
  { type: 'saved_ack' | 'relayed_ack' }
>;

// ---- server → client -------------------------------------------------------
export const ClientEntry = z.strictObject({
  name: Name,
  host: Host,
  port: Port,
  online: z.boolean(),
  key: PublicKey,
  /** The client's X25519 key and `key`'s signature over it (register); absent for IRC sessions. Verify before use. */
  ekey: EncryptionKey.optional(),
  ekeySig: Signature.optional(),
});
export type ClientEntry = z.infer<typeof ClientEntry>;

const reply = z.strictObject({
  type: z.literal('reply'),
  id: Id,
  /** list_groups: the groups; list_members: the members; join_group: echoes the group. */
  groups: z.array(Name).readonly().optional(),
  members: z.array(Name).readonly().optional(),
  group: Name.optional(),
  /** register: how many saved messages follow the full table (absent when none). */
  saved: z.int().min(1).optional(),
  /** join_group: the seq of the group's last message when the client joined (absent while there is none). */
  seq: z.int().min(1).optional(),
  /** join_group (without `since`): the group's last messages; history: the last `n`. Oldest first. */
  history: z.array(HistoryEntry).readonly().optional(),
  /** lookup: the name's entry. */
  entry: ClientEntry.optional(),
});
/**
 * Client table push, possibly split in chunks so no frame nears maxFrameBytes.
 * `more: true` says more chunks of this same push follow; the push ends with
 * the chunk without it. All chunks of a push share its `rev`, which increases
 * by one per push to a connection. `full` is true on the first chunk of a full
 * push only (it replaces the receiver's table; later chunks add entries), so
 * applying the chunks one by one or all at once gives the same table.
 */
const table = z.strictObject({
  type: z.literal('table'),
  rev: z.int().min(0),
  full: z.boolean(),
  more: z.literal(true).optional(),
  clients: z.array(ClientEntry),
});
/**
 * Part of a long list reply (list_groups, list_members): the items precede
 * those of the final `reply{id}` with the same id, in order.
 */
const listPart = z.strictObject({
  type: z.literal('list_part'),
  id: Id,
  items: z.array(Name),
});
const groupMsg = z.strictObject({
  type: z.literal('group_msg'),
  group: Name,
  seq: z.int().min(0),
  from: Name,
  text: Text,
});
const removed = z.strictObject({ type: z.literal('removed'), group: Name });
/** First frame on every connection: what `register` must sign (docs/security.md "Accounts"). */
const hello = z.strictObject({ type: z.literal('hello'), v: z.int().min(0), challenge: Challenge });
/** A message saved while this client was offline; acked with `saved_ack`. `key` is the sender's account key. */
const saved = z.strictObject({ type: z.literal('saved'), message: DmEnvelope, key: PublicKey });
/** A private message relayed by the server (`relay_dm`); the receiver answers `relayed_ack`. */
const relayedDm = z.strictObject({ type: z.literal('relayed_dm'), id: Id, from: Name, ts: Millis, body: RelayBody });
/** `name` received the messages this client saved for it. */
const receipt = z.strictObject({ type: z.literal('receipt'), name: Name });
/** `group` was deleted by its creator: its members are back in normal mode. */
const groupDeleted = z.strictObject({ type: z.literal('group_deleted'), group: Name });
/** Another member `name` joined or left the receiver's group `group` (in any way). */
const presence = z.strictObject({
  type: z.literal('presence'),
  group: Name,
  name: Name,
  state: z.enum(['joined', 'left']),
});

export const ServerToClientFrame = z.discriminatedUnion('type', [
  reply,
  error,
  table,
  listPart,
  groupMsg,
  removed,
  presence,
  hello,
  saved,
  receipt,
  groupDeleted,
  relayedDm,
  ping,
  pong,
]);
export type ServerToClientFrame = z.infer<typeof ServerToClientFrame>;

// ---- client ↔ client (direct, peer-to-peer) ---------------------------------
/** A sealed and signed private message (dm-envelope.ts); docs/security.md says what it protects. */
const dm = z.strictObject({ type: z.literal('dm'), message: DmEnvelope });
/** Signed by the receiver, so only the addressed client can make its sender print "received". */
const dmAck = z.strictObject({ type: z.literal('dm_ack'), id: Id, sig: Signature });

export const DirectFrame = z.discriminatedUnion('type', [dm, dmAck, error, ping, pong]);
export type DirectFrame = z.infer<typeof DirectFrame>;

/** Frame type helper: the member of union U whose `type` is T. */
export type FrameOf<U extends { type: string }, T extends U['type']> = Extract<U, { type: T }>;

export function assertNever(value: never): never {
  throw new Error(`Unhandled frame: ${JSON.stringify(value)}`);
}

/** The frames every link carries in both directions: heartbeat and errors (sent by FramedConnection itself). */
export type ControlFrame = z.infer<typeof ping> | z.infer<typeof pong> | z.infer<typeof error>;

/** Frames every link shares (heartbeat and errors); the mesh union reuses them. */
export { ping as PingFrame, pong as PongFrame, error as ErrorFrame };

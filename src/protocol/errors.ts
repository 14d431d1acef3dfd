/**
 * The one catalogue of error codes. Codes travel on the wire in `error` frames,
 * `ChatError` carries them in process, tests assert them, and a unit test keeps
 * this table and docs/protocol.md in step.
 */
export const ERROR_CODES = {
  invalid_json: 'Frame is not valid JSON',
  bad_frame: 'Frame does not match the protocol schema',
  frame_too_large: 'Frame exceeds the maximum frame size',
  frame_timeout: 'Frame left half-sent past the deadline',
  too_many_invalid: 'Too many invalid frames',
  unsupported_version: 'Protocol version not supported',
  not_registered: 'Register first',
  already_registered: 'This connection is already registered',
  register_timeout: 'No registration within the deadline',
  name_in_use: 'Name is already in use by an online client',
  name_owned: 'Name belongs to another identity',
  unknown_client: 'No client has that name',
  mailbox_full: 'Mailbox is full',
  not_creator: 'Only the creator can delete the group',
  not_self: 'A client may only act as itself',
  group_exists: 'Group already exists',
  too_many_groups: 'The server holds as many groups as it allows',
  group_quota: 'This client created as many groups as the server allows',
  no_such_group: 'Group does not exist',
  not_in_group: 'Client is not in a group',
  too_many_joined: 'Client is in as many groups as it may be',
  message_too_long: 'Message exceeds the maximum length',
  rate_limited: 'Too many frames; slow down',
  server_full: 'Connection limit reached',
  address_limit: 'Too many connections from this address',
  heartbeat_timeout: 'Peer silent past the heartbeat deadline',
  slow_consumer: 'Outbound queue stayed full past the drain timeout',
  shutting_down: 'Server is shutting down',
  replaced: 'A new connection registered this name',
  bad_signature: 'Signature does not verify',
  unknown_sender: 'Sender is not in the client table',
  wrong_recipient: 'Message is addressed to another client',
  stale_message: 'Message timestamp outside the accepted window',
  undecryptable: 'Message does not decrypt with the receiver key',
  inbox_full: 'Receiver holds as many messages as it allows; try again later',
  idle_timeout: 'No message accepted on this link within the deadline',
  store_unavailable: 'The server cannot reach its shared state; try again shortly',
  internal_error: 'Internal error',
  e2e_required: 'Readable private messages are relayed only to or from an IRC session',
  receiver_offline: 'The receiver is not online',
  no_ack: 'The receiver did not acknowledge in time',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Every code, in catalogue order. A non-empty tuple of the literal codes, so
 * the wire schema built from it (`ErrorCodeSchema`) keeps the `ErrorCode` type.
 */
export const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]];

/** Codes after which the sender closes the connection (corrupt or hostile stream). */
export const FATAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'frame_too_large',
  'frame_timeout',
  'too_many_invalid',
  'unsupported_version',
  'register_timeout',
  'server_full',
  'address_limit',
  'heartbeat_timeout',
  'slow_consumer',
  'shutting_down',
  'replaced',
  'idle_timeout',
  'internal_error',
]);

/** A protocol-level error with a stable code and an optional cause. */
export class ChatError extends Error {
  override readonly name = 'ChatError';
  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

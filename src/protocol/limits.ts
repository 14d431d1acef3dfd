/** Most groups one connection may be in at once (a relay session joining with `keep`, docs/protocol.md). */
export const MAX_JOINED_GROUPS = 20;

/**
 * Every limit chatapp enforces, with its default. The CLI exposes each one as an
 * option; docs/protocol.md lists them (a unit test keeps the two in step).
 */
export const DEFAULT_LIMITS = {
  /** Largest frame (one JSON line, newline excluded) in bytes; larger closes the connection. */
  maxFrameBytes: 64 * 1024,
  /** Longest chat message in characters (UTF-16 code units); longer is refused, never truncated. */
  maxMessageLength: 4096,
  /** Most simultaneous connections on a server; past it unregistered ones are shed, oldest first. */
  maxClients: 20_000,
  /** Most open connections from one address (loopback is exempt unless --limit-loopback). */
  maxConnectionsPerAddress: 64,
  /** Registrations per second one address may make (a burst of 5 s worth; loopback exempt likewise). */
  registrationsPerAddressPerSec: 10,
  /** Most groups a server holds; create_group past it gets `too_many_groups`. */
  maxGroups: 10_000,
  /** Most groups one client name may create; past it create_group gets `group_quota`. */
  maxGroupsPerClient: 100,
  /** Saved messages one account's mailbox holds; past it a sender gets `mailbox_full`. */
  mailboxLimit: 100,
  /** Messages kept per group (its history); the oldest go first. */
  historyLimit: 1000,
  /** Sustained frames per second per connection (token bucket refill rate). */
  rateLimitPerSec: 2_000,
  /** Token bucket size: frames a connection may send in one burst. */
  rateBurst: 4_000,
  /** A connection must register within this many ms or it is closed. */
  registerTimeoutMs: 10_000,
  /** A frame begun but not finished within this many ms closes the connection (slowloris). */
  frameTimeoutMs: 10_000,
  /** Heartbeat interval; a peer silent for 3 intervals is declared dead. */
  heartbeatMs: 1_000,
  /** Outbound bytes queued per connection before it counts as a slow reader. */
  maxOutboundBytes: 256 * 1024,
  /** A slow reader whose queue stays over the cap this long is disconnected. */
  drainTimeoutMs: 2_000,
  /** Consecutive invalid frames tolerated before the connection is closed. */
  maxInvalidFrames: 10,
  /** Ack timeout for requests, direct messages and group deliveries. */
  ackTimeoutMs: 500,
  /** Tries in all (first included) for a request to the server. */
  retries: 5,
  /** Ids remembered per connection/peer for duplicate suppression. */
  seenIdsCapacity: 4_096,
  /** Accepted clock skew for a signed direct message's timestamp. */
  directMessageMaxSkewMs: 5 * 60_000,
  /** Most direct links other clients may hold open to one client's listener; past it one is shed. */
  maxDirectLinks: 64,
  /** A direct link with no accepted dm this long after opening is closed (`idle_timeout`). */
  directGreetingTimeoutMs: 5_000,
  /**
   * Direct messages per second a client takes per sender name and per link (token bucket refill):
   * far above typing, and a pasted burst of directRateBurst lines still goes through.
   */
  directRatePerSec: 50,
  /** Token bucket size for direct messages, per sender name and per link. */
  directRateBurst: 200,
  /** Signature checks per second spent on links that have not yet delivered a message (burst: 2 s worth). */
  directVerifyPerSec: 100,
  /** Private messages held while in group mode; past it the sender gets `inbox_full`. */
  maxHeldMessages: 1_000,
} as const;

export type Limits = { -readonly [K in keyof typeof DEFAULT_LIMITS]: number };

/** Number of missed heartbeat intervals after which a silent peer is dead. */
export const HEARTBEAT_MISSES = 3;

/** Client/server protocol version, carried by `hello` and `register` (docs/protocol.md). */
export const PROTOCOL_VERSION = 3;

/** Mesh (peer mode) protocol version, carried by `hello` (docs/protocol-mesh.md). */
export const MESH_PROTOCOL_VERSION = 1;

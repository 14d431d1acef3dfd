import type { ConnectionLimits } from '../net/framed-connection';
import type { Limits } from '../protocol/limits';

/**
 * Connection limits for the client's links. `rateLimitPerSec` applies to links
 * other clients open to us; the server link is never rate limited by the client.
 */
export function connectionLimits(limits: Limits, rateLimited: boolean): ConnectionLimits {
  return {
    maxFrameBytes: limits.maxFrameBytes,
    maxOutboundBytes: limits.maxOutboundBytes,
    drainTimeoutMs: limits.drainTimeoutMs,
    frameTimeoutMs: limits.frameTimeoutMs,
    maxInvalidFrames: limits.maxInvalidFrames,
    heartbeatMs: limits.heartbeatMs,
    rateLimitPerSec: rateLimited ? limits.rateLimitPerSec : 0,
    rateBurst: limits.rateBurst,
  };
}

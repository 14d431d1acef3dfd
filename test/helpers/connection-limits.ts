import type { ConnectionLimits } from '../../src/net/framed-connection';

/**
 * Small connection limits for FramedConnection unit tests: tiny frames and
 * deadlines, no heartbeat and no rate limit unless a test asks for them.
 */
export function testLimits(overrides: Partial<ConnectionLimits> = {}): ConnectionLimits {
  return {
    maxFrameBytes: 1024,
    maxOutboundBytes: 1 << 20,
    drainTimeoutMs: 2000,
    frameTimeoutMs: 500,
    maxInvalidFrames: 3,
    heartbeatMs: 0,
    rateLimitPerSec: 0,
    rateBurst: 0,
    ...overrides,
  };
}

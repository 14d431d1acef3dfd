import type { Readable, Writable } from 'node:stream';

/** The process streams a mode runs against (real ones in main.ts, fakes in tests). */
export interface Terminal {
  readonly stdin: Readable & { isTTY?: boolean };
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable;
  /** Subscribes to SIGINT/SIGTERM; returns an unsubscribe function. */
  onSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void;
  /** Subscribes to requests for a stats line (SIGUSR2; server mode only); returns an unsubscribe function. */
  onStatsRequest?(handler: () => void): () => void;
}

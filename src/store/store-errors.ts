/**
 * A store call that could not be made (the cluster store lost its Redis):
 * nothing was changed, and the server refuses the request with
 * `store_unavailable` (docs/protocol.md) instead of failing the connection.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

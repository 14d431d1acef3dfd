/**
 * A store call that could not be made or confirmed (the cluster store lost
 * its Redis): the server refuses the request with `store_unavailable`
 * (docs/protocol.md) instead of failing the connection, and promises
 * nothing; the client may retry the same request.
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`Redis unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'StoreUnavailableError';
  }
}

/**
 * The `Error` for anything thrown or rejected: a non-Error value (a string, a
 * plain object) is wrapped, so fault events and log lines always have a message.
 */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

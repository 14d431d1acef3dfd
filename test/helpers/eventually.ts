/** What a probe returns while the awaited state does not hold yet. */
type NotYet = undefined | null | false;

export interface EventuallyOptions {
  /** Safety net in ms (default 5 s): a bound for a broken run, never an assertion about speed. */
  readonly timeoutMs?: number;
  /** Pause between two checks in ms (default 20). */
  readonly everyMs?: number;
}

/**
 * Waits for a state that announces itself by no event — a token bucket
 * that refilled, a slot the server frees after a close it prints nothing
 * about — by re-running `probe` (sync or async) until it returns a value.
 * This is the suite's only poller: whatever has an event (an output line,
 * a frame, a close, an emitter event) is awaited on that event instead.
 */
export async function eventually<T>(
  probe: () => T | NotYet | Promise<T | NotYet>,
  what: string,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const everyMs = options.everyMs ?? 20;
  const origin = new Error(`waiting for ${what}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() >= deadline) {
      const err = new Error(`${what}: still not the case after ${timeoutMs} ms`);
      err.stack = `${err.message}\n${(origin.stack ?? '').split('\n').slice(1).join('\n')}`;
      throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

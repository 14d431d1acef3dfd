/**
 * Event-driven waiting for test and bench drivers: a wait re-checks its probe
 * each time its owner calls `notify()` (a line was read, a frame arrived, the
 * process exited), never on a timer. The only timer is the safety net: when
 * the deadline passes, the wait rejects with the owner's description of what
 * it has seen, and the error's stack points at the caller, not at the timer.
 */

/** A probe returns `{ value }` once the awaited state holds, else null. */
export type Probe<T> = () => { readonly value: T } | null;

/** Default safety net of every wait, in ms: a bound for a broken run, never an assertion about speed. */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface WaitSpec<T> {
  /** What is awaited, for the failure message ("a line \"x\" on stdout"). */
  readonly what: string;
  readonly probe: Probe<T>;
  /** Safety net in ms (default `DEFAULT_TIMEOUT_MS`). */
  readonly timeoutMs?: number | undefined;
  /** Checked after a failed probe: a reason to give up at once (the process exited, the socket closed), or null. */
  readonly hopeless?: () => string | null;
}

/** A set of pending waits sharing one owner; the owner calls `notify()` whenever its state changed. */
export class Waiters {
  private readonly pending = new Set<() => void>();

  /**
   * @param describe the owner's recent state (output lines, frames), appended to every failure message
   */
  constructor(private readonly describe: () => string) {}

  /** Number of waits not settled yet. */
  get size(): number {
    return this.pending.size;
  }

  /** Resolves with the probe's value once it holds; rejects when `hopeless` says so or the safety net fires. */
  wait<T>(spec: WaitSpec<T>): Promise<T> {
    const limit = spec.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    // Captured now, so a failure points at the line that started the wait.
    const origin = new Error(`waiting for ${spec.what}`);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const settle = (): void => {
        if (timer) clearTimeout(timer);
        this.pending.delete(check);
      };
      const fail = (message: string): void => {
        settle();
        reject(this.failure(origin, message));
      };
      const check = (): void => {
        const found = spec.probe();
        if (found) {
          settle();
          resolve(found.value);
          return;
        }
        const reason = spec.hopeless?.();
        if (reason !== null && reason !== undefined) fail(`${reason} before ${spec.what}`);
      };
      this.pending.add(check);
      check();
      if (!this.pending.has(check)) return;
      timer = setTimeout(() => fail(`timed out after ${limit} ms waiting for ${spec.what}`), limit);
    });
  }

  /** Re-checks every pending wait. */
  notify(): void {
    for (const check of [...this.pending]) check();
  }

  private failure(origin: Error, message: string): Error {
    const err = new Error(`${message}\n${this.describe()}`);
    err.stack = `${err.message}\n${(origin.stack ?? '').split('\n').slice(1).join('\n')}`;
    return err;
  }
}

import type { Clock, TimerHandle } from '../util/clock';

/**
 * A new connection's deadline for registering (docs/protocol.md, limits:
 * registerTimeoutMs). It stops while the connection's own requests wait in
 * this server's queues or run — a registration storm is not the client's
 * fault — and goes on with what was left. Once the connection registers it
 * is off for good: a deregistered connection stays open without one (it is
 * sheddable instead).
 */
export class RegisterDeadline {
  private timer: TimerHandle | null = null;
  private dueAt = Infinity;
  private left: number;
  private state: 'running' | 'stopped' | 'off' = 'stopped';

  constructor(
    private readonly clock: Clock,
    ms: number,
    private readonly onExpire: () => void,
  ) {
    this.left = ms;
  }

  /** Starts (or goes on) with what is left. */
  start(): void {
    if (this.state !== 'stopped') return;
    this.state = 'running';
    this.dueAt = this.clock.now() + this.left;
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = null;
        this.state = 'off';
        this.onExpire();
      },
      Math.max(1, this.left),
    );
  }

  /** Stops the clock, remembering what is left. */
  stop(): void {
    if (this.state !== 'running') return;
    this.left = Math.max(0, this.dueAt - this.clock.now());
    this.cancel();
    this.state = 'stopped';
  }

  /** Off for good (registered, closed, or server stopping). */
  end(): void {
    this.cancel();
    this.state = 'off';
  }

  private cancel(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Fair scheduling across connections (docs/architecture.md "Server"): each
 * connection may run at most `perTurn` of its requests in one event-loop
 * turn; the rest wait for the next turn, after every other connection's
 * input of this turn has been read. So one connection that writes thousands
 * of requests at once — then closes, or not — cannot freeze the server for
 * everybody else.
 */
export class TurnBudget {
  private turn = 0;
  private ticking = false;
  private readonly waiting = new Set<() => void>();

  constructor(readonly perTurn: number) {}

  /** The current turn's number (it advances once per event-loop turn while anybody asks). */
  current(): number {
    if (!this.ticking) {
      this.ticking = true;
      setImmediate(() => this.advance());
    }
    return this.turn;
  }

  /** Calls `resume` at the start of the next turn. */
  nextTurn(resume: () => void): void {
    this.waiting.add(resume);
    this.current();
  }

  private advance(): void {
    this.ticking = false;
    this.turn++;
    const waiting = [...this.waiting];
    this.waiting.clear();
    for (const resume of waiting) resume();
  }
}

/** Requests one connection may run per event-loop turn: plenty for a client, a bound for a flood. */
export const REQUESTS_PER_TURN = 64;

/** The budget every server shares by default (turns are the process's). */
export const defaultTurnBudget = new TurnBudget(REQUESTS_PER_TURN);

/**
 * Work handed out in slices of the event loop's turns.
 *
 * Deno polls sockets only between turns of its event loop that end in a wait, and work
 * that goes on in microtasks (the embedded log read as it is written, the simulator's
 * backfill) never ends one: a backlog kept the API, /metrics and Kafka's sockets unread
 * for a minute. A timer ends a turn (a promise resolved elsewhere, a MessageChannel, does
 * not), and costs 1 to 4 ms; so the work shares a budget per turn and, past it, waits for
 * the next, all behind one timer.
 *
 * @module
 */

/** A budget of work per turn of the event loop, shared by whoever takes from it. */
export class Turns {
  readonly budget_ms: number;
  /** When this turn's work began (`performance.now()`). */
  #start = performance.now();
  /** The next turn, which everyone past the budget waits for. */
  #next: Promise<void> | null = null;

  constructor(budget_ms: number) {
    if (!(budget_ms > 0)) {
      throw new RangeError(`A turn's budget must be positive, not ${budget_ms}`);
    }
    this.budget_ms = budget_ms;
  }

  /** Whether this turn's budget is spent. */
  spent(): boolean {
    return performance.now() - this.#start >= this.budget_ms;
  }

  /** Returns at once while the budget lasts; past it, in a later turn with a budget. */
  async wait(): Promise<void> {
    while (this.spent()) {
      this.#next ??= new Promise<void>((resolve) =>
        setTimeout(() => {
          this.#next = null;
          this.#start = performance.now();
          resolve();
        }, 0)
      );
      await this.#next;
    }
  }
}

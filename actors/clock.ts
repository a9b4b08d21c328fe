/**
 * Processing-time clocks: the real one, and a virtual one for tests and simulation.
 *
 * The runtime takes a {@linkcode Clock} and never calls `Date.now` or `setTimeout`
 * itself, so a test can drive time step by step.
 *
 * @module
 */

/** A handle to a scheduled callback. */
export type TimerHandle = number;

/** Processing time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The wall clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (handle) => clearTimeout(handle),
};

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that moves only when told to. Callbacks due at the same time run in the
 * order they were scheduled.
 *
 * @example
 * ```ts
 * import { VirtualClock } from "./clock.ts";
 * const clock = new VirtualClock(0);
 * let fired = false;
 * clock.setTimeout(() => fired = true, 10);
 * clock.advance(10); // fired === true
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers = new Map<number, Scheduled>();

  constructor(start_ms = 0) {
    this.#now = start_ms;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const seq = ++this.#seq;
    this.#timers.set(seq, { at: this.#now + Math.max(0, ms), seq, fn });
    return seq;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** Moves time forward by `ms`, running every callback that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Moves time to `t` (never backwards), running due callbacks in time order. */
  advanceTo(t: number): void {
    for (;;) {
      const next = this.#nextDue(t);
      if (!next) break;
      this.#timers.delete(next.seq);
      this.#now = Math.max(this.#now, next.at);
      next.fn();
    }
    this.#now = Math.max(this.#now, t);
  }

  /** Callbacks still scheduled. */
  get pending(): number {
    return this.#timers.size;
  }

  #nextDue(t: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const s of this.#timers.values()) {
      if (s.at <= t && (!best || s.at < best.at || (s.at === best.at && s.seq < best.seq))) {
        best = s;
      }
    }
    return best;
  }
}

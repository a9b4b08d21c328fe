/**
 * Supervision strategies as data, and the one pure function that decides what
 * happens when an actor fails.
 *
 * The default, as in Pekko, is to stop. Restarts resume from the last good state:
 * behaviours never mutate their state, so the state before the failed turn is intact.
 *
 * @module
 */

/** Stop the actor: its state is dropped and the failed message dead-lettered. */
export interface Stop {
  kind: "stop";
}

/** Keep the state, skip the failed message (dead-lettered). */
export interface Resume {
  kind: "resume";
}

/**
 * Restart from the last good state and retry the failed message up to
 * `max_retries` times; past `max_restarts` restarts within `within_ms` the key is
 * quarantined.
 */
export interface Restart {
  kind: "restart";
  max_retries: number;
  max_restarts: number;
  within_ms: number;
}

/** Like {@linkcode Restart}, but each retry waits `min_ms · 2^(attempt-1)` (≤ `max_ms`) plus jitter. */
export interface Backoff {
  kind: "backoff";
  max_retries: number;
  max_restarts: number;
  within_ms: number;
  min_ms: number;
  max_ms: number;
  /** Fraction of the delay added at random, 0..1. */
  jitter: number;
}

/** A supervision strategy. */
export type Strategy = Stop | Resume | Restart | Backoff;

/** What the supervisor knows when a turn fails. */
export interface Failure {
  /** 1 for the first failure of this message, 2 for the first retry's failure, … */
  attempt: number;
  /** Times (ms) of this key's earlier restarts, any order. */
  restarts_ms: readonly number[];
  now_ms: number;
}

/** What to do about a failure. */
export type Directive =
  | { action: "stop" }
  | { action: "resume" }
  /** Restart from the last good state and run the message again after `delay_ms`. */
  | { action: "retry"; delay_ms: number }
  /** Restart from the last good state; the message has had its retries and is dead-lettered. */
  | { action: "skip" }
  /** The key failed too often: dead-letter this and later messages for a while. */
  | { action: "quarantine" };

/**
 * Decides what happens after a failure. Pure: the same inputs give the same answer,
 * and randomness (for jitter) comes from `random`.
 *
 * @example
 * ```ts
 * import { decide } from "./strategy.ts";
 * decide({ kind: "restart", max_retries: 2, max_restarts: 5, within_ms: 60_000 },
 *   { attempt: 1, restarts_ms: [], now_ms: 0 }, Math.random); // { action: "retry", delay_ms: 0 }
 * ```
 */
export function decide(strategy: Strategy, failure: Failure, random: () => number): Directive {
  switch (strategy.kind) {
    case "stop":
      return { action: "stop" };
    case "resume":
      return { action: "resume" };
    case "restart":
    case "backoff": {
      const since = failure.now_ms - strategy.within_ms;
      let recent = 0;
      for (const t of failure.restarts_ms) if (t > since) recent++;
      if (recent + 1 > strategy.max_restarts) return { action: "quarantine" };
      if (failure.attempt > strategy.max_retries) return { action: "skip" };
      if (strategy.kind === "restart") return { action: "retry", delay_ms: 0 };
      return { action: "retry", delay_ms: backoffDelay(strategy, failure.attempt, random) };
    }
  }
}

/** The delay before retry number `attempt` (1-based) under a backoff strategy. */
export function backoffDelay(strategy: Backoff, attempt: number, random: () => number): number {
  const base = Math.min(strategy.max_ms, strategy.min_ms * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (1 + strategy.jitter * random()));
}

/** Whether `failures` within `window_ms` of `now_ms` exceed a supervisor's intensity. */
export function exceedsIntensity(
  failures_ms: readonly number[],
  now_ms: number,
  max: number,
  window_ms: number,
): boolean {
  let n = 0;
  for (const t of failures_ms) if (t > now_ms - window_ms) n++;
  return n > max;
}

/**
 * Supervision strategies as data, and the one pure function that decides what
 * happens when an actor fails.
 *
 * The runtime's default is `backoff`, with the limits of `supervision` in the
 * configuration (`actors/runtime.ts`); a type may be given another. Every strategy but
 * `stop` keeps the last good state: behaviours never mutate their state, so the state
 * before the failed turn is intact, and a restart, a resume and a skip all go on from it.
 *
 * @module
 */

/** Stop the actor: its state is dropped and the failed message dead-lettered. */
export interface Stop {
  kind: "stop";
}

/** Keep the state and dead-letter the failed message at once, without retrying it. */
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
  /**
   * The message has had its retries: it is dead-lettered and the actor goes on from its
   * last good state (what `resume` does at the first failure).
   */
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

/**
 * The wait before try number `attempt` (1-based) of anything retried with exponential
 * backoff: `min_ms · 2^(attempt-1)`, at most `max_ms`. Actors' retries (with jitter, in
 * `backoffDelay`), snapshot loads, the intake's flushes, notifications and connecting to
 * Kafka all wait by it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exponentialDelay } from "./strategy.ts";
 * assert.deepEqual([1, 2, 3, 9].map((a) => exponentialDelay(100, 1_000, a)), [100, 200, 400, 1_000]);
 * ```
 */
export function exponentialDelay(min_ms: number, max_ms: number, attempt: number): number {
  return Math.min(max_ms, min_ms * 2 ** Math.min(Math.max(0, attempt - 1), 40));
}

/** The delay before retry number `attempt` (1-based) under a backoff strategy. */
export function backoffDelay(strategy: Backoff, attempt: number, random: () => number): number {
  const base = exponentialDelay(strategy.min_ms, strategy.max_ms, attempt);
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

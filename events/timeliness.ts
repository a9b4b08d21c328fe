/**
 * Whether an event comes in time: the one rule the intake dead-letters by and the HTTP
 * ingest answers by, so both say the same of the same event. An event is `future` when
 * its time is more than the allowed margin ahead of the clock (one wrong clock must not
 * push a partition's event time on), `late` when it is older than the watermark of the
 * lane (actor type and partition) it goes to, and `on_time` otherwise.
 *
 * @module
 */

/** The judgement of an event's time. */
export type Timeliness =
  | { verdict: "on_time" }
  | { verdict: "future"; ahead_ms: number; max_future_ms: number }
  | { verdict: "late"; behind_ms: number; watermark_ms: number };

/** What an event's time is judged against. */
export interface TimeBounds {
  /** The clock (ms). */
  now_ms: number;
  /** How far ahead of the clock an event may be. */
  max_future_ms: number;
  /** The watermark of the event's lane (-Infinity: none yet; omitted: not judged here). */
  watermark_ms?: number;
}

/**
 * Whether an event at `event_ms` is too far ahead of the clock: how far ahead, or null.
 *
 * @example
 * ```ts
 * import { aheadOfClock } from "./timeliness.ts";
 * aheadOfClock(10_000, 0, 5_000); // 10000
 * aheadOfClock(4_000, 0, 5_000); // null
 * ```
 */
export function aheadOfClock(
  event_ms: number,
  now_ms: number,
  max_future_ms: number,
): number | null {
  const ahead = event_ms - now_ms;
  return ahead > max_future_ms ? ahead : null;
}

/**
 * Whether an event at `event_ms` is older than a lane's watermark (an event at the
 * watermark is in time).
 *
 * @example
 * ```ts
 * import { isLate } from "./timeliness.ts";
 * isLate(99, 100); // true
 * isLate(100, 100); // false
 * ```
 */
export function isLate(event_ms: number, watermark_ms: number): boolean {
  return event_ms < watermark_ms;
}

/**
 * The judgement of an event's time: future first (the clock is known everywhere), then
 * late against the lane's watermark when one is given.
 *
 * @example
 * ```ts
 * import { timeliness } from "./timeliness.ts";
 * timeliness(0, { now_ms: 120_000, max_future_ms: 600_000, watermark_ms: 60_000 });
 * // { verdict: "late", behind_ms: 60000, watermark_ms: 60000 }
 * ```
 */
export function timeliness(event_ms: number, bounds: TimeBounds): Timeliness {
  const ahead = aheadOfClock(event_ms, bounds.now_ms, bounds.max_future_ms);
  if (ahead !== null) {
    return { verdict: "future", ahead_ms: ahead, max_future_ms: bounds.max_future_ms };
  }
  const wm = bounds.watermark_ms;
  if (wm !== undefined && isLate(event_ms, wm)) {
    return { verdict: "late", behind_ms: wm - event_ms, watermark_ms: wm };
  }
  return { verdict: "on_time" };
}

/** The reason a future event is dead-lettered with. */
export function futureReason(event_id: string, ahead_ms: number, max_future_ms: number): string {
  return `Cannot accept event ${event_id}: its time is ${ahead_ms} ms ahead of the clock ` +
    `(more than the allowed ${max_future_ms} ms); check the producer's clock`;
}

/** The reason a late event is dead-lettered with. */
export function lateReason(
  event_id: string,
  behind_ms: number,
  type: string,
  partition: number,
): string {
  return `Cannot accept event ${event_id}: it is ${behind_ms} ms older than ` +
    `the ${type} watermark of partition ${partition} (past the allowed lateness)`;
}

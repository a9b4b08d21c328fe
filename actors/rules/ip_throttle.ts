/**
 * `ip.throttle` (docs/detections.md, after Auth0's suspicious-IP throttling): each IP has a
 * token bucket of failed logins, 100 to start with and refilled by one every 14.4 min
 * (100 a day); a failure that finds the bucket empty fires the rule, once per episode
 * (cool-down). Pure functions in event time.
 *
 * @module
 */

import type { AlertLimits, IpRules } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import type { AlertDraft } from "../types.ts";
import { cooledDown } from "../window.ts";

/**
 * One IP's bucket. Its content is kept in milliseconds of refill (a token is
 * `throttle_refill_ms` of it), whole numbers, so the arithmetic is exact and the order
 * in which failures arrive cannot change it by rounding.
 */
export interface Bucket {
  /** Credit left as of `at_ms`, in ms of refill. */
  readonly credit_ms: number;
  /** Event time the tokens are counted at (null: never used, the bucket is full). */
  readonly at_ms: number | null;
  /** Event time of the last alert (cool-down). */
  readonly alert_ms: number | null;
}

/** A bucket never used: full. */
export const FULL: Bucket = Object.freeze({ credit_ms: 0, at_ms: null, alert_ms: null });

/** The credit of a bucket at `ts`, in ms of refill (never above capacity; time never runs back). */
export function creditAt(b: Bucket, ts: number, r: IpRules): number {
  const full = r.throttle_capacity * r.throttle_refill_ms;
  if (b.at_ms === null) return full;
  return Math.min(full, b.credit_ms + Math.max(0, ts - b.at_ms));
}

/**
 * A failed login from the IP: it takes a token, or fires the rule when there is none.
 * The IP actor calls it in time order (as the watermark passes each failure); a failure
 * given out of order takes its token at the latest time the bucket has seen.
 */
export function onThrottledFailure(
  b: Bucket,
  e: Pick<AuthEvent, "ts" | "event_id" | "user_id" | "ip">,
  p: { ip: IpRules; alerts: AlertLimits },
  quiet = false,
): { bucket: Bucket; alert: AlertDraft | null } {
  const r = p.ip;
  const at = b.at_ms === null ? e.ts : Math.max(b.at_ms, e.ts);
  const credit = creditAt(b, at, r);
  if (credit >= r.throttle_refill_ms) {
    return { bucket: { ...b, credit_ms: credit - r.throttle_refill_ms, at_ms: at }, alert: null };
  }
  const tokens = credit / r.throttle_refill_ms;
  if (quiet) return { bucket: { ...b, credit_ms: credit, at_ms: at }, alert: null };
  const cooled = cooledDown(b.alert_ms, e.ts, p.alerts.cooldown_ms);
  const bucket = { credit_ms: credit, at_ms: at, alert_ms: cooled ? e.ts : b.alert_ms };
  if (!cooled) return { bucket, alert: null };
  const per_day = 86_400_000 / r.throttle_refill_ms;
  return {
    bucket,
    alert: {
      rule: "ip.throttle",
      severity: "medium",
      entity: { type: "ip", key: e.ip! },
      ts: e.ts,
      evidence: {
        capacity: r.throttle_capacity,
        refill_per_day: Math.round(per_day * 100) / 100,
        tokens_left: Math.floor(tokens * 100) / 100,
        next_token_in_s: Math.ceil((r.throttle_refill_ms - credit) / 1000),
        user_id: e.user_id,
      },
      event_ids: [e.event_id],
      dedup: e.event_id,
    },
  };
}

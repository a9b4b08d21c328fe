/**
 * `auth.brute_force` and `auth.success_after_failures` (docs/detections.md), as pure
 * functions over a user's recent failed logins.
 *
 * Brute force follows Keycloak: each failure at or past the threshold is one
 * escalation step, and the lock hint grows by a fixed step up to a maximum; the
 * counter resets after a quiet period. A success clears the failures that came from
 * its own IP (the user proved the password there, as Keycloak's reset on success),
 * but not those from other addresses: a victim logging in from home does not wipe an
 * attacker's ongoing attempts. Success-after-failures, like Elastic's rule, counts
 * the failures from the same source IP as the success.
 *
 * @module
 */

import type { AlertLimits, AuthRules } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import type { AlertDraft } from "../types.ts";
import {
  addRecent,
  cooledDown,
  distinctTags,
  EMPTY_RECENT,
  type Recent,
  within,
} from "../window.ts";

/** What the failure rules remember about one user. */
export interface FailureState {
  /** Recent failures (time, event id, source IP). */
  readonly failures: Recent;
  /** Failures since the last success or reset. */
  readonly streak: number;
  /** Time of the latest failure (null: none yet). */
  readonly last_failure_ms: number | null;
  /** Escalation steps of the current brute-force episode. */
  readonly step: number;
  /** Event time of the last alert of each rule (cool-down). */
  readonly brute_force_alert_ms: number | null;
  readonly success_alert_ms: number | null;
  /** Alerts raised so far, which numbers episodes for deterministic alert ids. */
  readonly alerts: number;
}

/** The state of a user with no failures. */
export const NO_FAILURES: FailureState = Object.freeze({
  failures: EMPTY_RECENT,
  streak: 0,
  last_failure_ms: null,
  step: 0,
  brute_force_alert_ms: null,
  success_alert_ms: null,
  alerts: 0,
});

/** Parameters the failure rules read. */
export interface FailureParams {
  auth: AuthRules;
  alerts: AlertLimits;
}

/** The result of one rule evaluation: the next state and the alert, if any. */
export interface RuleOutcome {
  state: FailureState;
  alert: AlertDraft | null;
}

/** A failed login: counts it, and raises `auth.brute_force` at the threshold. */
export function onFailure(s: FailureState, e: AuthEvent, p: FailureParams): RuleOutcome {
  // A producer that retried may deliver the same event twice: count it once.
  if (s.failures.ids.includes(e.event_id)) return { state: s, alert: null };
  const a = p.auth;
  const quiet = s.last_failure_ms !== null && e.ts - s.last_failure_ms > a.brute_force_reset_ms;
  const base = quiet ? { ...s, failures: EMPTY_RECENT, streak: 0, step: 0 } : s;
  const cap = Math.max(
    a.brute_force_failures,
    a.success_after_failures_min,
    a.max_failures_tracked,
  );
  const failures = addRecent(
    base.failures,
    e.ts,
    e.event_id,
    e.ip ?? "",
    a.brute_force_window_ms,
    cap,
  );
  const newest = failures.ts[failures.ts.length - 1]!;
  const inWindow = within(failures, newest - a.brute_force_window_ms, newest);
  let next: FailureState = {
    ...base,
    failures,
    streak: base.streak + 1,
    last_failure_ms: Math.max(e.ts, s.last_failure_ms ?? e.ts),
  };
  if (inWindow.ts.length < a.brute_force_failures) return { state: next, alert: null };
  const step = base.step + 1;
  next = { ...next, step };
  if (!cooledDown(next.brute_force_alert_ms, e.ts, p.alerts.cooldown_ms)) {
    return { state: next, alert: null };
  }
  const lock_ms = Math.min(step * a.brute_force_lock_step_ms, a.brute_force_lock_max_ms);
  const alert: AlertDraft = {
    rule: "auth.brute_force",
    severity: lock_ms >= a.brute_force_lock_max_ms ? "high" : "medium",
    entity: { type: "user", key: e.user_id },
    ts: e.ts,
    evidence: {
      failures_in_window: inWindow.ts.length,
      threshold: a.brute_force_failures,
      window_ms: a.brute_force_window_ms,
      first_failure: iso(inWindow.ts[0]!),
      last_failure: iso(newest),
      failures_since_reset: next.streak,
      source_ips: distinctTags(inWindow),
      escalation_step: step,
      lock_seconds: lock_ms / 1000,
    },
    event_ids: [...inWindow.ids],
    dedup: `${e.event_id}#${next.alerts}`,
  };
  return { state: { ...next, brute_force_alert_ms: e.ts, alerts: next.alerts + 1 }, alert };
}

/** A successful login: raises `auth.success_after_failures` after a burst from its IP. */
export function onSuccess(s: FailureState, e: AuthEvent, p: FailureParams): RuleOutcome {
  const a = p.auth;
  const ip = e.ip ?? "";
  const fromIp = onlyTag(s.failures, ip);
  const recent = within(fromIp, e.ts - a.success_after_failures_window_ms, e.ts);
  const cleared = clearTag(s, ip);
  if (
    recent.ts.length < a.success_after_failures_min ||
    !cooledDown(s.success_alert_ms, e.ts, p.alerts.cooldown_ms)
  ) {
    return { state: cleared, alert: null };
  }
  const alert: AlertDraft = {
    rule: "auth.success_after_failures",
    // An attempt that may have worked: `user.compromise_after_attack` says whether it did.
    severity: "medium",
    entity: { type: "user", key: e.user_id },
    ts: e.ts,
    evidence: {
      failures_before_success: recent.ts.length,
      threshold: a.success_after_failures_min,
      window_ms: a.success_after_failures_window_ms,
      first_failure: iso(recent.ts[0]!),
      success_at: iso(e.ts),
      source_ip: e.ip ?? null,
      country: e.country ?? null,
      device_id: e.device_id ?? null,
    },
    event_ids: [...recent.ids, e.event_id],
    dedup: `${e.event_id}#${s.alerts}`,
  };
  return { state: { ...cleared, success_alert_ms: e.ts, alerts: s.alerts + 1 }, alert };
}

/** The state without the failures from `ip`; the streak and escalation reset once none remain. */
function clearTag(s: FailureState, ip: string): FailureState {
  if (!s.failures.tags.includes(ip)) return s;
  const failures = onlyTag(s.failures, ip, true);
  if (failures.ts.length > 0) return { ...s, failures };
  return { ...s, failures: EMPTY_RECENT, streak: 0, step: 0 };
}

function onlyTag(w: Recent, tag: string, except = false): Recent {
  const keep: number[] = [];
  w.tags.forEach((t, i) => {
    if ((t === tag) !== except) keep.push(i);
  });
  if (keep.length === w.ts.length) return w;
  return {
    ts: keep.map((i) => w.ts[i]!),
    ids: keep.map((i) => w.ids[i]!),
    tags: keep.map((i) => w.tags[i]!),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

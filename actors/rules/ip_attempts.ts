/**
 * `ip.password_spray` and `ip.credential_stuffing` (DETECTIONS.md), as pure functions
 * over the failed logins seen from one IP, whoever the users.
 *
 * A spray tries a few passwords against each of several users (Elastic, Okta, Entra:
 * ≥ 5 users with 2–8 failures each, ≥ 15 failures, in 1 h); stuffing tries leaked
 * credential pairs, so many users once or twice each (≥ 15 users, ≥ 25 failures, ≤ 2 per
 * user for ≥ 80 % of them, in 1 h). Each rule alerts once per episode: after an alert,
 * only failures after it count towards the next one, and not before the cool-down.
 *
 * @module
 */

import type { AlertLimits, IpRules } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import type { AlertDraft } from "../types.ts";
import { addRecent, EMPTY_RECENT, type Recent } from "../window.ts";

/** The entity type of per-IP alerts (DETECTIONS.md), the same as the actor type. */
const IP_ENTITY = "ip";

/** What the rules remember about one IP. */
export interface AttemptState {
  /** Recent failed logins (time, event id, user). */
  readonly failures: Recent;
  /** Event time of the last alert of each rule (episodes and cool-down). */
  readonly spray_alert_ms: number | null;
  readonly stuffing_alert_ms: number | null;
  /** Alerts raised so far, which numbers episodes for deterministic alert ids. */
  readonly alerts: number;
}

/** An IP with no failures. */
export const NO_ATTEMPTS: AttemptState = Object.freeze({
  failures: EMPTY_RECENT,
  spray_alert_ms: null,
  stuffing_alert_ms: null,
  alerts: 0,
});

/** Parameters the rules read. */
export interface AttemptParams {
  ip: IpRules;
  alerts: AlertLimits;
}

/** The next state and the alerts, if any. */
export interface AttemptOutcome {
  state: AttemptState;
  alerts: AlertDraft[];
}

/** Failed logins from the IP within `(from_ms, to_ms]`. */
export function failuresIn(s: AttemptState, from_ms: number, to_ms: number): number {
  let n = 0;
  for (const t of s.failures.ts) if (t > from_ms && t <= to_ms) n++;
  return n;
}

/** Failures per user within `(from_ms, to_ms]`, with their event ids. */
interface PerUser {
  counts: Map<string, number>;
  total: number;
  ids: string[];
}

function perUser(w: Recent, from_ms: number, to_ms: number): PerUser {
  const counts = new Map<string, number>();
  const ids: string[] = [];
  for (let i = 0; i < w.ts.length; i++) {
    const t = w.ts[i]!;
    if (t <= from_ms || t > to_ms) continue;
    const user = w.tags[i]!;
    counts.set(user, (counts.get(user) ?? 0) + 1);
    ids.push(w.ids[i]!);
  }
  return { counts, total: ids.length, ids };
}

/**
 * A failed login from this IP: counts it, and raises the rules at their thresholds
 * (`quiet`: counts it only, the address being shared by real users).
 */
export function onIpFailure(
  s: AttemptState,
  e: AuthEvent,
  p: AttemptParams,
  quiet = false,
): AttemptOutcome {
  // The re-key topic may carry an event twice (a worker died before committing): once.
  if (s.failures.ids.includes(e.event_id)) return { state: s, alerts: [] };
  const r = p.ip;
  const span = Math.max(r.spray_window_ms, r.stuffing_window_ms);
  let state: AttemptState = {
    ...s,
    failures: addRecent(s.failures, e.ts, e.event_id, e.user_id, span, r.max_failures_tracked),
  };
  const alerts: AlertDraft[] = [];
  if (quiet) return { state, alerts };
  const ip = e.ip!;
  // Re-keyed attempts from several source partitions arrive slightly out of order: a late
  // failure changes the windows that end at it and at every later failure seen, so the
  // rules are judged at each of those times, earliest first (in time order that is only
  // the failure itself).
  const stuffing = decisive(state, e.ts, (at) => evaluateStuffing(state, at, r, p.alerts));
  if (stuffing) {
    alerts.push(draft("ip.credential_stuffing", ip, stuffing.at, state.alerts, stuffing.found));
    state = { ...state, stuffing_alert_ms: stuffing.at, alerts: state.alerts + 1 };
  }
  const spray = decisive(state, e.ts, (at) => evaluateSpray(state, at, r, p.alerts));
  if (spray) {
    alerts.push(draft("ip.password_spray", ip, spray.at, state.alerts, spray.found));
    state = { ...state, spray_alert_ms: spray.at, alerts: state.alerts + 1 };
  }
  return { state, alerts };
}

/** Later failure times a late failure has its windows judged at, at most. */
const LOOKAHEAD = 64;

/**
 * The first time, from a failure's own time `from` on, at which the failures up to it
 * meet a rule: the failure's own time and those of failures seen after it (up to
 * `LOOKAHEAD` of them, then the newest). A failure that arrives late (from another source
 * partition) so raises the alert, with the time and failures, that it raises when the
 * failures come in time order; unless the failures seen before it had already met the
 * rule without it (an alert is not taken back).
 */
function decisive(
  s: AttemptState,
  from: number,
  evaluate: (at: number) => Finding | null,
): { at: number; found: Finding } | null {
  const ts = s.failures.ts;
  let i = ts.length - 1;
  while (i > 0 && ts[i - 1]! >= from) i--;
  const newest = ts[ts.length - 1]!;
  for (let n = 0; i < ts.length; i++) {
    const at = ts[i]!;
    if (at < from || (i + 1 < ts.length && ts[i + 1] === at)) continue;
    if (++n > LOOKAHEAD && at !== newest) continue;
    const found = evaluate(at);
    if (found) return { at, found };
  }
  return null;
}

interface Finding {
  users: number;
  attempts: number;
  per_user: Record<string, number>;
  ids: string[];
  window_ms: number;
}

/**
 * A rule's failures per user: within its window and after its last alert (an episode),
 * or null while it cools down.
 */
function episode(
  s: AttemptState,
  last_alert_ms: number | null,
  window_ms: number,
  now: number,
  cooldown_ms: number,
): PerUser | null {
  if (last_alert_ms !== null && now - last_alert_ms < cooldown_ms) return null;
  return perUser(s.failures, Math.max(now - window_ms, last_alert_ms ?? -Infinity), now);
}

function evaluateSpray(
  s: AttemptState,
  now: number,
  r: IpRules,
  a: AlertLimits,
): Finding | null {
  const u = episode(s, s.spray_alert_ms, r.spray_window_ms, now, a.cooldown_ms);
  if (!u) return null;
  let users = 0, attempts = 0;
  for (const n of u.counts.values()) {
    if (n >= r.spray_min_per_user && n <= r.spray_max_per_user) {
      users++;
      attempts += n;
    }
  }
  if (users < r.spray_min_users || attempts < r.spray_min_attempts) return null;
  return finding(u, users, attempts, r.spray_window_ms);
}

function evaluateStuffing(
  s: AttemptState,
  now: number,
  r: IpRules,
  a: AlertLimits,
): Finding | null {
  const u = episode(s, s.stuffing_alert_ms, r.stuffing_window_ms, now, a.cooldown_ms);
  if (!u) return null;
  const users = u.counts.size;
  if (users < r.stuffing_min_users || u.total < r.stuffing_min_attempts) return null;
  let few = 0;
  for (const n of u.counts.values()) if (n <= r.stuffing_max_per_user) few++;
  if (few / users < r.stuffing_min_share) return null;
  return finding(u, users, u.total, r.stuffing_window_ms);
}

/** The evidence: counts, and the users tried most (bounded). */
function finding(u: PerUser, users: number, attempts: number, window_ms: number): Finding {
  const top = [...u.counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 10);
  return { users, attempts, per_user: Object.fromEntries(top), ids: u.ids, window_ms };
}

function draft(rule: string, ip: string, ts: number, episode: number, f: Finding): AlertDraft {
  return {
    rule,
    severity: "high",
    entity: { type: IP_ENTITY, key: ip },
    ts,
    evidence: {
      users: f.users,
      failed_logins: f.attempts,
      window_s: f.window_ms / 1000,
      most_tried_users: f.per_user,
    },
    event_ids: f.ids,
    dedup: String(episode),
  };
}

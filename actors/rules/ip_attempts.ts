/**
 * `ip.password_spray` and `ip.credential_stuffing` (docs/detections.md), as pure functions
 * over the failed logins seen from one IP, whoever the users.
 *
 * Stuffing tries leaked credential pairs, so many users about once each (Okta's and
 * Elastic's credential-stuffing detections: ≥ 15 users, ≥ 25 failures, one try for ≥ 80 %
 * of them, in 1 h); a spray tries a few common passwords in rounds against fewer users,
 * so several tries each (Entra's and Elastic's password spray: ≥ 5 users with 3–8
 * failures each, ≥ 15 failures, in 1 h). The two are one campaign's two readings and are
 * disjoint: failures that read as stuffing are stuffing, and a campaign alerts once per
 * episode whichever rule it raised: after an alert, only failures after it count towards
 * the next one, and not before the cool-down. A steady attack trying many users twice
 * each is neither (`ip.throttle` catches it).
 *
 * @module
 */

import type { AlertLimits, IpRules } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import type { AlertDraft, IncidentHint } from "../types.ts";
import { addRecent, EMPTY_RECENT, type Recent } from "../window.ts";

/** The entity type of per-IP alerts (docs/detections.md), the same as the actor type. */
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
 * A failed login from this IP, counted (not judged: see `judgeAt`). Failures are kept
 * while a judgment to come may need them: within the longest window before the last time
 * judged (`judged_ms`), at most `max_failures_tracked`. A repeat (the re-key topic may
 * carry an event twice when a worker died before committing) gives the same state back.
 */
export function recordFailure(
  s: AttemptState,
  e: AuthEvent,
  p: AttemptParams,
  judged_ms: number | null,
): AttemptState {
  if (s.failures.ids.includes(e.event_id)) return s;
  const r = p.ip;
  const w = addRecent(s.failures, e.ts, e.event_id, e.user_id, Infinity, r.max_failures_tracked);
  return { ...s, failures: judged_ms === null ? w : keepFrom(w, judged_ms - span(r)) };
}

/** Drops the failures a judgment after `judged_ms` cannot need any more. */
export function forgetBefore(s: AttemptState, judged_ms: number, p: AttemptParams): AttemptState {
  const w = keepFrom(s.failures, judged_ms - span(p.ip));
  return w === s.failures ? s : { ...s, failures: w };
}

/** The longest window of the rules. */
function span(r: IpRules): number {
  return Math.max(r.spray_window_ms, r.stuffing_window_ms);
}

/** A window without its occurrences at or before `from_ms`. */
function keepFrom(w: Recent, from_ms: number): Recent {
  let drop = 0;
  while (drop < w.ts.length && w.ts[drop]! <= from_ms) drop++;
  if (drop === 0) return w;
  return { ts: w.ts.slice(drop), ids: w.ids.slice(drop), tags: w.tags.slice(drop) };
}

/**
 * The rules judged at event time `at`, over the failures up to it: called once per
 * distinct failure time, in time order, once no failure at or before `at` can still come
 * (the watermark has passed it), so the alerts are those of time order whatever the
 * order the failures arrived in. `quiet`: the address is shared by real users, no alert.
 */
export function judgeAt(
  s: AttemptState,
  at: number,
  ip: string,
  p: AttemptParams,
  quiet = false,
): AttemptOutcome {
  const alerts: AlertDraft[] = [];
  if (quiet) return { state: s, alerts };
  const stuffing = evaluateStuffing(s, at, p.ip, p.alerts);
  if (stuffing) {
    alerts.push(draft("ip.credential_stuffing", ip, at, s.alerts, stuffing));
    return { state: { ...s, stuffing_alert_ms: at, alerts: s.alerts + 1 }, alerts };
  }
  const spray = evaluateSpray(s, at, p.ip, p.alerts);
  if (spray) {
    alerts.push(draft("ip.password_spray", ip, at, s.alerts, spray));
    return { state: { ...s, spray_alert_ms: at, alerts: s.alerts + 1 }, alerts };
  }
  return { state: s, alerts };
}

interface Finding {
  users: number;
  attempts: number;
  per_user: Record<string, number>;
  ids: string[];
  window_ms: number;
}

/** Event time of the campaign's last alert, whichever rule raised it (null: none yet). */
export function lastCampaignAlert(s: AttemptState): number | null {
  const a = s.spray_alert_ms, b = s.stuffing_alert_ms;
  return a === null ? b : b === null ? a : Math.max(a, b);
}

/**
 * A rule's failures per user: within its window and after the campaign's last alert (an
 * episode), or null while it cools down.
 */
function episode(
  s: AttemptState,
  window_ms: number,
  now: number,
  cooldown_ms: number,
): PerUser | null {
  const last_alert_ms = lastCampaignAlert(s);
  if (last_alert_ms !== null && now - last_alert_ms < cooldown_ms) return null;
  return perUser(s.failures, Math.max(now - window_ms, last_alert_ms ?? -Infinity), now);
}

function evaluateSpray(
  s: AttemptState,
  now: number,
  r: IpRules,
  a: AlertLimits,
): Finding | null {
  const u = episode(s, r.spray_window_ms, now, a.cooldown_ms);
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
  const u = episode(s, r.stuffing_window_ms, now, a.cooldown_ms);
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
  const entity = { type: IP_ENTITY, key: ip };
  return {
    rule,
    // An attempt across many accounts: none of them is known to be broken into yet.
    severity: "medium",
    entity,
    ts,
    evidence: {
      users: f.users,
      failed_logins: f.attempts,
      window_s: f.window_ms / 1000,
      most_tried_users: f.per_user,
    },
    event_ids: f.ids,
    dedup: String(episode),
    incident: campaignIncident(ip, rule, String(episode)),
  };
}

/**
 * The incident of an address's campaign: its alert, the throttle's during it, and the
 * compromises of the users it tried (their `targeted` word names the same rule and
 * episode).
 */
export function campaignIncident(ip: string, rule: string, episode: string): IncidentHint {
  return { anchor: { type: IP_ENTITY, key: ip }, episode: `${rule}:${episode}` };
}

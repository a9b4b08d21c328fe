/**
 * The per-IP actor (key: the source IP of auth events). Auth events arrive keyed by
 * user; the intake re-keys each login attempt by its IP (through the internal re-key
 * topic, or directly in a replay), so every attempt from one IP meets in one actor
 * whichever users it tried. It runs the per-IP rules.
 *
 * @module
 */

import type { AlertLimits, IpRules, UserChainRules } from "../config/defaults.ts";
import type { AuthEvent } from "../events/types.ts";
import {
  type AttemptState,
  campaignIncident,
  failuresIn,
  forgetBefore,
  judgeAt,
  NO_ATTEMPTS,
  recordFailure,
} from "./rules/ip_attempts.ts";
import { type Bucket, FULL, onThrottledFailure } from "./rules/ip_throttle.ts";
import type { Targeted } from "./rules/user_rules.ts";
import { USER } from "./user.ts";
import { type Behaviour, type Effect, NO_EFFECTS, type Step, whenPassed } from "./types.ts";

/** The actor type name. */
export const IP = "ip";

/**
 * Messages an IP actor understands: a login attempt, and its judge timer (the watermark
 * has passed failures not judged yet).
 */
export type IpMessage =
  | { kind: "event"; event: AuthEvent }
  | { kind: "judge"; watermark_ms: number };

/** An IP's state. Never mutated: each turn returns a new one. */
export interface IpState {
  /** Failed logins counted (each event once). */
  readonly failed_logins: number;
  /** Event time of the latest attempt. */
  readonly last_attempt_ms: number | null;
  readonly attempts: AttemptState;
  /** The `ip.throttle` token bucket. */
  readonly bucket: Bucket;
  /**
   * The IP's latest spray or stuffing alert (its campaign): while it runs, every user the
   * IP goes on to try is told of it.
   */
  readonly campaign: Campaign | null;
  /** Failures up to this event time have been judged (null: none yet). */
  readonly judged_ms: number | null;
  /** Successful logins from the IP per minute of event time (minutes ascending). */
  readonly success_minutes: readonly number[];
  readonly success_counts: readonly number[];
  /**
   * The AS announcing the IP, as its attempts say (the IP database's, through the intake);
   * absent in a state kept before it was known, or when none said.
   */
  readonly asn?: number | null;
}

const INITIAL: IpState = Object.freeze({
  failed_logins: 0,
  last_attempt_ms: null,
  attempts: NO_ATTEMPTS,
  bucket: FULL,
  campaign: null,
  judged_ms: null,
  success_minutes: Object.freeze([]),
  success_counts: Object.freeze([]),
});

/** A spray or stuffing alert of the IP, as its targets are told of it. */
export interface Campaign {
  readonly rule: string;
  readonly episode: string;
  /** Event time of the alert, and until when users tried are told. */
  readonly at_ms: number;
  readonly until_ms: number;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** Minutes of successes kept: the hour before a judgment, and as much again of slack. */
const SUCCESS_MINUTES = 120;

/** The IP's state after a successful login at `ts` (one more in its minute), seen last at `last`. */
function countSuccess(s: IpState, ts: number, last: number): IpState {
  const minute = Math.floor(ts / MINUTE_MS);
  const was = s.success_minutes;
  let i = was.length;
  while (i > 0 && was[i - 1]! > minute) i--;
  // Arrays of their exact size (an insertion would leave room to grow in every state kept).
  let minutes: readonly number[], counts: number[];
  if (i > 0 && was[i - 1] === minute) {
    minutes = was; // the minutes are the same: shared (states are never written to)
    counts = s.success_counts.slice();
    counts[i - 1]!++;
  } else if (i === was.length) {
    minutes = was.concat(minute);
    counts = s.success_counts.concat(1);
  } else {
    minutes = [...was.slice(0, i), minute, ...was.slice(i)];
    counts = [...s.success_counts.slice(0, i), 1, ...s.success_counts.slice(i)];
  }
  // No judgment to come needs a minute an hour before the last one judged.
  const judged = s.judged_ms === null ? -Infinity : Math.floor(s.judged_ms / MINUTE_MS) - 60;
  let drop = 0;
  while (
    drop < minutes.length && (minutes[drop]! < judged || minutes.length - drop > SUCCESS_MINUTES)
  ) drop++;
  return {
    ...s,
    last_attempt_ms: last,
    success_minutes: drop > 0 ? minutes.slice(drop) : minutes,
    success_counts: drop > 0 ? counts.slice(drop) : counts,
  };
}

/**
 * Successful logins in the 60 whole minutes before the minute of `ts` (all of them
 * final once the watermark has passed `ts`, whatever order they came in).
 */
function successesBefore(s: IpState, ts: number): number {
  const minute = Math.floor(ts / MINUTE_MS);
  let n = 0;
  for (let i = 0; i < s.success_minutes.length; i++) {
    const m = s.success_minutes[i]!;
    if (m >= minute - 60 && m < minute) n += s.success_counts[i]!;
  }
  return n;
}

/**
 * Whether the address is shared by real users: at least `shared_success_ratio` successful
 * logins per failed one over the last hour (an office NAT: many people log in, a few
 * mistype). An attacker's address fails far more than it succeeds.
 */
function shared(s: IpState, ts: number, p: IpParams): boolean {
  const ratio = p.ip.shared_success_ratio;
  if (ratio <= 0) return false;
  const ok = successesBefore(s, ts);
  return ok > 0 && ok >= ratio * failuresIn(s.attempts, ts - HOUR_MS, ts);
}

/** The parameters an IP actor reads on every turn. */
export interface IpParams {
  ip: IpRules;
  alerts: AlertLimits;
  user: Pick<UserChainRules, "compromise_window_ms">;
}

/** Whether an auth event goes to the actor of its IP too. */
export function isIpAttempt(e: AuthEvent): boolean {
  return typeof e.ip === "string" && e.ip !== "" &&
    (e.type === "login_failure" || e.type === "login_success");
}

/** The IP behaviour, reading its parameters from `params` on every turn. */
export function ipBehaviour(params: IpParams): Behaviour<IpState, IpMessage> {
  return {
    type: IP,
    initial: () => INITIAL,
    receive: (stored, message, ctx) => {
      const state = current(stored);
      return message.kind === "judge"
        ? judge(state, message.watermark_ms, ctx.self.key, params)
        : receive(state, message.event, params);
    },
    view,
  };
}

/**
 * A state as this version keeps it. A checkpoint or snapshot written before failures were
 * judged at the watermark lacks the newer fields: its failures count as judged (they
 * were, on arrival), its successes start afresh, and it has no campaign running.
 */
function current(s: IpState): IpState {
  if (s.judged_ms !== undefined && s.success_minutes !== undefined && s.campaign !== undefined) {
    return s;
  }
  const ts = s.attempts.failures.ts;
  return {
    failed_logins: s.failed_logins,
    last_attempt_ms: s.last_attempt_ms,
    attempts: s.attempts,
    bucket: s.bucket,
    campaign: s.campaign ?? null,
    judged_ms: s.judged_ms ?? (ts.length > 0 ? ts[ts.length - 1]! : null),
    success_minutes: s.success_minutes ?? INITIAL.success_minutes,
    success_counts: s.success_counts ?? INITIAL.success_counts,
  };
}

/** The first failure not judged yet, if any. */
function firstPending(s: IpState): number | null {
  const ts = s.attempts.failures.ts;
  const judged = s.judged_ms ?? -Infinity;
  let i = ts.length;
  while (i > 0 && ts[i - 1]! > judged) i--;
  return i < ts.length ? ts[i]! : null;
}

/**
 * An attempt: counted. A failure waits to be judged until the watermark passes it, when
 * no earlier failure or success can still come: the rules then see what time order
 * shows them, whatever the order of arrival (re-keyed attempts come from several source
 * partitions, each a little behind or ahead).
 */
function receive(stored: IpState, e: AuthEvent, p: IpParams): Step<IpState> {
  const s = e.asn === undefined || stored.asn === e.asn ? stored : { ...stored, asn: e.asn };
  const last = s.last_attempt_ms === null || e.ts > s.last_attempt_ms ? e.ts : s.last_attempt_ms;
  if (e.type !== "login_failure") {
    return { state: countSuccess(s, e.ts, last), effects: NO_EFFECTS };
  }
  const attempts = recordFailure(s.attempts, e, p, s.judged_ms);
  if (attempts === s.attempts) return { state: s, effects: NO_EFFECTS }; // a repeat
  const pending = firstPending(s);
  const state: IpState = {
    ...s,
    failed_logins: s.failed_logins + 1,
    last_attempt_ms: last,
    attempts,
  };
  // The timer is due at the first failure waiting (an earlier one arriving moves it).
  const due = s.judged_ms === null || e.ts > s.judged_ms;
  return {
    state,
    effects: due && (pending === null || e.ts < pending) ? [whenPassed("judge", e.ts)] : NO_EFFECTS,
  };
}

/**
 * The watermark passed failures not judged yet: each distinct time before it, in time
 * order, takes its throttle tokens and has the rules judged at it; the users tried are
 * told of the campaign running then.
 */
function judge(s: IpState, watermark_ms: number, ip: string, p: IpParams): Step<IpState> {
  const w = s.attempts.failures;
  const judged = s.judged_ms ?? -Infinity;
  let i = 0;
  while (i < w.ts.length && w.ts[i]! <= judged) i++;
  if (i >= w.ts.length || w.ts[i]! >= watermark_ms) return { state: s, effects: NO_EFFECTS };
  const effects: Effect[] = [];
  let attempts = s.attempts;
  let bucket = s.bucket;
  let campaign = s.campaign;
  let last = judged;
  while (i < w.ts.length && w.ts[i]! < watermark_ms) {
    const at = w.ts[i]!;
    let j = i;
    while (j < w.ts.length && w.ts[j] === at) j++;
    const quiet = shared({ ...s, attempts }, at, p);
    for (let k = i; k < j; k++) {
      const t = onThrottledFailure(
        bucket,
        { ts: at, event_id: w.ids[k]!, user_id: w.tags[k]!, ip },
        p,
        quiet,
      );
      bucket = t.bucket;
      if (t.alert) {
        // Throttled while a campaign runs: part of the campaign's incident.
        const during = campaign && at <= campaign.until_ms
          ? { ...t.alert, incident: campaignIncident(ip, campaign.rule, campaign.episode) }
          : t.alert;
        effects.push({ kind: "alert", alert: { ...during, decided: "watermark" } });
      }
    }
    const out = judgeAt(attempts, at, ip, p, quiet);
    attempts = out.state;
    if (out.alerts.length > 0) {
      // Every user the campaign tried is told, with the time they were first tried: a
      // success of theirs after it may be the attacker's.
      const first = new Map<string, number>();
      const from = at - Math.max(p.ip.spray_window_ms, p.ip.stuffing_window_ms);
      for (let k = 0; k < j; k++) {
        if (w.ts[k]! > from && !first.has(w.tags[k]!)) first.set(w.tags[k]!, w.ts[k]!);
      }
      for (const alert of out.alerts) {
        effects.push({ kind: "alert", alert: { ...alert, decided: "watermark" } });
        campaign = {
          rule: alert.rule,
          episode: alert.dedup,
          at_ms: at,
          until_ms: at + p.user.compromise_window_ms,
        };
        for (const [user, ts] of first) effects.push(tell(user, campaign, ip, ts, s.asn));
      }
    } else if (campaign && at <= campaign.until_ms) {
      // Tried while a campaign runs: told of it.
      for (let k = i; k < j; k++) effects.push(tell(w.tags[k]!, campaign, ip, at, s.asn));
    }
    last = at;
    i = j;
  }
  const state: IpState = {
    ...s,
    attempts: forgetBefore(attempts, last, p),
    bucket,
    campaign,
    judged_ms: last,
  };
  const next = firstPending(state);
  if (next !== null) effects.push(whenPassed("judge", next));
  return { state, effects };
}

/** A `targeted` message for a user's actor: tried by this IP's campaign at `ts`. */
function tell(
  user: string,
  c: { rule: string; episode: string },
  ip: string,
  ts: number,
  asn: number | null | undefined,
): Effect {
  const told: Targeted = { kind: "targeted", rule: c.rule, ip, episode: c.episode, ts };
  // The AS that attacked, when known: the user's judge looks for its other networks too.
  const message: Targeted = typeof asn === "number" ? { ...told, asn } : told;
  return { kind: "send", to: { type: USER, key: user }, message };
}

function view(s: IpState): unknown {
  const users = new Set(s.attempts.failures.tags);
  return {
    failed_logins: s.failed_logins,
    last_attempt: s.last_attempt_ms === null ? null : new Date(s.last_attempt_ms).toISOString(),
    recent_failures: s.attempts.failures.ts.length,
    recent_users: users.size,
    alerts_raised: s.attempts.alerts,
    // Failures are judged once the watermark passes them (null: none yet).
    judged_until: s.judged_ms === null ? null : new Date(s.judged_ms).toISOString(),
    // The throttle bucket as of the last failure it counted (null: never used, full).
    throttle_credit_ms: s.bucket.at_ms === null ? null : s.bucket.credit_ms,
    successes_last_hour: successesBefore(s, (s.last_attempt_ms ?? 0) + MINUTE_MS),
  };
}

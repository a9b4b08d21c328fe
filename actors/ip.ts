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
import { type AttemptState, failuresIn, NO_ATTEMPTS, onIpFailure } from "./rules/ip_attempts.ts";
import { type Bucket, FULL, onThrottledFailure } from "./rules/ip_throttle.ts";
import type { Targeted } from "./rules/user_rules.ts";
import { USER } from "./user.ts";
import { type Behaviour, type Effect, NO_EFFECTS, type Step } from "./types.ts";

/** The actor type name. */
export const IP = "ip";

/** Messages an IP actor understands. */
export type IpMessage = { kind: "event"; event: AuthEvent };

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
   * The IP's latest spray and stuffing alerts (campaigns), oldest first, at most
   * `MAX_CAMPAIGNS`: while one runs, every user the IP goes on to try is told of it.
   */
  readonly campaigns: readonly Campaign[];
  /**
   * Successful logins from the IP in the hour of event time `success_hour` and in the
   * hour before (a sliding hour, estimated from the two).
   */
  readonly success_hour: number;
  readonly successes: number;
  readonly successes_before: number;
}

const INITIAL: IpState = Object.freeze({
  failed_logins: 0,
  last_attempt_ms: null,
  attempts: NO_ATTEMPTS,
  bucket: FULL,
  campaigns: Object.freeze([]),
  success_hour: 0,
  successes: 0,
  successes_before: 0,
});

/** A spray or stuffing alert of the IP, as its targets are told of it. */
export interface Campaign {
  readonly rule: string;
  readonly episode: string;
  /** Event time of the alert, and until when users tried are told. */
  readonly at_ms: number;
  readonly until_ms: number;
}

/** Campaigns an IP remembers. */
const MAX_CAMPAIGNS = 4;

const HOUR_MS = 3_600_000;

/** The IP's state after a successful login at `ts` (one more in its hour). */
function countSuccess(s: IpState, ts: number): IpState {
  const hour = Math.floor(ts / HOUR_MS);
  if (hour === s.success_hour) return { ...s, successes: s.successes + 1 };
  if (hour === s.success_hour - 1) return { ...s, successes_before: s.successes_before + 1 };
  if (hour < s.success_hour) return s; // older than the hours kept
  return {
    ...s,
    success_hour: hour,
    successes: 1,
    successes_before: hour === s.success_hour + 1 ? s.successes : 0,
  };
}

/**
 * Successful logins in the hour before `ts`: the current hour's, and the hour before's in
 * the share of it still within the hour.
 */
function successesBefore(s: IpState, ts: number): number {
  const hour = Math.floor(ts / HOUR_MS);
  if (hour > s.success_hour + 1 || hour < s.success_hour) return 0;
  const into = (ts - hour * HOUR_MS) / HOUR_MS;
  return hour === s.success_hour
    ? s.successes + s.successes_before * (1 - into)
    : s.successes * (1 - into);
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
    receive: (state, message) => receive(state, message, params),
    view,
  };
}

function receive(s: IpState, m: IpMessage, p: IpParams): Step<IpState> {
  const e = m.event;
  const last = s.last_attempt_ms === null || e.ts > s.last_attempt_ms ? e.ts : s.last_attempt_ms;
  if (e.type !== "login_failure") {
    const counted = countSuccess(s, e.ts);
    return {
      state: last === counted.last_attempt_ms ? counted : { ...counted, last_attempt_ms: last },
      effects: NO_EFFECTS,
    };
  }
  const quiet = shared(s, e.ts, p);
  const out = onIpFailure(s.attempts, e, p, quiet);
  if (out.state === s.attempts) return { state: s, effects: NO_EFFECTS }; // a repeat
  const effects: Effect[] = out.alerts.map((alert) => ({ kind: "alert", alert }));
  const throttle = onThrottledFailure(s.bucket, e, p, quiet);
  if (throttle.alert) effects.push({ kind: "alert", alert: throttle.alert });
  let campaigns = s.campaigns;
  if (out.alerts.length > 0) {
    // Every user the campaign tried is told, with the time they were first tried: a
    // success of theirs after it may be the attacker's.
    const w = out.state.failures;
    const first = new Map<string, number>();
    for (let i = 0; i < w.ts.length; i++) {
      if (!first.has(w.tags[i]!)) first.set(w.tags[i]!, w.ts[i]!);
    }
    for (const attack of out.alerts) {
      const c: Campaign = {
        rule: attack.rule,
        episode: attack.dedup,
        at_ms: attack.ts,
        until_ms: attack.ts + p.user.compromise_window_ms,
      };
      campaigns = [...campaigns, c].slice(-MAX_CAMPAIGNS);
      for (const [user, ts] of first) effects.push(tell(user, c, e.ip!, ts));
    }
  } else {
    // Tried during a campaign: told of it (or told again, of an earlier try that came in
    // late: the user keeps the earliest). A try that arrives late is told what it would
    // have been told in time order: of the campaign running at its time, and of every
    // later one whose window it falls in (those told every user they had tried).
    const span = Math.max(p.ip.spray_window_ms, p.ip.stuffing_window_ms);
    let running: Campaign | null = null;
    for (const c of campaigns) {
      if (c.at_ms <= e.ts) running = c;
      else if (e.ts > c.at_ms - span) effects.push(tell(e.user_id, c, e.ip!, e.ts));
    }
    if (running && e.ts <= running.until_ms) effects.push(tell(e.user_id, running, e.ip!, e.ts));
  }
  return {
    state: {
      ...s,
      failed_logins: s.failed_logins + 1,
      last_attempt_ms: last,
      attempts: out.state,
      bucket: throttle.bucket,
      campaigns,
    },
    effects: effects.length > 0 ? effects : NO_EFFECTS,
  };
}

/** A `targeted` message for a user's actor: tried by this IP's campaign at `ts`. */
function tell(user: string, c: { rule: string; episode: string }, ip: string, ts: number): Effect {
  const message: Targeted = { kind: "targeted", rule: c.rule, ip, episode: c.episode, ts };
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
    // The throttle bucket as of the last failure it counted (null: never used, full).
    throttle_credit_ms: s.bucket.at_ms === null ? null : s.bucket.credit_ms,
    successes_last_hour: Math.round(successesBefore(s, s.last_attempt_ms ?? 0)),
  };
}

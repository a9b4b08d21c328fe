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
import { type AttemptState, NO_ATTEMPTS, onIpFailure } from "./rules/ip_attempts.ts";
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
   * The IP's latest spray or stuffing alert, while its targets are still told: every user
   * it goes on to try until then is told too.
   */
  readonly campaign:
    | { readonly rule: string; readonly episode: string; readonly until_ms: number }
    | null;
}

const INITIAL: IpState = Object.freeze({
  failed_logins: 0,
  last_attempt_ms: null,
  attempts: NO_ATTEMPTS,
  bucket: FULL,
  campaign: null,
});

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
    return {
      state: last === s.last_attempt_ms ? s : { ...s, last_attempt_ms: last },
      effects: NO_EFFECTS,
    };
  }
  const out = onIpFailure(s.attempts, e, p);
  if (out.state === s.attempts) return { state: s, effects: NO_EFFECTS }; // a repeat
  const effects: Effect[] = out.alerts.map((alert) => ({ kind: "alert", alert }));
  const throttle = onThrottledFailure(s.bucket, e, p);
  if (throttle.alert) effects.push({ kind: "alert", alert: throttle.alert });
  let campaign = s.campaign;
  const attack = out.alerts.at(-1);
  if (attack) {
    // Every user the campaign tried is told, with the time they were first tried: a
    // success of theirs after it may be the attacker's.
    campaign = {
      rule: attack.rule,
      episode: attack.dedup,
      until_ms: attack.ts + p.user.compromise_window_ms,
    };
    const w = out.state.failures;
    const first = new Map<string, number>();
    for (let i = 0; i < w.ts.length; i++) {
      if (!first.has(w.tags[i]!)) first.set(w.tags[i]!, w.ts[i]!);
    }
    for (const [user, ts] of first) effects.push(tell(user, campaign, e.ip!, ts));
  } else if (campaign && e.ts <= campaign.until_ms) {
    // Tried during the campaign (or told again, of an earlier try that came in late: the
    // user keeps the earliest). What is told does not depend on the order of arrival.
    effects.push(tell(e.user_id, campaign, e.ip!, e.ts));
  }
  return {
    state: {
      failed_logins: s.failed_logins + 1,
      last_attempt_ms: last,
      attempts: out.state,
      bucket: throttle.bucket,
      campaign,
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
  };
}

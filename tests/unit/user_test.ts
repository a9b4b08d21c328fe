import assert from "node:assert/strict";
import { type Config, defaults } from "../../config/defaults.ts";
import type { AuthEvent, TransactionEvent } from "../../events/types.ts";
import type { ActorContext, AlertDraft, Behaviour, Effect, Step } from "../../actors/types.ts";
import { userBehaviour, type UserMessage, type UserState } from "../../actors/user.ts";
import { authEvent } from "./events.ts";

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1);
const IP_A = "203.0.113.7";
const IP_B = "198.51.100.9";

type User = Behaviour<UserState, UserMessage>;

function config(
  changes: { auth?: Partial<Config["auth"]>; alerts?: Partial<Config["alerts"]> } = {},
): Config {
  const c = structuredClone(defaults) as Config;
  Object.assign(c.auth, changes.auth);
  Object.assign(c.alerts, changes.alerts);
  return c;
}

function user(c: Config = config()): User {
  return userBehaviour(c);
}

function ctx(watermark_ms = 0): ActorContext {
  return { self: { type: "user", key: "u1" }, watermark_ms };
}

function auth(
  type: AuthEvent["type"],
  event_id: string,
  ts: number,
  fields: Partial<Omit<AuthEvent, "kind" | "type" | "event_id" | "ts">> = {},
): AuthEvent {
  return authEvent(type, event_id, ts, { ip: type === "logout" ? undefined : IP_A, ...fields });
}

function tx(event_id: string, ts: number): TransactionEvent {
  return {
    kind: "transaction",
    event_id,
    ts,
    raw: {},
    user_id: "u1",
    account_id: "acc-1",
    type: "transfer",
    amount: 50,
    currency: "EUR",
    counterparty: undefined,
  };
}

function fail(id: string, ts: number, ip = IP_A): AuthEvent {
  return auth("login_failure", id, ts, { ip });
}

function login(id: string, ts: number, fields: Partial<AuthEvent> = {}): AuthEvent {
  return auth("login_success", id, ts, fields);
}

function logout(id: string, ts: number, session_id?: string): AuthEvent {
  return auth("logout", id, ts, { session_id });
}

/** Feeds events in order; returns the final state and each turn's step. */
function feed(
  b: User,
  events: readonly (AuthEvent | TransactionEvent)[],
  state: UserState = b.initial("u1"),
  watermark_ms = 0,
): { state: UserState; steps: Step<UserState>[] } {
  const steps: Step<UserState>[] = [];
  for (const event of events) {
    const step = b.receive(state, { kind: "event", event }, ctx(watermark_ms));
    steps.push(step);
    state = step.state;
  }
  return { state, steps };
}

/** The failure rules' alerts (the rules that chain several signals: user_rules_test.ts). */
const FAILURE_RULES = new Set(["auth.brute_force", "auth.success_after_failures"]);

function alertsOf(effects: readonly Effect[]): AlertDraft[] {
  return effects.flatMap((e) =>
    e.kind === "alert" && FAILURE_RULES.has(e.alert.rule) ? [e.alert] : []
  );
}

function allAlerts(steps: readonly Step<UserState>[]): AlertDraft[] {
  return steps.flatMap((s) => alertsOf(s.effects));
}

function gauges(effects: readonly Effect[]): number[] {
  return effects.flatMap((e) =>
    e.kind === "gauge" && e.name === "active_sessions" ? [e.delta] : []
  );
}

function timers(effects: readonly Effect[]): { name: string; at_ms: number; message: unknown }[] {
  return effects.flatMap((e) =>
    e.kind === "timer" && "at_ms" in e ? [{ name: e.name, at_ms: e.at_ms, message: e.message }] : []
  );
}

/** `n` failures `gap_ms` apart from `start`, with ids `${prefix}0..`. */
function burst(n: number, start: number, gap_ms: number, ip = IP_A, prefix = "f"): AuthEvent[] {
  return Array.from({ length: n }, (_, i) => fail(`${prefix}${i}`, start + i * gap_ms, ip));
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// auth.brute_force

Deno.test("userBehaviour() raises auth.brute_force at the fifth failure and not at the fourth", () => {
  const { steps } = feed(user(), burst(5, T0, MIN));
  for (const step of steps.slice(0, 4)) assert.deepEqual(alertsOf(step.effects), []);
  const alerts = alertsOf(steps[4]!.effects);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.rule, "auth.brute_force");
});

Deno.test("userBehaviour() raises no auth.brute_force for four failures in the window", () => {
  const { state, steps } = feed(user(), burst(4, T0, 10 * SEC));
  assert.deepEqual(allAlerts(steps), []);
  assert.equal(state.auth.streak, 4);
});

Deno.test("userBehaviour() ignores failures spread wider than the window", () => {
  // One failure every 2 minutes: never more than 3 in any 5-minute window.
  const { steps } = feed(user(), burst(12, T0, 2 * MIN));
  assert.deepEqual(allAlerts(steps), []);
});

Deno.test("userBehaviour() treats a failure exactly one window before the newest as outside it", () => {
  // Window is (newest - 5 min, newest]: the failure at T0 drops out when one comes at T0 + 5 min.
  const events = [0, MIN, 2 * MIN, 3 * MIN, 5 * MIN].map((d, i) => fail(`f${i}`, T0 + d));
  const { state, steps } = feed(user(), events);
  assert.deepEqual(allAlerts(steps), []);
  assert.deepEqual(state.auth.failures.ts, [T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN, T0 + 5 * MIN]);
});

Deno.test("userBehaviour() counts a failure 1 ms inside the window edge", () => {
  const events = [1, MIN, 2 * MIN, 3 * MIN, 5 * MIN].map((d, i) => fail(`f${i}`, T0 + d));
  const { steps } = feed(user(), events);
  const alerts = allAlerts(steps);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.evidence.failures_in_window, 5);
  assert.equal(alerts[0]!.evidence.first_failure, iso(T0 + 1));
});

Deno.test("userBehaviour() counts out-of-order failures within the window", () => {
  const order = [4, 1, 3, 0, 2];
  const events = order.map((m) => fail(`f${m}`, T0 + m * MIN));
  const { steps } = feed(user(), events);
  for (const step of steps.slice(0, 4)) assert.deepEqual(alertsOf(step.effects), []);
  const alert = alertsOf(steps[4]!.effects)[0];
  assert.ok(alert, "the fifth failure, arriving late, fires");
  assert.deepEqual(alert.event_ids, ["f0", "f1", "f2", "f3", "f4"]);
  assert.equal(alert.evidence.first_failure, iso(T0));
  assert.equal(alert.evidence.last_failure, iso(T0 + 4 * MIN));
  assert.equal(alert.ts, T0 + 2 * MIN, "the alert carries the triggering event's time");
});

Deno.test("userBehaviour() does not count a late failure older than the window", () => {
  const events = [...burst(4, T0 + 10 * MIN, MIN), fail("late", T0)];
  const { state, steps } = feed(user(), events);
  assert.deepEqual(allAlerts(steps), []);
  assert.equal(state.auth.failures.ids.includes("late"), false);
});

Deno.test("userBehaviour() does not re-raise auth.brute_force within the cool-down", () => {
  // First alert at T0 + 4 min; failures continue every minute up to T0 + 18 min.
  const { steps } = feed(user(), burst(19, T0, MIN));
  const alerts = allAlerts(steps);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.ts, T0 + 4 * MIN);
});

Deno.test("userBehaviour() re-raises auth.brute_force once the 15 min cool-down has passed", () => {
  const b = user();
  const first = feed(b, burst(5, T0, MIN)); // alert at T0 + 4 min
  const events = [
    ...[15, 16, 17, 18].map((m, i) => fail(`h${i}`, T0 + m * MIN)),
    fail("g0", T0 + 19 * MIN - 1), // threshold met, 1 ms before the cool-down ends
    fail("g1", T0 + 19 * MIN), // threshold met, cool-down over
  ];
  const { state, steps } = feed(b, events, first.state);
  assert.deepEqual(alertsOf(steps[4]!.effects), []);
  const alerts = allAlerts(steps);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.ts, T0 + 19 * MIN);
  assert.equal(alerts[0]!.dedup, "g1#1");
  assert.equal(alerts[0]!.evidence.escalation_step, 3, "g0 was a step too");
  assert.equal(state.auth.brute_force_alert_ms, T0 + 19 * MIN);
});

Deno.test("userBehaviour() grows lock_seconds by 60 per escalation step up to 900", () => {
  const b = user(config({ alerts: { cooldown_ms: 0 } }));
  const { steps } = feed(b, burst(22, T0, SEC));
  const alerts = allAlerts(steps);
  assert.equal(alerts.length, 18, "every failure from the fifth on is a step");
  alerts.forEach((a, i) => {
    const step = i + 1;
    assert.equal(a.evidence.escalation_step, step);
    assert.equal(a.evidence.lock_seconds, Math.min(60 * step, 900));
    assert.equal(a.severity, step >= 15 ? "high" : "medium");
  });
});

Deno.test("userBehaviour() keeps escalating steps through the cool-down", () => {
  // Steps count every failure at or past the threshold, alerted or not.
  const { steps } = feed(user(), burst(25, T0, MIN));
  const alerts = allAlerts(steps);
  assert.equal(alerts.length, 2);
  assert.equal(alerts[1]!.ts, T0 + 19 * MIN);
  assert.equal(alerts[1]!.evidence.escalation_step, 16);
  assert.equal(alerts[1]!.evidence.lock_seconds, 900);
  assert.equal(alerts[1]!.severity, "high");
});

Deno.test("userBehaviour() resets the failure counter and escalation after 12 h of quiet", () => {
  const b = user();
  const first = feed(b, burst(5, T0, MIN));
  const lastFailure = T0 + 4 * MIN;
  const again = feed(b, burst(5, lastFailure + 12 * HOUR + 1, MIN, IP_A, "r"), first.state);
  const alert = allAlerts(again.steps)[0];
  assert.ok(alert);
  assert.equal(alert.evidence.escalation_step, 1);
  assert.equal(alert.evidence.lock_seconds, 60);
  assert.equal(alert.evidence.failures_since_reset, 5);
  assert.equal(alert.dedup, "r4#1", "the episode number still counts up");
});

Deno.test("userBehaviour() keeps the escalation when the quiet is shorter than 12 h", () => {
  const b = user();
  const first = feed(b, burst(5, T0, MIN));
  const again = feed(b, burst(5, T0 + 4 * MIN + HOUR, MIN, IP_A, "r"), first.state);
  const alert = allAlerts(again.steps)[0];
  assert.ok(alert);
  assert.equal(alert.evidence.escalation_step, 2);
  assert.equal(alert.evidence.lock_seconds, 120);
  assert.equal(alert.evidence.failures_since_reset, 10);
});

Deno.test("userBehaviour() resets the counter only after strictly more than 12 h", () => {
  const b = user();
  const first = feed(b, burst(4, T0, MIN));
  const last = T0 + 3 * MIN;
  const exactly = feed(b, [fail("x", last + 12 * HOUR)], first.state);
  assert.equal(exactly.state.auth.streak, 5);
  const past = feed(b, [fail("y", last + 12 * HOUR + 1)], first.state);
  assert.equal(past.state.auth.streak, 1);
});

Deno.test("userBehaviour() puts actionable evidence and the window's event ids on auth.brute_force", () => {
  const ips = [IP_A, IP_B, IP_A, IP_B, IP_A];
  const events = ips.map((ip, i) => fail(`f${i}`, T0 + i * MIN, ip));
  const alert = allAlerts(feed(user(), events).steps)[0];
  assert.deepEqual(alert, {
    rule: "auth.brute_force",
    severity: "medium",
    entity: { type: "user", key: "u1" },
    ts: T0 + 4 * MIN,
    evidence: {
      failures_in_window: 5,
      threshold: 5,
      window_ms: 5 * MIN,
      first_failure: iso(T0),
      last_failure: iso(T0 + 4 * MIN),
      failures_since_reset: 5,
      source_ips: [IP_A, IP_B],
      escalation_step: 1,
      lock_seconds: 60,
    },
    event_ids: ["f0", "f1", "f2", "f3", "f4"],
    dedup: "f4#0",
  });
});

Deno.test("userBehaviour() gives the same dedup for the same events", () => {
  const events = [
    ...burst(5, T0, MIN),
    fail("late", T0 + 30 * MIN),
    ...burst(5, T0 + 30 * MIN, SEC, IP_B, "g"),
    login("s1", T0 + 31 * MIN, { ip: IP_B }),
  ];
  const one = allAlerts(feed(user(), events).steps);
  const two = allAlerts(feed(user(), events).steps);
  assert.deepEqual(one.map((a) => a.dedup), ["f4#0", "g3#1", "s1#2"]);
  assert.deepEqual(two, one);
});

// ---------------------------------------------------------------------------------------------
// auth.success_after_failures

Deno.test("userBehaviour() raises auth.success_after_failures on a success from the failing IP", () => {
  const events = [
    ...burst(5, T0, MIN),
    login("s1", T0 + 4 * MIN + 30 * SEC, { country: "NL", device_id: "d1" }),
  ];
  const { steps } = feed(user(), events);
  const alerts = alertsOf(steps[5]!.effects);
  assert.deepEqual(alerts, [{
    rule: "auth.success_after_failures",
    severity: "medium",
    entity: { type: "user", key: "u1" },
    ts: T0 + 4 * MIN + 30 * SEC,
    evidence: {
      failures_before_success: 5,
      threshold: 5,
      window_ms: 5 * MIN,
      first_failure: iso(T0),
      success_at: iso(T0 + 4 * MIN + 30 * SEC),
      source_ip: IP_A,
      country: "NL",
      device_id: "d1",
    },
    event_ids: ["f0", "f1", "f2", "f3", "f4", "s1"],
    dedup: "s1#1",
  }]);
});

Deno.test("userBehaviour() raises no auth.success_after_failures after four failures", () => {
  const { steps } = feed(user(), [...burst(4, T0, MIN), login("s1", T0 + 4 * MIN)]);
  assert.deepEqual(allAlerts(steps), []);
});

Deno.test("userBehaviour() raises no auth.success_after_failures for a success from another IP", () => {
  const { steps } = feed(user(), [...burst(5, T0, SEC), login("s1", T0 + MIN, { ip: IP_B })]);
  assert.deepEqual(allAlerts(steps).map((a) => a.rule), ["auth.brute_force"]);
});

Deno.test("userBehaviour() counts only failures within 5 min before the success", () => {
  // The failure at T0 is exactly 5 min before the success: outside (from, to].
  const failures = [0, MIN, 2 * MIN, 3 * MIN, 4 * MIN].map((d, i) => fail(`f${i}`, T0 + d));
  const atEdge = feed(user(), [...failures, login("s1", T0 + 5 * MIN)]);
  assert.deepEqual(alertsOf(atEdge.steps[5]!.effects), []);
  const inside = feed(user(), [...failures, login("s1", T0 + 5 * MIN - 1)]);
  assert.equal(alertsOf(inside.steps[5]!.effects)[0]?.rule, "auth.success_after_failures");
});

Deno.test("userBehaviour() counts a success IP's failures even after another IP failed", () => {
  // Five failures from A, then one from B, then a success from A within 5 min: A's burst
  // of five was followed by a success from A, so the rule should fire.
  const events = [...burst(5, T0, SEC), fail("b0", T0 + 5 * SEC, IP_B), login("s1", T0 + 6 * SEC)];
  const { steps } = feed(user(), events);
  const alert = alertsOf(steps[6]!.effects)[0];
  assert.equal(alert?.rule, "auth.success_after_failures");
  assert.equal(alert?.evidence.failures_before_success, 5);
});

Deno.test("userBehaviour() clears the failures of the success's own IP only", () => {
  const events = [...burst(2, T0, SEC, IP_A, "a"), ...burst(3, T0 + 10 * SEC, SEC, IP_B, "b")];
  const before = feed(user(), events);
  const afterA = feed(user(), [login("s1", T0 + MIN)], before.state);
  assert.deepEqual(afterA.state.auth.failures.ids, ["b0", "b1", "b2"]);
  assert.deepEqual(afterA.state.auth.failures.tags, [IP_B, IP_B, IP_B]);
  assert.equal(afterA.state.auth.streak, 5, "failures from B remain, so the streak stays");
  const afterB = feed(user(), [login("s2", T0 + 2 * MIN, { ip: IP_B })], afterA.state);
  assert.deepEqual(afterB.state.auth.failures.ts, []);
  assert.equal(afterB.state.auth.streak, 0);
  assert.equal(afterB.state.auth.step, 0);
});

Deno.test("userBehaviour() leaves failures alone on a success from an IP that never failed", () => {
  const before = feed(user(), burst(3, T0, SEC));
  const after = feed(user(), [login("s1", T0 + MIN, { ip: IP_B })], before.state);
  assert.deepEqual(after.state.auth, before.state.auth);
});

// ---------------------------------------------------------------------------------------------
// Sessions

Deno.test("userBehaviour() opens a session on login and moves active_sessions by +1", () => {
  const { state, steps } = feed(user(), [login("e1", T0, { session_id: "s1" })]);
  assert.deepEqual(state.sessions, ["s1"]);
  assert.equal(state.logins, 1);
  assert.deepEqual(gauges(steps[0]!.effects), [1]);
});

Deno.test("userBehaviour() uses the event id as the session id when a login has none", () => {
  const { state } = feed(user(), [login("e1", T0)]);
  assert.deepEqual(state.sessions, ["e1"]);
});

Deno.test("userBehaviour() records where the user last logged in", () => {
  const event = login("e1", T0, {
    city: "Utrecht",
    country: "NL",
    device_id: "d1",
    lat: 52.09,
    lon: 5.12,
  });
  const { state } = feed(user(), [event]);
  assert.deepEqual(state.last_login, {
    event_id: "e1",
    ts: T0,
    ip: IP_A,
    country: "NL",
    city: "Utrecht",
    device_id: "d1",
    lat: 52.09,
    lon: 5.12,
    asn: null,
    located_by: null,
    novel: [],
    risk: null,
    known_network: false,
    alerted: false,
  });
});

Deno.test("userBehaviour() closes the named session on logout and moves active_sessions by -1", () => {
  const b = user();
  const open = feed(b, [
    login("e1", T0, { session_id: "s1" }),
    login("e2", T0, { session_id: "s2" }),
  ]);
  const { state, steps } = feed(b, [logout("e3", T0 + MIN, "s2")], open.state);
  assert.deepEqual(state.sessions, ["s1"]);
  assert.equal(state.logouts, 1);
  assert.deepEqual(gauges(steps[0]!.effects), [-1]);
});

Deno.test("userBehaviour() moves active_users by +1 at a user's first open session and -1 when its last closes", () => {
  const b = user();
  const users = (effects: readonly Effect[]) =>
    effects.flatMap((e) => e.kind === "gauge" && e.name === "active_users" ? [e.delta] : []);
  const { steps } = feed(b, [
    login("e1", T0, { session_id: "s1" }),
    login("e2", T0 + MIN, { session_id: "s2" }),
    logout("e3", T0 + 2 * MIN, "s1"),
    logout("e4", T0 + 3 * MIN, "s2"),
    logout("e5", T0 + 4 * MIN, "s2"),
    login("e6", T0 + 5 * MIN, { session_id: "s3" }),
  ]);
  assert.deepEqual(steps.map((s) => users(s.effects)), [[1], [], [], [-1], [], [1]]);
});

Deno.test("userBehaviour() closes the oldest session on a logout without session id", () => {
  const b = user();
  const open = feed(b, [
    login("e1", T0, { session_id: "s1" }),
    login("e2", T0, { session_id: "s2" }),
  ]);
  const { state, steps } = feed(b, [logout("e3", T0 + MIN)], open.state);
  assert.deepEqual(state.sessions, ["s2"]);
  assert.deepEqual(gauges(steps[0]!.effects), [-1]);
});

Deno.test("userBehaviour() counts a logout of an unknown session without moving the gauge", () => {
  const b = user();
  const open = feed(b, [login("e1", T0, { session_id: "s1" })]);
  const { state, steps } = feed(b, [logout("e2", T0 + MIN, "nope")], open.state);
  assert.deepEqual(state.sessions, ["s1"]);
  assert.equal(state.logouts, 1);
  assert.deepEqual(steps[0]!.effects, []);
  const none = feed(b, [logout("e3", T0)]);
  assert.deepEqual(none.steps[0]!.effects, []);
  assert.equal(none.state.logouts, 1);
});

Deno.test("userBehaviour() does not double count a repeated login with the same session id", () => {
  const b = user();
  const events = [
    login("e1", T0, { session_id: "s1" }),
    login("e2", T0 + MIN, { session_id: "s1" }),
  ];
  const { state, steps } = feed(b, events);
  assert.deepEqual(state.sessions, ["s1"]);
  assert.equal(state.logins, 2);
  assert.deepEqual(gauges(steps[1]!.effects), []);
});

Deno.test("userBehaviour() caps sessions at max_sessions_per_user, closing the oldest", () => {
  const b = user(config({ auth: { max_sessions_per_user: 3 } }));
  const events = ["s1", "s2", "s3", "s4"].map((s, i) => login(`e${i}`, T0 + i, { session_id: s }));
  const { state, steps } = feed(b, events);
  assert.deepEqual(state.sessions, ["s2", "s3", "s4"]);
  assert.deepEqual(steps.map((s) => gauges(s.effects)), [[1], [1], [1], [1, -1]]);
  const sum = steps.flatMap((s) => gauges(s.effects)).reduce((a, d) => a + d, 0);
  assert.equal(sum, state.sessions.length, "the gauge agrees with the sessions held");
});

Deno.test("userBehaviour() caps sessions at the default of 8", () => {
  const events = Array.from(
    { length: 10 },
    (_, i) => login(`e${i}`, T0 + i, { session_id: `s${i}` }),
  );
  const { state } = feed(user(), events);
  assert.equal(state.sessions.length, 8);
  assert.deepEqual(state.sessions[0], "s2");
});

// ---------------------------------------------------------------------------------------------
// Idle timeout

Deno.test("userBehaviour() schedules session_idle at last activity + 30 min on login", () => {
  const { state, steps } = feed(user(), [login("e1", T0)]);
  assert.deepEqual(timers(steps[0]!.effects), [{
    name: "session_idle",
    at_ms: T0 + 30 * MIN,
    message: { kind: "session_idle" },
  }]);
  assert.equal(state.idle_timer_ms, T0 + 30 * MIN);
  assert.equal(state.last_activity_ms, T0);
});

Deno.test("userBehaviour() schedules no second idle timer while one is pending", () => {
  const { steps } = feed(user(), [login("e1", T0), login("e2", T0 + MIN), tx("t1", T0 + 2 * MIN)]);
  assert.deepEqual(timers(steps[1]!.effects), []);
  assert.deepEqual(timers(steps[2]!.effects), []);
});

Deno.test("userBehaviour() schedules no idle timer without open sessions", () => {
  const { state, steps } = feed(user(), [fail("f1", T0), tx("t1", T0)]);
  assert.deepEqual(steps.flatMap((s) => timers(s.effects)), []);
  assert.equal(state.idle_timer_ms, null);
});

Deno.test("userBehaviour() closes every session when session_idle comes past the due time", () => {
  const b = user();
  const events = ["s1", "s2", "s3"].map((s, i) => login(`e${i}`, T0, { session_id: s }));
  const open = feed(b, events);
  const step = b.receive(open.state, { kind: "session_idle" }, ctx(T0 + 31 * MIN));
  assert.deepEqual(step.state.sessions, []);
  assert.equal(step.state.idle_timer_ms, null);
  assert.deepEqual(step.effects, [
    { kind: "gauge", name: "active_sessions", delta: -3 },
    { kind: "gauge", name: "active_users", delta: -1 },
  ]);
});

Deno.test("userBehaviour() closes idle sessions when the watermark is exactly at the due time", () => {
  const b = user();
  const open = feed(b, [login("e1", T0)]);
  const step = b.receive(open.state, { kind: "session_idle" }, ctx(T0 + 30 * MIN));
  assert.deepEqual(step.state.sessions, []);
  assert.deepEqual(gauges(step.effects), [-1]);
});

Deno.test("userBehaviour() reschedules session_idle when activity moved the due time", () => {
  const b = user();
  const open = feed(b, [login("e1", T0), tx("t1", T0 + 10 * MIN)]);
  const step = b.receive(open.state, { kind: "session_idle" }, ctx(T0 + 30 * MIN));
  assert.deepEqual(step.state.sessions, ["e1"]);
  assert.equal(step.state.idle_timer_ms, T0 + 40 * MIN);
  assert.deepEqual(step.effects, [{
    kind: "timer",
    name: "session_idle",
    at_ms: T0 + 40 * MIN,
    message: { kind: "session_idle" },
  }]);
});

Deno.test("userBehaviour() cancels the idle timer when the last session closes; a session_idle that comes anyway clears it", () => {
  const b = user();
  const two = feed(b, [
    login("e1", T0, { session_id: "s1" }),
    login("e2", T0, { session_id: "s2" }),
  ]);
  const one = b.receive(two.state, { kind: "event", event: logout("e3", T0 + MIN, "s1") }, ctx(0));
  assert.notEqual(one.state.idle_timer_ms, null, "a session is still open");
  assert.ok(!one.effects.some((e) => e.kind === "cancel_timer"));
  const none = b.receive(one.state, { kind: "event", event: logout("e4", T0 + MIN, "s2") }, ctx(0));
  assert.equal(none.state.idle_timer_ms, null);
  assert.deepEqual(none.effects.filter((e) => e.kind === "cancel_timer"), [
    { kind: "cancel_timer", name: "session_idle" },
  ]);
  // A timer set before (a state from a checkpoint of an older version) finds no sessions.
  const old = { ...none.state, idle_timer_ms: T0 + 31 * MIN };
  const step = b.receive(old, { kind: "session_idle" }, ctx(T0 + HOUR));
  assert.equal(step.state.idle_timer_ms, null);
  assert.deepEqual(step.effects, []);
});

// ---------------------------------------------------------------------------------------------
// Transactions, immutability, view

Deno.test("userBehaviour() counts transactions and records them as activity", () => {
  const { state, steps } = feed(user(), [tx("t1", T0 + MIN), tx("t2", T0)]);
  assert.equal(state.transactions, 2);
  assert.equal(state.last_activity_ms, T0 + MIN, "a late event does not move activity back");
  assert.deepEqual(steps.flatMap((s) => s.effects), []);
});

Deno.test("userBehaviour() receive never mutates the state it was given", () => {
  const b = user(config({ auth: { max_sessions_per_user: 2 } }));
  const messages: UserMessage[] = [
    ...burst(5, T0, SEC).map((event) => ({ kind: "event" as const, event })),
    { kind: "event", event: fail("b0", T0 + 6 * SEC, IP_B) },
    { kind: "event", event: login("s1", T0 + 7 * SEC, { session_id: "s1" }) },
    { kind: "event", event: login("s2", T0 + 8 * SEC, { session_id: "s2" }) },
    { kind: "event", event: login("s3", T0 + 9 * SEC, { session_id: "s3" }) },
    { kind: "event", event: tx("t1", T0 + 10 * SEC) },
    { kind: "event", event: logout("o1", T0 + 11 * SEC, "s3") },
    { kind: "event", event: logout("o2", T0 + 12 * SEC) },
    { kind: "session_idle" },
    { kind: "event", event: login("s4", T0 + 13 * SEC) },
    { kind: "session_idle" },
    { kind: "event", event: fail("late", T0 + 13 * HOUR) },
  ];
  let state = b.initial("u1");
  for (const [i, message] of messages.entries()) {
    deepFreeze(state);
    const before = structuredClone(state);
    const step = b.receive(state, message, ctx(T0 + HOUR));
    assert.deepEqual(state, before, `turn ${i} left its input state unchanged`);
    state = step.state;
  }
  assert.equal(state.logins, 4);
  assert.equal(state.transactions, 1);
});

Deno.test("userBehaviour() view shows sessions, counters, last login and failure state", () => {
  const b = user();
  const events = [
    ...burst(5, T0, SEC, IP_B, "f"),
    login("e1", T0 + MIN, { session_id: "s1", country: "NL", city: "Utrecht", device_id: "d1" }),
    tx("t1", T0 + 2 * MIN),
    login("e2", T0 + 3 * MIN, { session_id: "s2" }),
    logout("e3", T0 + 4 * MIN, "s1"),
  ];
  const { state } = feed(b, events);
  assert.ok(b.view);
  assert.deepEqual(b.view(state), {
    open_sessions: 1,
    sessions: ["s2"],
    logins: 2,
    logouts: 1,
    transactions: 1,
    last_login: {
      event_id: "e2",
      ts: iso(T0 + 3 * MIN),
      ip: IP_A,
      country: null,
      city: null,
      device_id: null,
      lat: null,
      lon: null,
      asn: null,
      located_by: null,
      novel: [],
      risk: null,
      known_network: true,
      alerted: false,
    },
    last_activity: iso(T0 + 4 * MIN),
    recent_failures: 5,
    failures_since_reset: 5,
    brute_force_step: 1,
    alerts_raised: 1,
    earlier_devices: ["d1"],
    earlier_countries: ["NL"],
    usual_login_hour_utc: Math.round((T0 / 3_600_000 % 24 + 2 / 60) * 10) / 10,
    attacked_by: [
      // Not after it: a first login (nothing to compare with) from another address.
      { rule: "auth.brute_force", ip: IP_B, at: iso(T0 + 4 * SEC), login_after: false },
    ],
  });
});

Deno.test("userBehaviour() view of a new user has nulls and zeros", () => {
  const b = user();
  assert.deepEqual(b.view?.(b.initial("u1")), {
    open_sessions: 0,
    sessions: [],
    logins: 0,
    logouts: 0,
    transactions: 0,
    last_login: null,
    last_activity: null,
    recent_failures: 0,
    failures_since_reset: 0,
    brute_force_step: 0,
    alerts_raised: 0,
    earlier_devices: [],
    earlier_countries: [],
    usual_login_hour_utc: null,
    attacked_by: [],
  });
  assert.equal(b.type, "user");
});

Deno.test("userBehaviour() reads its parameters on every turn", () => {
  const c = config();
  const b = user(c);
  const three = feed(b, burst(3, T0, SEC));
  c.auth.brute_force_failures = 4;
  const { steps } = feed(b, [fail("x", T0 + 5 * SEC)], three.state);
  assert.equal(allAlerts(steps)[0]?.evidence.threshold, 4);
});

Deno.test("userBehaviour() counts a failed login delivered twice (same event_id) once", () => {
  const events = [...burst(4, T0, SEC)];
  const { state } = feed(user(), [...events, events[3]!]);
  assert.equal(state.auth.failures.ts.length, 4);
  assert.equal(state.auth.streak, 4);
  const { steps } = feed(user(), [...events, events[3]!, events[2]!]);
  assert.deepEqual(steps.flatMap((s) => alertsOf(s.effects)), [], "no brute force from repeats");
});

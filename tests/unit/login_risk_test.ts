import assert from "node:assert/strict";
import {
  distanceKm,
  LOGIN_FEATURES,
  loginFeatures,
  type LoginHistory,
  NO_HOUR,
  rememberLogin,
  riskyLogin,
  type ScoredLogin,
} from "../../actors/rules/login_risk.ts";
import { NO_FAILURES, onFailure } from "../../actors/rules/auth_failures.ts";
import type { ActorContext, Effect } from "../../actors/types.ts";
import { type RiskModelView, userBehaviour, type UserState } from "../../actors/user.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import { authEvent } from "./events.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1, 9); // 09:00 UTC
const OSLO = { lat: 59.91, lon: 10.75 };
const SAO_PAULO = { lat: -23.55, lon: -46.63 };

const config = () => structuredClone(defaults) as Config;
const at = (name: (typeof LOGIN_FEATURES)[number]) => LOGIN_FEATURES.indexOf(name);

const EMPTY: LoginHistory = {
  logins: 0,
  last: null,
  devices: [],
  countries: [],
  hour: NO_HOUR,
};

function success(id: string, ts: number, more: Partial<AuthEvent> = {}): AuthEvent {
  return authEvent("login_success", id, ts, {
    ip: "84.1.2.3",
    country: "NO",
    device_id: "d1",
    ...OSLO,
    ...more,
  });
}

/** The history after `events`, as the user actor keeps it. */
function historyAfter(events: AuthEvent[]): LoginHistory {
  let h = EMPTY;
  for (const e of events) {
    const last = {
      ts: e.ts,
      lat: e.lat ?? null,
      lon: e.lon ?? null,
      device_id: e.device_id ?? null,
      country: e.country ?? null,
    };
    h = { ...rememberLogin(h, e), logins: h.logins + 1, last };
  }
  return h;
}

Deno.test("loginFeatures() of a first login: no history, hours since last login at its cap", () => {
  const f = loginFeatures(EMPTY, NO_FAILURES, success("e1", T0), defaults.auth);
  assert.equal(f.length, LOGIN_FEATURES.length);
  assert.deepEqual(Array.from(f), [0, 0, 0, 0, 0, 0, 0, 0, 0, 720]);
});

Deno.test("loginFeatures() counts failures in the 5 min window and those from the login's IP", () => {
  let auth = NO_FAILURES;
  const failures: [number, string][] = [
    [T0 - 10 * MIN, "84.1.2.3"], // outside the window
    [T0 - 4 * MIN, "84.1.2.3"],
    [T0 - 3 * MIN, "198.51.100.9"],
    [T0 - 1 * MIN, "84.1.2.3"],
  ];
  failures.forEach(([ts, ip], i) => {
    auth = onFailure(auth, authEvent("login_failure", `f${i}`, ts, { ip }), defaults).state;
  });
  const f = loginFeatures(EMPTY, auth, success("e1", T0), defaults.auth);
  assert.equal(f[at("failures_5m")], 3);
  assert.equal(f[at("failures_5m_same_ip")], 2);
  assert.equal(f[at("failure_streak")], 4);
});

Deno.test("loginFeatures() flags a new device and a new country only for a user with history", () => {
  const h = historyAfter([success("e1", T0 - 2 * HOUR)]);
  const f = loginFeatures(
    h,
    NO_FAILURES,
    success("e2", T0, { device_id: "d9", country: "SE" }),
    defaults.auth,
  );
  assert.equal(f[at("new_device")], 1);
  assert.equal(f[at("new_country")], 1);
  const same = loginFeatures(h, NO_FAILURES, success("e3", T0), defaults.auth);
  assert.equal(same[at("new_device")], 0);
  assert.equal(same[at("new_country")], 0);
  const absent = loginFeatures(
    h,
    NO_FAILURES,
    success("e4", T0, { device_id: undefined, country: undefined }),
    defaults.auth,
  );
  assert.equal(absent[at("new_device")], 0, "no device named: no evidence of a new one");
});

Deno.test("loginFeatures() gives distance and speed from the last login, with the speed capped", () => {
  const km = distanceKm(OSLO.lat, OSLO.lon, SAO_PAULO.lat, SAO_PAULO.lon);
  assert.ok(km > 10_550 && km < 10_700, `Oslo–São Paulo is about 10,630 km, got ${km}`);
  const h = historyAfter([success("e1", T0 - 10 * HOUR)]);
  const slow = loginFeatures(h, NO_FAILURES, success("e2", T0, SAO_PAULO), defaults.auth);
  assert.ok(Math.abs(slow[at("distance_km")]! - km) < 0.01);
  assert.ok(Math.abs(slow[at("speed_kmh")]! - km / 10) < 0.01);
  assert.ok(Math.abs(slow[at("hours_since_last_login")]! - 10) < 1e-6);
  const h2 = historyAfter([success("e1", T0 - 10 * MIN)]);
  const fast = loginFeatures(h2, NO_FAILURES, success("e2", T0, SAO_PAULO), defaults.auth);
  assert.equal(fast[at("speed_kmh")], 20_000, "62,000 km/h is capped at 20,000");
  const noPlace = loginFeatures(
    h2,
    NO_FAILURES,
    success("e3", T0, { lat: undefined, lon: undefined }),
    defaults.auth,
  );
  assert.equal(noPlace[at("distance_km")], 0);
  assert.equal(noPlace[at("speed_kmh")], 0);
});

Deno.test("loginFeatures() measures the hour of day against the user's usual hour, on the 24 h circle", () => {
  // Three logins around 09:00 on three days.
  const h = historyAfter([
    success("a", T0 - 3 * 24 * HOUR),
    success("b", T0 - 2 * 24 * HOUR),
    success("c", T0 - 1 * 24 * HOUR),
  ]);
  const usual = loginFeatures(h, NO_FAILURES, success("d", T0), defaults.auth);
  assert.ok(usual[at("hour_deviation")]! < 1e-3, `${usual[at("hour_deviation")]}`);
  const night = loginFeatures(h, NO_FAILURES, success("e", T0 + 12 * HOUR), defaults.auth);
  assert.ok(Math.abs(night[at("hour_deviation")]! - 12) < 1e-3, "21:00 is 12 h from 09:00");
  const early = loginFeatures(h, NO_FAILURES, success("f", T0 - 11 * HOUR), defaults.auth);
  assert.ok(Math.abs(early[at("hour_deviation")]! - 11) < 1e-3, "22:00 the day before: 11 h");
  const two = historyAfter([success("a", T0 - 2 * 24 * HOUR), success("b", T0 - 24 * HOUR)]);
  const young = loginFeatures(two, NO_FAILURES, success("g", T0 + 12 * HOUR), defaults.auth);
  assert.equal(young[at("hour_deviation")], 0, "no rhythm before 3 logins");
});

Deno.test("rememberLogin() keeps the last device and the 3 distinct ones before it", () => {
  const h = historyAfter(
    ["d1", "d2", "d1", "d3", "d4", "d5"].map((d, i) =>
      success(`e${i}`, T0 + i * MIN, { device_id: d })
    ),
  );
  assert.equal(h.last?.device_id, "d5");
  assert.deepEqual(h.devices, ["d1", "d3", "d4"], "d2 is the oldest: forgotten");
  assert.deepEqual(h.countries, [], "one country: the last login's");
  const known = (d: string) =>
    loginFeatures(h, NO_FAILURES, success("x", T0 + HOUR, { device_id: d }), defaults.auth)[
      at("new_device")
    ];
  assert.deepEqual(["d1", "d3", "d4", "d5", "d2"].map(known), [0, 0, 0, 0, 1]);
  // A login without a device keeps the last one known.
  const h2 = historyAfter([success("a", T0), success("b", T0 + MIN, { device_id: undefined })]);
  assert.deepEqual(h2.devices, ["d1"]);
});

function scored(risk: number): ScoredLogin {
  return {
    kind: "login_risk",
    event_id: "e1",
    ts: T0,
    ip: "84.1.2.3",
    country: "NO",
    device_id: "d1",
    features: new Float32Array(LOGIN_FEATURES.length),
    risk,
  };
}

Deno.test("riskyLogin() maps the risk to the levels of docs/detections.md and their actions", () => {
  const levels = defaults.auth;
  assert.equal(riskyLogin("u1", scored(0.4999), levels, "login_risk@1"), null);
  const cases: [number, string, string][] = [
    [0.5, "low", "allow"],
    [0.7999, "low", "allow"],
    [0.8, "medium", "step_up"],
    [0.95, "high", "block"],
    [1, "high", "block"],
  ];
  for (const [risk, level, action] of cases) {
    const a = riskyLogin("u1", scored(risk), levels, "login_risk@1");
    assert.ok(a, `alert at ${risk}`);
    assert.equal(a.rule, "auth.risky_login");
    // A model's score alone: one step below its level.
    const below = { high: "medium", medium: "low", low: "info" }[level];
    assert.equal(a.severity, below, `severity at ${risk}`);
    assert.equal(a.evidence.level, level);
    assert.equal(a.evidence.action, action);
    assert.equal(a.score, risk);
    assert.equal(a.model, "login_risk@1");
    assert.deepEqual(a.entity, { type: "user", key: "u1" });
    assert.deepEqual(a.event_ids, ["e1"]);
  }
  assert.equal(riskyLogin("u1", scored(NaN), levels, "m"), null);
});

const VIEW: RiskModelView = { version: "3", risky_index: 1 };
const CTX = { self: { type: "user", key: "u1" }, watermark_ms: 0 } as ActorContext;

Deno.test("userBehaviour() scores a successful login, from the state before it, only with a model", () => {
  const c = config();
  const without = userBehaviour(c);
  const s0 = without.initial("u1");
  const plain = without.receive(s0, { kind: "event", event: success("e1", T0) }, CTX);
  assert.ok(!plain.effects.some((e) => e.kind === "infer"), "no model: no scoring");

  const b = userBehaviour(c, () => VIEW);
  let s: UserState = b.initial("u1");
  s = b.receive(s, { kind: "event", event: success("e1", T0 - HOUR) }, CTX).state;
  const step = b.receive(
    s,
    { kind: "event", event: success("e2", T0, { device_id: "d9", ...SAO_PAULO }) },
    CTX,
  );
  const infer = step.effects.find((e): e is Extract<Effect, { kind: "infer" }> =>
    e.kind === "infer"
  );
  assert.ok(infer);
  assert.equal(infer.model, "login_risk");
  assert.equal(infer.detached, true, "the user's next events do not wait for the score");
  assert.equal(infer.features[at("new_device")], 1, "d9 was not in the history before it");
  assert.equal(infer.features[at("baseline_logins")], 1);
  assert.equal(step.state.logins, 2, "the login itself is counted as before");
  assert.equal(step.state.last_login?.device_id, "d9");
  assert.deepEqual(step.state.devices, ["d1"], "the device before it is remembered");

  const reply = infer.reply(new Float32Array([0.03, 0.97])) as ScoredLogin;
  assert.equal(reply.risk, Math.fround(0.97), "the risky class's probability");
  const alerted = b.receive(step.state, reply, CTX);
  assert.deepEqual(
    {
      ...alerted.state,
      last_login: step.state.last_login,
      earlier_logins: step.state.earlier_logins,
    },
    step.state,
    "a score changes nothing in the state but the login's risk",
  );
  assert.equal(alerted.state.last_login?.risk, Math.fround(0.97));
  assert.ok(
    !alerted.state.earlier_logins.some((l) => l.event_id === alerted.state.last_login?.event_id),
    "one login, one copy",
  );
  const mild = infer.reply(new Float32Array([0.4, 0.6])) as ScoredLogin;
  assert.equal(b.receive(step.state, mild, CTX).state, step.state, "below medium: nothing");
  const alert = alerted.effects.find((e) => e.kind === "alert");
  assert.ok(alert && alert.kind === "alert");
  assert.equal(alert.alert.evidence.action, "block");
  assert.equal(alert.alert.model, "login_risk@3");
  assert.equal((alert.alert.evidence.features as Record<string, number>).new_device, 1);

  assert.equal(infer.reply(new Float32Array([0.9, 0.1])), null, "below the low level: no turn");
  const low = c.auth.risky_login_low;
  const edge = infer.reply(Float32Array.from([1 - low, low])) as ScoredLogin;
  assert.equal(edge.risk, Math.fround(low), "at the low level, a turn");
  const lowAlert = b.receive(step.state, edge, CTX).effects.find((e) => e.kind === "alert");
  assert.ok(lowAlert && lowAlert.kind === "alert");
  assert.equal(lowAlert.alert.severity, "info");
  // The levels are read when the score comes back (they may be changed at run time).
  c.auth.risky_login_low = 0.05;
  assert.ok(infer.reply(new Float32Array([0.9, 0.1])) !== null);
});

Deno.test("userBehaviour() does not score failures, logouts or transactions", () => {
  const b = userBehaviour(config(), () => VIEW);
  const s = b.initial("u1");
  for (const event of [authEvent("login_failure", "f1", T0, { ip: "84.1.2.3" })]) {
    const step = b.receive(s, { kind: "event", event }, CTX);
    assert.ok(!step.effects.some((e) => e.kind === "infer"));
  }
  const logout = b.receive(s, { kind: "event", event: authEvent("logout", "o1", T0) }, CTX);
  assert.ok(!logout.effects.some((e) => e.kind === "infer"));
});

import assert from "node:assert/strict";
import type { Alert } from "../../events/types.ts";
import { formatQuality, quality } from "../../sim/quality.ts";
import type { SimEvent, Truth } from "../../sim/simulator.ts";

const T0 = Date.UTC(2026, 0, 5, 8);
const iso = (ms: number) => new Date(ms).toISOString();

function ev(id: string, ts: number, user: string): SimEvent {
  return { kind: "auth", event_id: id, timestamp: iso(ts), user_id: user, type: "login_failure" };
}

function alert(rule: string, key: string, ts: number, type = "user"): Alert {
  return {
    alert_id: `${rule}-${key}-${ts}`,
    rule,
    severity: "high",
    entity: { type, key },
    timestamp: iso(ts),
    detected_at: iso(ts),
    evidence: {},
    event_ids: [],
    mode: "enforce",
  };
}

Deno.test("quality(): recall, precision, false alerts per 100k benign events and delay, per rule", () => {
  const events: SimEvent[] = [];
  for (let i = 0; i < 96; i++) events.push(ev(`b${i}`, T0 + i * 1_000, `u${i}`));
  const attack = ["a1", "a2", "a3", "a4"].map((id, i) =>
    ev(id, T0 + 200_000 + i * 1_000, "victim")
  );
  events.push(...attack);
  const truths: (Truth & { complete: boolean })[] = [
    {
      scenario: "brute_force",
      rules: ["auth.brute_force"],
      entity: { type: "user", key: "victim" },
      attacker_ip: "203.0.113.9",
      start: iso(T0 + 200_000),
      end: iso(T0 + 203_000),
      decisive_event_id: "a4",
      event_ids: ["a1", "a2", "a3", "a4"],
      complete: true,
    },
    {
      scenario: "brute_force",
      rules: ["auth.brute_force"],
      entity: { type: "user", key: "missed" },
      attacker_ip: "203.0.113.10",
      start: iso(T0 + 300_000),
      end: iso(T0 + 301_000),
      decisive_event_id: "none",
      event_ids: [],
      complete: true,
    },
  ];
  const alerts = [
    alert("auth.brute_force", "victim", T0 + 205_000), // 2 s after the decisive event
    alert("auth.brute_force", "u7", T0 + 7_000), // a benign user: false
    alert("auth.new_device_location", "victim", T0 + 210_000), // belongs to the attack
  ];
  const r = quality(events, truths, alerts);
  assert.equal(r.events, 100);
  assert.equal(r.benign_events, 96);
  const brute = r.rules.find((q) => q.rule === "auth.brute_force")!;
  assert.equal(brute.expected, 2);
  assert.equal(brute.detected, 1);
  assert.equal(brute.recall, 0.5);
  assert.equal(brute.alerts, 2);
  assert.equal(brute.false_alerts, 1);
  assert.equal(brute.precision, 0.5);
  assert.ok(Math.abs(brute.false_per_100k_benign - 100_000 / 96) < 1e-9);
  assert.equal(brute.delay_p50_ms, 2_000);
  const nd = r.rules.find((q) => q.rule === "auth.new_device_location")!;
  assert.equal(nd.recall, null, "no attack must fire it");
  assert.equal(nd.precision, 1);
  assert.match(formatQuality(r), /auth\.brute_force\s+1\/2\s+50\.0 %/);
});

Deno.test("quality(): the owner's first login after an intruder's belongs to the attack however late; a service alert only within 15 min", () => {
  const login = (id: string, ts: number, user: string): SimEvent => ({
    ...ev(id, ts, user),
    type: "login_success",
  });
  const H = 3_600_000;
  const events = [
    login("in", T0, "victim"), // the intruder
    login("back", T0 + 5 * H, "victim"), // the owner, 5 h later
    login("later", T0 + 6 * H, "victim"), // the owner again: nothing to do with it
  ];
  const truths: Truth[] = [{
    scenario: "account_takeover",
    rules: ["user.account_takeover"],
    entity: { type: "user", key: "victim" },
    attacker_ip: "203.0.113.9",
    start: iso(T0),
    end: iso(T0),
    decisive_event_id: "in",
    event_ids: ["in"],
    risky_logins: [{ user_id: "victim", event_id: "in" }],
  }, {
    scenario: "error_burst",
    rules: ["svc.error_burst"],
    entity: { type: "service", key: "ledger" },
    attacker_ip: "",
    start: iso(T0),
    end: iso(T0),
    decisive_event_id: "",
    event_ids: [],
  }];
  const on = (rule: string, key: string, ts: number, ids: string[], type = "user") => ({
    ...alert(rule, key, ts, type),
    event_ids: ids,
  });
  const r = quality(events, truths, [
    on("auth.impossible_travel", "victim", T0 + 5 * H, ["back"]),
    on("auth.risky_login", "victim", T0 + 6 * H, ["later"]),
    on("svc.metric_anomaly", "ledger", T0 + 14 * 60_000, [], "service"),
    on("svc.high_cpu", "ledger", T0 + 16 * 60_000, [], "service"),
  ]);
  const falses = (rule: string) => r.rules.find((q) => q.rule === rule)!.lenient_false_alerts;
  assert.equal(falses("auth.impossible_travel"), 0, "the way back");
  assert.equal(falses("auth.risky_login"), 1, "6 h after, not the first login back");
  assert.equal(falses("svc.metric_anomaly"), 0, "within 15 min");
  assert.equal(falses("svc.high_cpu"), 1, "16 min after");
  // Strictly the way back is the owner's login, not the attack's: false.
  const strict = (rule: string) => r.rules.find((q) => q.rule === rule)!.false_alerts;
  assert.equal(strict("auth.impossible_travel"), 1, "the owner's login");
  assert.equal(strict("svc.metric_anomaly"), 0, "a service alert without event ids: by time");
});

Deno.test("quality() strictly: true only when it names the attacked entity, a user broken into or the source, with the attack's events", () => {
  const H = 3_600_000;
  const events: SimEvent[] = [
    ev("f1", T0, "tried"),
    ev("f2", T0 + 1_000, "lucky"),
    { ...ev("in", T0 + 2_000, "lucky"), type: "login_success" },
    { ...ev("own", T0 + 3_000, "tried"), type: "login_success" }, // the owner, after
    { ...ev("own2", T0 + 4_000, "lucky"), type: "login_success" }, // the owner, after
  ];
  const truths: Truth[] = [{
    scenario: "credential_stuffing",
    rules: ["ip.credential_stuffing"],
    entity: { type: "ip", key: "203.0.113.9" },
    attacker_ip: "203.0.113.9",
    start: iso(T0),
    end: iso(T0 + 1_000),
    decisive_event_id: "f2",
    event_ids: ["f1", "f2"],
    risky_logins: [{ user_id: "lucky", event_id: "in" }],
  }];
  const on = (rule: string, key: string, ts: number, ids: string[], type = "user") => ({
    ...alert(rule, key, ts, type),
    alert_id: `${rule}-${key}-${ids.join()}`,
    event_ids: ids,
  });
  const r = quality(events, truths, [
    on("ip.credential_stuffing", "203.0.113.9", T0 + 1_000, ["f1", "f2"], "ip"), // the source
    on("user.compromise_after_attack", "lucky", T0 + 2_000, ["in"]), // broken into
    on("user.compromise_after_attack", "tried", T0 + 3_000, ["own"]), // only tried: false
    on("user.compromise_after_attack", "lucky", T0 + 4_000, ["own2"]), // the owner's: false
    on("user.compromise_after_attack", "lucky", T0 + 4 * H, ["in"]), // past the window: false
  ]);
  const of = (rule: string) => r.rules.find((q) => q.rule === rule)!;
  assert.equal(of("ip.credential_stuffing").false_alerts, 0);
  assert.equal(of("user.compromise_after_attack").false_alerts, 3);
  assert.equal(of("user.compromise_after_attack").precision, 0.25);
  assert.equal(of("user.compromise_after_attack").lenient_false_alerts, 1, "the old reading");
});

import assert from "node:assert/strict";
import { BENIGN_DEFAULTS, benignEvents } from "../../sim/benign.ts";
import { type BenignReport, countAlerts } from "../../sim/benign_check.ts";

/**
 * Alerts allowed per 1,000 customers per day on benign traffic, per rule. Attack rules: 0.
 * Context rules (`low`/`info`) may fire on what is genuinely new to a user (a new phone,
 * cleared cookies): the bound is about twice the rate measured. A rule not listed (and not
 * in `ELSEWHERE`) must not fire at all.
 */
const BOUNDS: Readonly<Record<string, number>> = {
  // Genuinely new browsers and phones on a network not among the user's last four.
  "auth.new_device_location": 1,
  // Not fixed yet (see the report in the commit): stale saved passwords retrying after a
  // password change, at the office NAT, from the user's own phone.
  "auth.brute_force": 0.5,
  // Not fixed yet: needs the user's familiar places, which only actors/user.ts keeps.
  "auth.impossible_travel": 15,
  "user.account_takeover": 0.3,
  // Not fixed yet: rent and payday savings to payees paid before are unusual against a
  // short history of small amounts (the payees are in actors/user.ts, not passed).
  "tx.large_amount": 10,
  // Not fixed yet: the nightly batch and deploys.
  "svc.high_cpu": 3,
  "svc.metric_anomaly": 2,
};

/** Rules another engineer is rewriting: counted and printed, not bounded here. */
const ELSEWHERE = new Set([
  "user.compromise_after_attack",
  "ip.password_spray",
  "ip.credential_stuffing",
  "ip.throttle",
  "click.traffic_spike",
]);

function overBounds(r: BenignReport): string[] {
  const out: string[] = [];
  for (const x of r.rules) {
    if (ELSEWHERE.has(x.rule)) continue;
    const bound = BOUNDS[x.rule] ?? 0;
    if (x.per_1000_users_per_day > bound) {
      out.push(
        `${x.rule}: ${x.alerts} alerts, ${x.per_1000_users_per_day} per 1,000 users a day > ${bound}`,
      );
    }
  }
  return out;
}

function show(r: BenignReport): string {
  return r.rules.map((x) => `${x.rule} ${x.alerts} (${x.per_1000_users_per_day})`).join(", ");
}

Deno.test("benignEvents() is deterministic, valid, in event-time order and has every kind", async () => {
  const o = { users: 60, days: 1, warmup_days: 0 };
  const a = benignEvents(o);
  assert.deepEqual(benignEvents(o), a);
  assert.notDeepEqual(benignEvents({ ...o, seed: 2 }).slice(0, 50), a.slice(0, 50));
  for (let i = 1; i < a.length; i++) assert.ok(a[i - 1]!.timestamp <= a[i]!.timestamp);
  const kinds = new Set(a.map((e) => e.kind));
  assert.deepEqual([...kinds].sort(), ["auth", "click", "flow", "log", "metric", "transaction"]);
  const r = await countAlerts(a, o);
  assert.equal(r.invalid, 0);
  assert.equal(r.events, a.length);
});

Deno.test("benignEvents() refuses options out of range, naming them", () => {
  assert.throws(() => benignEvents({ users: 0 }), /users 0/);
  assert.throws(() => benignEvents({ days: 1_000 }), /days 1000/);
  assert.throws(() => benignEvents({ start_ms: 1 }), /UTC midnight/);
});

Deno.test("The rules stay within their bounds on five days of benign customers and services", async () => {
  const o = { ...BENIGN_DEFAULTS, flows: false };
  const r = await countAlerts(benignEvents(o), o);
  console.log(`benign customers and services: ${show(r)}`);
  assert.deepEqual(overBounds(r), []);
});

Deno.test("The rules stay within their bounds on two days of benign network flows", async () => {
  const o = { ...BENIGN_DEFAULTS, users: 300, days: 2, warmup_days: 0, ops: false };
  const r = await countAlerts(benignEvents(o), o);
  console.log(`benign flows: ${show(r)}`);
  assert.deepEqual(overBounds(r), []);
});

Deno.test("The campaign, compromise and spike rules stay (nearly) quiet on benign traffic", async () => {
  const o = { ...BENIGN_DEFAULTS, flows: false };
  const r = await countAlerts(benignEvents(o), o);
  const count = (rule: string) => r.rules.find((x) => x.rule === rule)?.alerts ?? 0;
  // None: stuffing, the throttle, page spikes (the daily rhythm and busy minutes).
  for (const rule of ["ip.credential_stuffing", "ip.throttle", "click.traffic_spike"]) {
    assert.equal(count(rule), 0, rule);
  }
  // An office's password-expiry morning reads as one spray from its address; a couple of
  // its staff, whose office network is no longer among the eight a user remembers, then
  // log in from the "attacking" address (2 on these five days).
  assert.ok(count("ip.password_spray") <= 1, `${count("ip.password_spray")} sprays`);
  assert.ok(count("user.compromise_after_attack") <= 2, `${count("user.compromise_after_attack")}`);
});

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addAmount,
  type AmountStats,
  impossibleTravel,
  inEuros,
  largeAmount,
  type LastPlace,
  networkOf,
  newDeviceLocation,
  NO_TRANSFERS,
  rapidTransfers,
  sampleSigmas,
} from "../../actors/rules/user_rules.ts";
import type { ActorContext, AlertDraft, Effect } from "../../actors/types.ts";
import { userBehaviour, type UserMessage, type UserState } from "../../actors/user.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { AuthEvent, TransactionEvent } from "../../events/types.ts";
import { authEvent } from "./events.ts";

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1, 9);
const OSLO = { lat: 59.91, lon: 10.75, country: "NO", city: "Oslo" };
const STOCKHOLM = { lat: 59.33, lon: 18.07, country: "SE", city: "Stockholm" };
const SAO_PAULO = { lat: -23.55, lon: -46.63, country: "BR", city: "Sao Paulo" };

function lastAt(ts: number, place = OSLO): LastPlace {
  return { ts, ip: "84.1.2.3", device_id: "d1", ...place };
}

function loginAt(id: string, ts: number, more: Partial<AuthEvent> = {}): AuthEvent {
  return authEvent("login_success", id, ts, { ip: "84.1.2.3", device_id: "d1", ...OSLO, ...more });
}

function tx(
  id: string,
  ts: number,
  amount: number,
  type: TransactionEvent["type"] = "transfer",
): TransactionEvent {
  return {
    kind: "transaction",
    event_id: id,
    ts,
    raw: {},
    user_id: "u1",
    account_id: "a1",
    type,
    amount,
    currency: "EUR",
    counterparty: `c-${id}`,
  };
}

Deno.test("impossibleTravel() fires above 900 km/h over more than 500 km, not at a speed a flight makes", () => {
  // Oslo–São Paulo is about 10,630 km: 11 h is 966 km/h, 12 h is 886 km/h.
  const a = defaults.auth;
  const fast = impossibleTravel(lastAt(T0 - 11 * HOUR), loginAt("e", T0, SAO_PAULO), a);
  assert.ok(fast);
  assert.equal(fast.rule, "auth.impossible_travel");
  assert.equal(fast.severity, "medium");
  assert.equal(fast.evidence.distance_km, 10_633);
  assert.equal(fast.evidence.speed_kmh, 967);
  assert.deepEqual(fast.event_ids, ["e"]);
  assert.equal(impossibleTravel(lastAt(T0 - 12 * HOUR), loginAt("e", T0, SAO_PAULO), a), null);
});

Deno.test("impossibleTravel() ignores short hops at any speed, unknown places, and alerts logins at one instant", () => {
  const a = defaults.auth;
  // Oslo–Stockholm, about 417 km, in one minute: too close to count.
  assert.equal(impossibleTravel(lastAt(T0 - MIN), loginAt("e", T0, STOCKHOLM), a), null);
  const noPlace = loginAt("e", T0, { lat: undefined, lon: undefined });
  assert.equal(impossibleTravel(lastAt(T0 - MIN), noPlace, a), null);
  assert.equal(impossibleTravel(null, loginAt("e", T0, SAO_PAULO), a), null);
  const same = impossibleTravel(lastAt(T0), loginAt("e", T0, SAO_PAULO), a);
  assert.equal(same?.evidence.speed_kmh, null, "no time between them: infinite speed");
  // Parameters are read per call.
  const lenient = { ...a, impossible_travel_speed_kmh: 20_000 };
  assert.equal(impossibleTravel(lastAt(T0 - HOUR), loginAt("e", T0, SAO_PAULO), lenient), null);
});

Deno.test("newDeviceLocation() fires for a new device from a new network, only after 5 logins", () => {
  const a = defaults.auth;
  const known = {
    devices: ["d1", "d2"],
    countries: ["NO"],
    networks: [networkOf("84.1.7.9")],
    last_ip: "84.1.2.3",
  };
  const newDevice = loginAt("e", T0, { device_id: "d9", ip: "91.5.6.7" });
  assert.equal(newDeviceLocation({ logins: 4, ...known }, newDevice, a), null, "4: no baseline");
  const fired = newDeviceLocation({ logins: 5, ...known }, newDevice, a);
  assert.ok(fired);
  assert.equal(fired.rule, "auth.new_device_location");
  assert.equal(fired.severity, "low");
  assert.equal(fired.evidence.new_device, true);
  assert.equal(fired.evidence.new_network, true);
  assert.equal(fired.evidence.new_country, false);
  const both = newDeviceLocation(
    { logins: 5, ...known },
    loginAt("e", T0, { device_id: "d9", ip: "91.5.6.7", ...SAO_PAULO }),
    a,
  );
  assert.equal(both?.severity, "medium");
  // The user's new phone at home (the last login's /24, or an earlier login's): no alert.
  const atHome = (ip: string) => loginAt("e", T0, { device_id: "d9", ip });
  assert.equal(newDeviceLocation({ logins: 50, ...known }, atHome("84.1.2.200"), a), null);
  assert.equal(newDeviceLocation({ logins: 50, ...known }, atHome("84.1.7.1"), a), null);
  assert.ok(newDeviceLocation({ logins: 50, ...known }, atHome("84.1.8.1"), a), "another /24");
  // The user's own laptop abroad or behind a VPN: a known device, no alert.
  const abroad = loginAt("e", T0, { device_id: "d2", ip: "91.5.6.7", ...SAO_PAULO });
  assert.equal(newDeviceLocation({ logins: 50, ...known }, abroad, a), null);
  assert.equal(newDeviceLocation({ logins: 50, ...known }, loginAt("e", T0), a), null);
  const unnamed = loginAt("e", T0, { device_id: undefined, country: undefined });
  assert.equal(newDeviceLocation({ logins: 50, ...known }, unnamed, a), null);
});

Deno.test("sampleSigmas() is z for a large sample and more for a few", () => {
  assert.ok(Math.abs(sampleSigmas(3, 100_000) - 3) < 0.001);
  assert.ok(sampleSigmas(3, 10) > sampleSigmas(3, 20) && sampleSigmas(3, 20) > sampleSigmas(3, 50));
  assert.equal(sampleSigmas(3, 1), Infinity);
});

Deno.test("networkOf() is the /24 of an IPv4 address and the /64 of an IPv6 one", () => {
  assert.equal(networkOf("10.1.2.3"), networkOf("10.1.2.254"));
  assert.notEqual(networkOf("10.1.2.3"), networkOf("10.1.3.3"));
  assert.equal(networkOf("2001:db8:1:2::1"), networkOf("2001:db8:1:2:ffff::9"));
  assert.notEqual(networkOf("2001:db8:1:2::1"), networkOf("2001:db8:1:3::1"));
  assert.ok(Number.isInteger(networkOf("10.1.2.3")) && networkOf("10.1.2.3") >= 0);
  assert.ok(networkOf("10.1.2.3") < 2 ** 30);
});

Deno.test("largeAmount() fires above the 10,000 cap with no history, and not at the cap", () => {
  const t = defaults.tx;
  const big = largeAmount(null, tx("t", T0, 10_000.01), t);
  assert.ok(big);
  assert.equal(big.rule, "tx.large_amount");
  assert.equal(big.severity, "medium");
  assert.equal(big.evidence.over_cap, true);
  assert.equal(largeAmount(null, tx("t", T0, 10_000), t), null);
});

Deno.test("largeAmount() fires above mean + 3σ of the user's amounts once there are 10", () => {
  const t = defaults.tx;
  let stats: AmountStats | null = null;
  const amounts = [90, 110, 95, 105, 100, 100, 98, 102, 100];
  for (const x of amounts) stats = addAmount(stats, x, t);
  assert.equal(stats!.n, 9);
  assert.equal(largeAmount(stats, tx("t", T0, 900), t), null, "9 amounts: no baseline yet");
  stats = addAmount(stats, 100, t);
  // 3σ as rare with σ from 10 amounts: 4.24 of them.
  const k = sampleSigmas(3, 10);
  assert.ok(k > 4.2 && k < 4.3, `k ${k}`);
  const raw = stats.mean + k * Math.sqrt(stats.variance);
  const ratio = Math.exp(stats.log_mean + k * Math.sqrt(stats.log_variance));
  const limit = Math.max(raw, ratio);
  assert.ok(limit > 100 && limit < 130, `limit ${limit}`);
  assert.equal(largeAmount(stats, tx("t", T0, limit - 0.01), t), null);
  const fired = largeAmount(stats, tx("t", T0, limit + 0.01), t);
  assert.ok(fired);
  assert.equal(fired.severity, "low");
  assert.equal(fired.evidence.unusual_for_user, true);
  assert.equal(fired.evidence.history, 10);
  assert.equal(fired.evidence.user_limit, Math.round(limit * 100) / 100);
});

Deno.test("largeAmount() wants an amount unusual as a ratio too: a user's ordinary rent is not", () => {
  const t = defaults.tx;
  let stats: AmountStats | null = null;
  // Lunches and groceries, and once a month the rent.
  for (const x of [30, 45, 25, 60, 35, 900, 40, 55, 30, 50]) stats = addAmount(stats, x, t);
  const k = sampleSigmas(3, 10);
  const raw = stats!.mean + k * Math.sqrt(stats!.variance);
  assert.ok(raw < 1_300, `mean + kσ is ${raw}: below the next rent`);
  assert.equal(largeAmount(stats, tx("rent", T0, 1_300), t), null, "not unusual as a ratio");
  const ratio = Math.exp(stats!.log_mean + k * Math.sqrt(stats!.log_variance));
  assert.ok(ratio > 1_300);
  assert.ok(largeAmount(stats, tx("big", T0, ratio + 1), t), "above both limits");
});

Deno.test("addAmount() averages the first amounts exactly, then weighs about the last 50", () => {
  const t = defaults.tx;
  let s = addAmount(null, 10, t);
  s = addAmount(s, 20, t);
  s = addAmount(s, 30, t);
  assert.equal(s.mean, 20);
  assert.ok(Math.abs(s.variance - 200 / 3) < 1e-9, "the population variance of 10, 20, 30");
  let long: AmountStats | null = null;
  for (let i = 0; i < 500; i++) long = addAmount(long, 100, t);
  for (let i = 0; i < 50; i++) long = addAmount(long, 200, t);
  // An exponential average with weight 2/51 has moved 1 - (49/51)^50 ≈ 86 % of the way.
  assert.ok(long!.mean > 180 && long!.mean < 190, `${long!.mean}`);
});

Deno.test("rapidTransfers() fires at the sixth transfer within 1 min, not at the fifth, nor at the window's edge", () => {
  const t = defaults.tx;
  let recent = NO_TRANSFERS;
  let alert: AlertDraft | null = null;
  for (let i = 0; i < 5; i++) {
    ({ recent, alert } = rapidTransfers(recent, tx(`t${i}`, T0 + i * 10 * SEC, 50), t));
    assert.equal(alert, null, `transfer ${i + 1}`);
  }
  const edge = rapidTransfers(recent, tx("t5", T0 + MIN, 50), t);
  assert.equal(edge.alert, null, "exactly 1 min after the first: it has left the window");
  const sixth = rapidTransfers(recent, tx("t5", T0 + 59 * SEC, 50), t);
  assert.ok(sixth.alert);
  assert.equal(sixth.alert.rule, "tx.rapid_transfers");
  assert.deepEqual(sixth.alert.event_ids, ["t0", "t1", "t2", "t3", "t4", "t5"]);
  assert.equal(sixth.alert.evidence.transfers, 6);
});

const CTX = { self: { type: "user", key: "u1" }, watermark_ms: 0 } as ActorContext;

/**
 * Feeds the messages in order, then lets event time run out as the end of a replay does:
 * what waits for the watermark (transfers held for `user.account_takeover`) is judged.
 */
function feed(events: UserMessage[], c = structuredClone(defaults) as Config) {
  // A served login-risk model, so `login_risk` messages are heard.
  const b = userBehaviour(c, () => ({ version: "9", risky_index: 1 }));
  let s: UserState = b.initial("u1");
  const alerts: AlertDraft[] = [];
  let judge = false;
  const take = (m: UserMessage) => {
    const step = b.receive(s, m, CTX);
    s = step.state;
    for (const e of step.effects as Effect[]) {
      if (e.kind === "alert") alerts.push(e.alert);
      if (e.kind === "timer" && e.name === "judge_transfers") judge = true;
    }
  };
  for (const m of events) take(m);
  while (judge) {
    judge = false;
    take({ kind: "judge_transfers", watermark_ms: Infinity });
  }
  return { state: s, alerts };
}

const ev = (event: AuthEvent | TransactionEvent): UserMessage => ({ kind: "event", event });

Deno.test("userBehaviour() raises impossible travel once per 15 min cool-down, and again after it", () => {
  const hop = (id: string, ts: number, place: typeof OSLO) => ev(loginAt(id, ts, place));
  const { alerts } = feed([
    hop("a", T0, OSLO),
    hop("b", T0 + 10 * MIN, SAO_PAULO), // alert
    hop("c", T0 + 20 * MIN, OSLO), // within the cool-down
    hop("d", T0 + 26 * MIN, SAO_PAULO), // 16 min after the alert: alert
  ]);
  const travel = alerts.filter((a) => a.rule === "auth.impossible_travel");
  assert.deepEqual(travel.map((a) => a.event_ids[0]), ["b", "d"]);
});

Deno.test("userBehaviour() knows the last login's device and the ones before it for new_device_location", () => {
  const logins = ["d1", "d2", "d1", "d2", "d1"].map((d, i) =>
    ev(loginAt(`l${i}`, T0 + i * HOUR, { device_id: d }))
  );
  const { alerts } = feed([
    ...logins,
    ev(loginAt("same", T0 + 6 * HOUR, { device_id: "d2" })),
    ev(loginAt("home", T0 + 7 * HOUR, { device_id: "d3" })), // a new phone at home
    ev(loginAt("new", T0 + 8 * HOUR, { device_id: "d4", ip: "91.5.6.7" })),
  ]);
  const fired = alerts.filter((a) => a.rule === "auth.new_device_location");
  assert.deepEqual(fired.map((a) => a.event_ids[0]), ["new"]);
  assert.deepEqual(fired[0]!.evidence.known_devices, ["d1", "d2", "d3"]);
});

Deno.test("userBehaviour() runs the transaction rules: deposits are not outgoing, payments are not transfers", () => {
  const deposits = Array.from({ length: 20 }, (_, i) => ev(tx(`d${i}`, T0 + i, 50_000, "deposit")));
  const payments = Array.from(
    { length: 8 },
    (_, i) => ev(tx(`p${i}`, T0 + HOUR + i * SEC, 20, "payment")),
  );
  const { state, alerts } = feed([...deposits, ...payments]);
  assert.deepEqual(alerts, [], "no large amount for deposits, no rapid transfers for payments");
  assert.equal(state.amounts?.n, 8);
  assert.equal(state.transactions, 28);
  const burst = Array.from({ length: 8 }, (_, i) => ev(tx(`t${i}`, T0 + 2 * HOUR + i * SEC, 20)));
  const after = feed([...deposits, ...payments, ...burst]);
  const rapid = after.alerts.filter((a) => a.rule === "tx.rapid_transfers");
  assert.equal(rapid.length, 1, "one alert for the burst (cool-down)");
  assert.equal(rapid[0]!.event_ids.at(-1), "t5");
});

Deno.test("user.account_takeover: a login from a new device, then a transfer of at least 1,000 to a new payee within 30 min", () => {
  const home = ev(loginAt("home", T0));
  const intruder = ev(
    loginAt("intruder", T0 + HOUR, { device_id: "d-evil", ip: "203.0.113.50", ...SAO_PAULO }),
  );
  const transfer = (id: string, ts: number, amount: number, to = `new-${id}`) =>
    ev({ ...tx(id, ts, amount), counterparty: to });
  const fired = feed([home, intruder, transfer("t1", T0 + HOUR + 29 * MIN, 1_000)]).alerts
    .filter((a) => a.rule === "user.account_takeover");
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.severity, "critical");
  assert.deepEqual(fired[0]!.event_ids, ["intruder", "t1"]);
  assert.deepEqual((fired[0]!.evidence.login as { why: string[] }).why, [
    "new_device",
    "new_country",
  ]);
  const none = (events: UserMessage[]) =>
    feed(events).alerts.filter((a) => a.rule === "user.account_takeover").length;
  assert.equal(none([home, intruder, transfer("t1", T0 + HOUR + 31 * MIN, 5_000)]), 0, "too late");
  assert.equal(none([home, intruder, transfer("t1", T0 + HOUR + MIN, 999.99)]), 0, "below 1,000");
  assert.equal(
    none([home, ev(loginAt("again", T0 + HOUR)), transfer("t1", T0 + HOUR + MIN, 5_000)]),
    0,
    "a known device and country",
  );
  assert.equal(
    none([
      home,
      ev(loginAt("phone", T0 + HOUR, { device_id: "d-new" })),
      transfer("t1", T0 + HOUR + MIN, 5_000),
    ]),
    0,
    "a new device on the user's own network",
  );
  const elsewhere = ev(loginAt("x", T0 + HOUR, { device_id: "d-new", ip: "91.5.6.7" }));
  assert.equal(none([home, elsewhere, transfer("t1", T0 + HOUR + MIN, 5_000)]), 1, "new network");
  assert.equal(
    none([ev(loginAt("first", T0)), transfer("t1", T0 + MIN, 5_000)]),
    0,
    "a first login has no history to be new against",
  );
  // A payee paid before the intruder came is not new.
  const known = transfer("t0", T0 + 10 * MIN, 50, "landlord");
  assert.equal(
    none([home, known, intruder, transfer("t1", T0 + HOUR + MIN, 5_000, "landlord")]),
    0,
    "a known payee",
  );
});

Deno.test("user.account_takeover: judged when the watermark passes the transfer, whichever topic came first", () => {
  const home = ev(loginAt("home", T0));
  const intruder = ev(
    loginAt("intruder", T0 + HOUR, { device_id: "d-evil", ip: "203.0.113.50", ...SAO_PAULO }),
  );
  const later = ev(
    loginAt("later", T0 + HOUR + 20 * MIN, { device_id: "d-evil2", ip: "198.51.100.9" }),
  );
  const t1 = ev({ ...tx("t1", T0 + HOUR + 10 * MIN, 2_000), counterparty: "mule" });
  const chains = (events: UserMessage[]) =>
    feed(events).alerts.filter((a) => a.rule === "user.account_takeover")
      .map((a) => a.event_ids.join(">"));
  // In time order, and with the payment's topic read ahead of the logins' (as a live
  // worker may): the same one alert, naming the login before the transfer, not the later.
  assert.deepEqual(chains([home, intruder, t1, later]), ["intruder>t1"]);
  assert.deepEqual(chains([t1, home, intruder, later]), ["intruder>t1"]);
  assert.deepEqual(chains([home, t1, later, intruder]), ["intruder>t1"]);
  // Held until then: nothing is raised while the watermark has not passed the transfer.
  const b = userBehaviour(structuredClone(defaults) as Config);
  let s = b.initial("u1");
  for (const m of [home, intruder, t1]) s = b.receive(s, m, CTX).state;
  assert.equal(s.transfers_pending.length, 1);
  const early = b.receive(s, { kind: "judge_transfers", watermark_ms: T0 + HOUR + 10 * MIN }, CTX);
  assert.equal(early.effects.filter((e) => e.kind === "alert").length, 0, "not past it yet");
  const due = b.receive(s, { kind: "judge_transfers", watermark_ms: T0 + HOUR + 11 * MIN }, CTX);
  assert.equal(due.effects.filter((e) => e.kind === "alert").length, 1);
  assert.equal(due.state.transfers_pending.length, 0);
});

Deno.test("user.account_takeover: a success after 5 failed logins starts the chain too; after 4 it does not", () => {
  const four = [1, 2, 3, 4].map((i) =>
    ev(authEvent("login_failure", `f${i}`, T0 + HOUR + i * SEC, { ip: "84.1.2.3" }))
  );
  const mistyped = feed([
    ev(loginAt("home", T0)),
    ...four,
    ev(loginAt("in", T0 + HOUR + 10 * SEC)),
    ev({ ...tx("t", T0 + HOUR + 5 * MIN, 2_000), counterparty: "mule" }),
  ]);
  assert.equal(mistyped.alerts.filter((a) => a.rule === "user.account_takeover").length, 0);
  const fails = [1, 2, 3, 4, 5].map((i) =>
    ev(authEvent("login_failure", `f${i}`, T0 + HOUR + i * SEC, { ip: "84.1.2.3" }))
  );
  const { alerts } = feed([
    ev(loginAt("home", T0)),
    ...fails,
    ev(loginAt("in", T0 + HOUR + 10 * SEC)),
    ev({ ...tx("t", T0 + HOUR + 5 * MIN, 2_000), counterparty: "mule" }),
  ]);
  const chain = alerts.find((a) => a.rule === "user.account_takeover");
  assert.ok(chain);
  assert.deepEqual((chain.evidence.login as { why: string[] }).why, ["after_failures"]);
});

Deno.test("user.compromise_after_attack: a suspicious success within 180 min of a brute-force alert on the user, from any IP", () => {
  // Five logins from home: the baseline before anything is new.
  const home = Array.from({ length: 5 }, (_, i) => ev(loginAt(`home${i}`, T0 - HOUR + i * MIN)));
  const burst = Array.from(
    { length: 5 },
    (_, i) => ev(authEvent("login_failure", `f${i}`, T0 + i * SEC, { ip: "203.0.113.9" })),
  );
  const after = (min: number, more: Partial<AuthEvent> = { ip: "84.9.9.9", device_id: "dx" }) =>
    feed([...home, ...burst, ev(loginAt("in", T0 + 4 * SEC + min * MIN, more))]).alerts
      .filter((a) => a.rule === "user.compromise_after_attack");
  const fired = after(179);
  assert.equal(fired.length, 1);
  assert.deepEqual(fired[0]!.event_ids, ["in"]);
  assert.deepEqual(fired[0]!.evidence.attack, {
    rule: "auth.brute_force",
    ip: "203.0.113.9",
    at: new Date(T0 + 4 * SEC).toISOString(),
  });
  assert.deepEqual(fired[0]!.evidence.why, ["new_device", "new_network"]);
  assert.equal(fired[0]!.evidence.same_ip, false, "IP rotation does not hide it");
  assert.equal(fired[0]!.severity, "high");
  // The user's own brute force names no incident: its alerts join the user's of the hour.
  assert.equal(fired[0]!.incident, undefined);
  assert.equal(after(180).length, 1, "at the window's edge");
  assert.equal(after(181).length, 0);
  // The owner from their own device and network: the attack merely tried the account.
  assert.deepEqual(after(30, {}), [], "a known device and network");
  assert.deepEqual(after(30, { ip: "84.1.2.77" }), [], "another address of the same /24");
  assert.deepEqual(after(30, { device_id: "new-phone" }), [], "a new phone at home");
  // From the attacking address itself, on a known device: a confirmed compromise.
  const own = after(30, { ip: "203.0.113.9" });
  assert.deepEqual(own.map((a) => [a.severity, a.evidence.why]), [
    ["critical", ["attack_address", "new_network"]],
  ]);
  assert.deepEqual(after(30, { ip: "203.0.113.50" }).map((a) => a.evidence.why), [
    ["attack_network", "new_network"],
  ]);
  // The "attack" came from the user's own office address (a stale password retried after
  // it expired): their login from there is no news.
  const office = { ip: "84.1.2.3" };
  const stale = Array.from(
    { length: 5 },
    (_, i) => ev(authEvent("login_failure", `s${i}`, T0 + i * SEC, office)),
  );
  const fromOffice = feed([...home, ...stale, ev(loginAt("in", T0 + 10 * MIN, office))]).alerts
    .filter((a) => a.rule === "user.compromise_after_attack");
  assert.deepEqual(fromOffice, [], "the user's own network");
  // A user with fewer logins before has nothing to compare with: only the attack's address.
  const first = (ip: string) =>
    feed([...home.slice(0, 4), ...burst, ev(loginAt("in", T0 + 10 * MIN, { ip }))]).alerts
      .filter((a) => a.rule === "user.compromise_after_attack").length;
  assert.equal(first("84.9.9.9"), 0);
  assert.equal(first("203.0.113.9"), 1);
});

Deno.test("user.compromise_after_attack: a login off the user's network is judged again with its login risk, whichever comes first; the owner's network never on the score alone", () => {
  const home = Array.from({ length: 5 }, (_, i) => ev(loginAt(`home${i}`, T0 - HOUR + i * MIN)));
  const told: UserMessage = {
    kind: "targeted",
    rule: "ip.password_spray",
    ip: "203.0.113.9",
    episode: "0",
    ts: T0,
  };
  const score = (id: string, risk: number, ip = "84.1.2.3"): UserMessage => ({
    kind: "login_risk",
    event_id: id,
    ts: T0 + 10 * MIN,
    ip,
    country: OSLO.country ?? null,
    device_id: "d1",
    features: new Float32Array(0),
    risk,
  });
  const rule = (events: UserMessage[]) =>
    feed(events).alerts.filter((a) => a.rule === "user.compromise_after_attack")
      .map((a) => [a.dedup, (a.evidence.why as string[]).join(), a.severity]);
  // The owner from home: no alert, whatever the model says (its way back after an
  // intruder's login scores high, judged from the intruder's place).
  const own = ev(loginAt("s", T0 + 10 * MIN));
  assert.deepEqual(rule([...home, told, own]), [], "known device and network, not scored");
  assert.deepEqual(rule([...home, told, own, score("s", 0.85)]), [], "known network, scored high");
  // Two logins before: too few to say what is new, so the score decides, off the user's
  // network; a suspicion only (medium), in either order.
  const away = ev(loginAt("t", T0 + 10 * MIN, { ip: "91.5.5.5" }));
  const few = home.slice(0, 2);
  const high = score("t", 0.85, "91.5.5.5");
  assert.deepEqual(rule([...few, told, away, high]), [["t", "login_risk", "medium"]]);
  assert.deepEqual(rule([...few, away, high, told]), [["t", "login_risk", "medium"]]);
  assert.deepEqual(rule([...few, told, away, score("t", 0.6, "91.5.5.5")]), [], "below medium");
  assert.deepEqual(rule([...few, told, ev(loginAt("u", T0 + 10 * MIN)), score("u", 0.85)]), []);
});

Deno.test("user.compromise_after_attack: an IP's word that the user was targeted, before or after the login arrives", () => {
  const told = (ts: number, episode = "0"): UserMessage => ({
    kind: "targeted",
    rule: "ip.credential_stuffing",
    ip: "203.0.113.9",
    episode,
    ts,
  });
  const rule = (alerts: AlertDraft[]) =>
    alerts.filter((a) => a.rule === "user.compromise_after_attack").map((a) => a.event_ids[0]);
  // The user's own login before; the successes below come from a new device and network.
  const home = Array.from(
    { length: 5 },
    (_, i) =>
      ev(loginAt(`home${i}`, T0 - 2 * HOUR + i * MIN, { ip: "10.9.9.9", device_id: "own" })),
  );
  const feedAfter = (events: UserMessage[]) => feed([...home, ...events]);
  // Told first, then the success.
  assert.deepEqual(rule(feedAfter([told(T0), ev(loginAt("s", T0 + 10 * MIN))]).alerts), ["s"]);
  // The success was handled first (the IP's actor runs behind): judged when told.
  assert.deepEqual(rule(feedAfter([ev(loginAt("s", T0 + 10 * MIN)), told(T0)]).alerts), ["s"]);
  // A success before the attack is not a compromise.
  assert.deepEqual(rule(feedAfter([ev(loginAt("s", T0 - MIN)), told(T0)]).alerts), []);
  // Told twice about the same attack, and a second login from where the first came (no
  // longer new): one alert.
  assert.deepEqual(
    rule(
      feedAfter([told(T0), ev(loginAt("s", T0 + MIN)), told(T0), ev(loginAt("t", T0 + 2 * MIN))])
        .alerts,
    ),
    ["s"],
  );
  assert.deepEqual(
    rule(feedAfter([ev(loginAt("s", T0 + MIN)), told(T0), told(T0)]).alerts),
    ["s"],
    "told twice after the login",
  );
  // Another attack (episode) of the IP too: one alert for the login, whichever came first.
  const both = (events: UserMessage[]) =>
    feedAfter(events).alerts.filter((a) => a.rule === "user.compromise_after_attack")
      .map((a) => a.dedup);
  const inOrder = both([told(T0), told(T0 + SEC, "1"), ev(loginAt("s", T0 + MIN))]);
  const late = both([ev(loginAt("s", T0 + MIN)), told(T0 + SEC, "1"), told(T0)]);
  assert.deepEqual(inOrder, ["s"]);
  assert.deepEqual(late, inOrder, "the same alert id in either order");
  // Word of a later try, then of an earlier one (arriving late): the earliest counts.
  assert.deepEqual(
    rule(feedAfter([told(T0 + 5 * MIN), ev(loginAt("s", T0 + 2 * MIN)), told(T0)]).alerts),
    ["s"],
  );
});

Deno.test("user.compromise_after_attack: the same alerts whatever order the logins, the attacks' word and the scores arrive in", () => {
  // The user's events arrive in their order (one partition); an IP's word (another
  // partition, through the signals topic) and a login's score (a detached reply) may come
  // any time after what they are about: after later logins, or before them. Each comes before
  // the user's logins more than the window after it (a word is raised within the IP
  // actor's lag, a score within the model's: `max_recent_logins` and the window bound
  // what is kept).
  const home = Array.from(
    { length: 5 },
    (_, i) =>
      ev(loginAt(`home${i}`, T0 - 2 * HOUR + i * MIN, { ip: "10.9.9.9", device_id: "own" })),
  );
  const places = [
    {}, // a new device and network: suspicious
    { ip: "10.9.9.9", device_id: "own" }, // the owner's: only a high score makes it so
    { ip: "203.0.113.9", device_id: "own" }, // the attacking address
  ];
  const logins = fc.array(
    fc.record({ at: fc.integer({ min: -30, max: 240 }), place: fc.nat(2), risk: fc.nat(99) }),
    { minLength: 1, maxLength: 6 },
  );
  const words = fc.array(
    fc.record({ at: fc.integer({ min: -60, max: 200 }), episode: fc.nat(2) }),
    {
      minLength: 1,
      maxLength: 3,
    },
  );
  // Where each word and score goes among the user's events: any point at or after it.
  const slots = fc.array(fc.nat(100), { minLength: 18, maxLength: 18 });
  fc.assert(
    fc.property(logins, words, slots, slots, (ls, ws, a, b) => {
      const sorted = ls.map((l, i) => ({ ...l, id: `l${i}` })).sort((x, y) => x.at - y.at);
      const events = sorted.map((l) => ev(loginAt(l.id, T0 + l.at * MIN, places[l.place])));
      const extras = [
        ...ws.map((w) => ({
          after: 0,
          until: ((k) => k < 0 ? sorted.length : k)(sorted.findIndex((l) => l.at > w.at + 180)),
          m: {
            kind: "targeted",
            rule: "ip.password_spray",
            ip: "203.0.113.9",
            episode: String(w.episode),
            ts: T0 + w.at * MIN,
          } as UserMessage,
        })),
        ...sorted.map((l, i) => ({
          after: i + 1,
          until: ((k) => k < 0 ? sorted.length : k)(sorted.findIndex((o) => o.at > l.at + 180)),
          m: {
            kind: "login_risk",
            event_id: l.id,
            ts: T0 + l.at * MIN,
            ip: null,
            country: null,
            device_id: null,
            features: new Float32Array(0),
            risk: l.risk / 100,
          } as UserMessage,
        })),
      ];
      const order = (slot: number[]) => {
        const at = extras.map((x, i) => x.after + (slot[i]! % (x.until + 1 - x.after)));
        const out: UserMessage[] = [];
        for (let k = 0; k <= events.length; k++) {
          if (k > 0) out.push(events[k - 1]!);
          extras.forEach((x, i) => at[i] === k && out.push(x.m));
        }
        return out;
      };
      const ids = (slot: number[]) =>
        feed([...home, ...order(slot)]).alerts
          .filter((x) => x.rule === "user.compromise_after_attack").map((x) => x.dedup).sort();
      assert.deepEqual(ids(a), ids(b));
    }),
    { seed: 14, numRuns: 300 },
  );
});

Deno.test("largeAmount() compares the cap in euros: a month's rent in NOK is not over it, 10,000 euros in NOK is", () => {
  const t = defaults.tx;
  const rent = { ...tx("rent", T0, 15_000), currency: "NOK" };
  assert.equal(largeAmount(null, rent, t), null, "15,000 NOK is about 1,300 euros");
  const big = largeAmount(null, { ...tx("big", T0, 116_500), currency: "NOK" }, t);
  assert.ok(big);
  assert.equal(big.evidence.over_cap, true);
  assert.equal(big.evidence.amount_eur, 10_043.1);
  assert.equal(inEuros(100, "XYZ"), 100, "a currency not listed: as it is");
  assert.equal(inEuros(100, "constructor"), 100);
});

import assert from "node:assert/strict";
import { type Config, defaults } from "../../config/defaults.ts";
import type { AuthEvent } from "../../events/types.ts";
import { ipBehaviour, type IpState, isIpAttempt } from "../../actors/ip.ts";
import { authEvent } from "./events.ts";
import { driveIp } from "./ip_driver.ts";

const IP = "198.51.100.9";
const T0 = Date.UTC(2026, 0, 5, 3);
const MIN = 60_000;

function fail(user: string, id: string, ts: number): AuthEvent {
  return authEvent("login_failure", id, ts, { user_id: user, ip: IP });
}

/** `users` users, `each` failures per user, one failure every `gap_ms` (user by user). */
function attempts(users: number, each: number, start: number, gap_ms: number, tag = "") {
  const out: AuthEvent[] = [];
  for (let u = 0; u < users; u++) {
    for (let k = 0; k < each; k++) {
      out.push(fail(`${tag}u${u}`, `${tag}u${u}-${k}`, start + out.length * gap_ms));
    }
  }
  return out;
}

function run(events: readonly AuthEvent[], c: Config = structuredClone(defaults) as Config) {
  return driveIp(IP, events, c);
}

Deno.test("ip.password_spray fires at 5 users × 3 failures (15), not one failure before", () => {
  const events = attempts(5, 3, T0, 30_000);
  const below = run(events.slice(0, 14));
  assert.equal(below.alerts.length, 0);
  const { alerts } = run(events);
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.draft.ts, events[14]!.ts, "raised at the 15th failure");
  assert.equal(a.draft.rule, "ip.password_spray");
  assert.deepEqual(a.draft.entity, { type: "ip", key: IP });
  assert.equal(a.draft.evidence.users, 5);
  assert.equal(a.draft.evidence.failed_logins, 15);
  assert.equal(a.draft.event_ids.length, 15);
});

Deno.test("ip.password_spray needs 5 users with 2–8 failures each", () => {
  assert.equal(run(attempts(4, 5, T0, 10_000)).alerts.length, 0, "4 users × 5 = 20: too few users");
  // Five users with 9 failures each are brute force per user, not a spray.
  assert.equal(run(attempts(5, 9, T0, 10_000)).alerts.length, 0);
  const c = structuredClone(defaults) as Config;
  c.ip.spray_min_users = 4;
  assert.equal(run(attempts(4, 5, T0, 10_000), c).alerts.length, 1, "its threshold is config");
});

Deno.test("ip.password_spray counts within its 1 h window only", () => {
  // 15 failures 5 min apart span 70 min: no hour holds all of them.
  assert.equal(run(attempts(5, 3, T0, 5 * MIN)).alerts.length, 0);
  // 4 min apart: 56 min, inside the hour.
  assert.equal(run(attempts(5, 3, T0, 4 * MIN)).alerts.length, 1);
});

Deno.test("ip.credential_stuffing fires at 25 users tried once each, not at 24", () => {
  const events = attempts(25, 1, T0, 20_000);
  assert.equal(run(events.slice(0, 24)).alerts.length, 0);
  const { alerts } = run(events);
  assert.deepEqual(alerts.map((a) => [a.draft.rule, a.draft.ts]), [
    ["ip.credential_stuffing", events[24]!.ts],
  ]);
  assert.equal(alerts[0]!.draft.evidence.users, 25);
});

Deno.test("ip.credential_stuffing needs most users tried at most twice", () => {
  // 15 users, 3 failures each: 45 attempts but nobody tried ≤ 2 times (a spray instead).
  const rules = run(attempts(15, 3, T0, 10_000)).alerts.map((a) => a.draft.rule);
  assert.ok(!rules.includes("ip.credential_stuffing"));
  assert.ok(rules.includes("ip.password_spray"));
});

Deno.test("an IP rule alerts once per episode, and a new episode needs the cool-down and new failures", () => {
  const first = attempts(5, 3, T0, 30_000);
  const more = attempts(5, 3, T0 + 8 * MIN, 30_000, "b");
  assert.equal(run([...first, ...more]).alerts.length, 1, "within the 15 min cool-down: one alert");
  const later = attempts(5, 3, T0 + 20 * MIN, 30_000, "c");
  const { alerts } = run([...first, ...later]);
  assert.equal(alerts.length, 2, "a second spray after the cool-down is a second episode");
  assert.notEqual(alerts[0]!.draft.dedup, alerts[1]!.draft.dedup);
});

Deno.test("the same failure delivered twice (re-key topic after a crash) counts once", () => {
  const events = attempts(5, 3, T0, 30_000);
  const doubled = events.flatMap((e, i) => (i % 2 === 0 ? [e, e] : [e]));
  const once = run(events), twice = run(doubled);
  assert.equal(twice.state.failed_logins, 15);
  assert.deepEqual(twice.state, once.state);
  assert.equal(twice.alerts.length, 1);
});

Deno.test("out-of-order arrival gives the same alerts and state", () => {
  // 10 s apart: the last five reversed arrive up to 40 s late, within the lateness.
  const events = attempts(25, 1, T0, 10_000);
  // The newest attempts arrive first, as when one re-keyed source partition runs ahead.
  const shuffled = [...events.slice(0, 20), ...events.slice(20).reverse()];
  const a = run(events), b = run(shuffled);
  const summary = (r: ReturnType<typeof run>) =>
    r.alerts.map((x) => [x.draft.rule, x.draft.dedup, x.draft.ts, x.draft.event_ids.length]);
  assert.deepEqual(summary(a), [["ip.credential_stuffing", "0", events[24]!.ts, 25]]);
  assert.deepEqual(summary(b), summary(a));
  assert.deepEqual(b.state, a.state);
});

Deno.test("isIpAttempt(): login attempts with an IP go to the IP's actor; logouts do not", () => {
  const f = fail("u", "1", T0);
  assert.equal(isIpAttempt(f), true);
  assert.equal(isIpAttempt({ ...f, type: "login_success" }), true);
  assert.equal(isIpAttempt({ ...f, type: "logout" }), false);
  assert.equal(isIpAttempt({ ...f, ip: undefined }), false);
  assert.equal(isIpAttempt({ ...f, ip: "" }), false);
});

Deno.test("an IP's spray or stuffing alert tells every user it tried, when first tried, and each user it tries next", () => {
  const ip = "203.0.113.9";
  const f = (id: string, user: string, ts: number) =>
    authEvent("login_failure", id, ts, { ip, user_id: user });
  // Credential stuffing: 25 users once each; the alert comes at the 25th.
  const events = Array.from({ length: 25 }, (_, i) => f(`f${i}`, `u${i}`, T0 + i * 1_000));
  events.push(f("f25", "u25", T0 + 25_000)); // a new user, during the campaign
  events.push(f("late", "u99", T0 + 24_000 + 181 * 60_000)); // after the campaign's window
  const sends = driveIp(ip, events).sends.map((x) => ({
    user: x.user,
    ...x.message,
  }));
  assert.equal(sends.length, 26, "every user tried is told, and the next one");
  assert.ok(sends.every((x) => x.rule === "ip.credential_stuffing" && x.episode === "0"));
  assert.ok(sends.every((x) => x.kind === "targeted" && x.ip === ip));
  assert.deepEqual(sends.slice(0, 2).map((x) => x.ts), [T0, T0 + 1_000], "when each was tried");
  assert.deepEqual(sends.at(-1), {
    user: "u25",
    kind: "targeted",
    ip,
    ts: T0 + 25_000,
    rule: "ip.credential_stuffing",
    episode: "0",
  });
});

Deno.test("an IP alert waits for the watermark to pass its failure, then comes once, at that failure's time", () => {
  // 25 users once each, 20 s apart; then more failures go on every 20 s.
  const events = attempts(40, 1, T0, 20_000);
  const { alerts, judged } = driveIp(IP, events);
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]!.draft.ts, events[24]!.ts, "at the 25th failure's time");
  // The watermark (newest − 60 s lateness) passes it when a failure 80 s later arrives.
  assert.equal(alerts[0]!.at, 28, "raised on the arrival that moved the watermark past it");
  assert.ok(judged <= events.length, `${judged} judge turns for ${events.length} failures`);
  // Nothing after it: the input ends and every failure is judged, no alert is lost.
  assert.equal(driveIp(IP, events.slice(0, 25)).alerts[0]!.at, 25, "judged at the end");
});

Deno.test("an address shared by real users (more successes than failures in the hour) raises no spray, stuffing or throttle", () => {
  const ok = (i: number, ts: number) =>
    authEvent("login_success", `ok${i}`, ts, { user_id: `staff${i}`, ip: IP });
  // An office NAT: 40 people log in over the hour before …
  const office = Array.from({ length: 40 }, (_, i) => ok(i, T0 - 50 * MIN + i * MIN));
  // … then 30 failures of 30 users (stuffing's pattern) within 15 min.
  const stuffing = attempts(30, 1, T0, 30_000);
  assert.deepEqual(run([...office, ...stuffing]).alerts, [], "40 successes ≥ 30 failures");
  assert.equal(run(stuffing).alerts.length, 1, "the same failures alone: stuffing");
  // Failures outnumber the successes: it is not hidden any more.
  const more = attempts(45, 1, T0, 10_000, "b");
  const fired = run([...office, ...more]).alerts.map((a) => a.draft.rule);
  assert.deepEqual(fired, ["ip.credential_stuffing"]);
  // The hour slides: successes two hours ago do not count.
  const old = office.map((e) => ({ ...e, ts: e.ts - 2 * 60 * MIN }));
  assert.equal(run([...old, ...stuffing]).alerts.length, 1, "old successes");
  // 0 turns the gate off.
  const c = structuredClone(defaults) as Config;
  c.ip.shared_success_ratio = 0;
  assert.equal(run([...office, ...stuffing], c).alerts.length, 1, "ratio 0: never shared");
});

Deno.test("a failure arriving late is judged at its own time too: a spray it completes is not lost to a later failure that arrived first", () => {
  // u0 fails 8 times, u1–u3 three times, u4 twice; then u4's third failure at t completes a
  // spray (5 users with 3–8 each, 19 failures), and u0's ninth at t + 1 ms takes u0 out of
  // range.
  const events: AuthEvent[] = [];
  let ms = 0;
  const add = (user: string) => events.push(fail(user, `${user}-${ms}`, T0 + ms++ * 1_000));
  for (let k = 0; k < 8; k++) add("u0");
  for (const u of ["u1", "u2", "u3"]) for (let k = 0; k < 3; k++) add(u);
  for (let k = 0; k < 2; k++) add("u4");
  const decisive = fail("u4", "u4-decisive", T0 + ms * 1_000);
  const ninth = fail("u0", "u0-ninth", T0 + ms * 1_000 + 1);
  const inOrder = run([...events, decisive, ninth]).alerts.map((a) => a.draft);
  const late = run([...events, ninth, decisive]).alerts.map((a) => a.draft);
  assert.deepEqual(inOrder.map((a) => [a.rule, a.ts, a.dedup]), [
    ["ip.password_spray", decisive.ts, "0"],
  ]);
  assert.deepEqual(late, inOrder, "the same alert, time and failures");
});

Deno.test("spray and stuffing are disjoint: one campaign raises one of them, and a steady attack trying many users twice raises neither", () => {
  const rules = (events: AuthEvent[]) => run(events).alerts.map((a) => a.draft.rule);
  // Stuffing: 30 users once each; a spray: 7 users three times each.
  assert.deepEqual(rules(attempts(30, 1, T0, 5_000)), ["ip.credential_stuffing"]);
  assert.deepEqual(rules(attempts(7, 3, T0, 5_000)), ["ip.password_spray"]);
  // 30 users once, then 7 of them twice more within the cool-down: still the one campaign.
  const once = attempts(30, 1, T0, 2_000);
  const again: AuthEvent[] = [];
  for (let k = 0; k < 2; k++) {
    for (let u = 0; u < 7; u++) {
      again.push(fail(`u${u}`, `u${u}-again${k}`, T0 + 70_000 + (k * 7 + u) * 1_000));
    }
  }
  assert.deepEqual(rules([...once, ...again]), ["ip.credential_stuffing"]);
  // 60 users twice each, one failure every 3 s: neither (the throttle's to catch).
  const steady = attempts(60, 2, T0, 3_000);
  assert.deepEqual(rules(steady).filter((r) => r !== "ip.throttle"), []);
});

Deno.test("a try that arrives late is told of the campaigns time order tells it of: the one running at its time and a later one it falls in", () => {
  // A cool-down of 20 s, so the second campaign comes within the lateness of the first.
  const c = structuredClone(defaults) as Config;
  c.alerts.cooldown_ms = 20_000;
  const told = (events: AuthEvent[]) =>
    new Set(
      driveIp(IP, events, c).sends.filter((x) => x.user === "ulate").map((x) =>
        `${x.message.rule}#${x.message.episode}`
      ),
    );
  // Stuffing: 25 users once each (alert at the 25th, episode "0"); past its cool-down,
  // u0–u6 three times more: a spray (episode "1"). "ulate" is tried between the two alerts.
  const events = attempts(25, 1, T0, 1_000);
  const late = fail("ulate", "ulate-1", T0 + 26_000);
  const spray: AuthEvent[] = [];
  for (let k = 0; k < 3; k++) {
    for (let u = 0; u < 7; u++) {
      spray.push(fail(`u${u}`, `u${u}-again${k}`, T0 + 50_000 + (k * 7 + u) * 1_000));
    }
  }
  const inOrder = told([...events, late, ...spray]);
  assert.deepEqual([...inOrder].sort(), ["ip.credential_stuffing#0", "ip.password_spray#1"]);
  assert.deepEqual([...told([...events, ...spray, late])].sort(), [...inOrder].sort());
});

Deno.test("an IP state kept by the previous version (a checkpoint from before failures were judged at the watermark) goes on: its failures count as judged, new ones are judged", () => {
  // As the previous version kept it: no judged_ms, success minutes or campaign.
  const older = driveIp(IP, attempts(3, 3, T0, 10_000)).state as unknown as Record<string, unknown>;
  const { judged_ms: _j, success_minutes: _m, success_counts: _c, campaign: _p, ...rest } = older;
  const legacy = {
    ...rest,
    campaigns: [],
    success_hour: 0,
    successes: 0,
    successes_before: 0,
  } as unknown as IpState;
  const b = ipBehaviour(structuredClone(defaults) as Config);
  const ctx = { self: { type: "ip", key: IP }, watermark_ms: 0 };
  // Two more users thrice each complete a spray (5 users × 3); a success is counted too.
  let state = legacy;
  const effects = [];
  const more = attempts(2, 3, T0 + 100_000, 10_000, "n");
  for (
    const event of [
      authEvent("login_success", "ok", T0 + 95_000, { user_id: "x", ip: IP }),
      ...more,
    ]
  ) {
    const step = b.receive(state, { kind: "event", event }, ctx);
    state = step.state;
    effects.push(...step.effects);
  }
  assert.equal(effects.filter((e) => e.kind === "timer").length, 1, "a judge timer is set");
  const judged = b.receive(state, { kind: "judge", watermark_ms: Infinity }, ctx);
  const rules = judged.effects.flatMap((e) => e.kind === "alert" ? [e.alert.rule] : []);
  assert.deepEqual(rules, ["ip.password_spray"]);
  assert.equal(judged.state.judged_ms, more.at(-1)!.ts);
});

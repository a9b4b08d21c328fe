/**
 * Property-based tests (fast-check, fixed seed) of event-time windows: the window
 * arithmetic of `actors/window.ts` against brute-force models, the rules that document
 * order independence delivered in time order and in orders that stay within the allowed
 * lateness, and the page actor's tumbling windows through the real runtime's watermark.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { VirtualClock } from "../../actors/clock.ts";
import { ipBehaviour, type IpState } from "../../actors/ip.ts";
import { judgeAt, NO_ATTEMPTS, recordFailure } from "../../actors/rules/ip_attempts.ts";
import { pageBehaviour, type PageMessage, type PageState } from "../../actors/page.ts";
import { type FailureState, NO_FAILURES, onFailure } from "../../actors/rules/auth_failures.ts";
import { type Bucket, FULL, onThrottledFailure } from "../../actors/rules/ip_throttle.ts";
import { ActorRuntime, type RuntimeOptions } from "../../actors/runtime.ts";
import type { AlertDraft, Behaviour } from "../../actors/types.ts";
import {
  addRecent,
  cooledDown,
  countIn,
  distinctTags,
  EMPTY_RECENT,
  type Recent,
  rememberDistinct,
  within,
} from "../../actors/window.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { Alert, AuthEvent, OtherEvent } from "../../events/types.ts";
import { authEvent } from "./events.ts";

const SEED = { seed: 42, numRuns: 200 };
const SEC = 1_000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2026, 0, 5, 3);
/** The allowed lateness of the defaults: how far behind the newest event one may arrive. */
const LATE = defaults.runtime.allowed_lateness_ms;

// ---------------------------------------------------------------------------------------
// Helpers: time order, and arrival orders within the allowed lateness.

/** Something with an event time and its index in generation order. */
interface Timed {
  readonly ts: number;
  readonly i: number;
}

/** Time order: by event time, ties in generation order (a stable sort). */
function timeOrder<T extends Timed>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => a.ts - b.ts || a.i - b.i);
}

/**
 * An arrival order in which no item comes more than `late_ms` behind the newest one
 * before it: items sorted by `ts + delay` with each delay in [0, late_ms]. (If item b
 * comes before item a, then b.ts ≤ b.ts + delay_b ≤ a.ts + delay_a ≤ a.ts + late_ms.)
 */
function arrivalOrder<T extends Timed>(
  items: readonly T[],
  delays: readonly number[],
  late_ms = LATE,
): T[] {
  return items
    .map((x) => ({ x, key: x.ts + Math.min(late_ms, Math.max(0, delays[x.i] ?? 0)) }))
    .sort((a, b) => a.key - b.key || a.x.i - b.x.i)
    .map((e) => e.x);
}

/** Checks the generator: every item arrives at most `late_ms` behind the newest before it. */
function assertWithinLateness(order: readonly Timed[], late_ms = LATE): void {
  let newest = -Infinity;
  for (const x of order) {
    assert.ok(x.ts >= newest - late_ms, `item ${x.i} arrives later than the lateness`);
    newest = Math.max(newest, x.ts);
  }
}

/** Whether an arrival order differs from time order (counted, so a property is not vacuous). */
function reordered(order: readonly Timed[]): boolean {
  return order.some((x, k) => k > 0 && x.ts < order[k - 1]!.ts);
}

// ---------------------------------------------------------------------------------------
// 1. Window arithmetic against brute-force models.

/** An occurrence as generated: time, id and tag, in arrival order. */
interface Occ extends Timed {
  readonly id: string;
  readonly tag: string;
}

const occurrences = (maxLength: number, maxTs: number) =>
  fc.array(
    fc.record({ ts: fc.integer({ min: 0, max: maxTs }), tag: fc.constantFrom("", "x", "y", "z") }),
    { maxLength },
  ).map((xs) => xs.map((x, i): Occ => ({ ...x, i, id: `e${i}` })));

/** A window of the given occurrences, in any order (not necessarily sorted). */
function rawWindow(xs: readonly Occ[]): Recent {
  return { ts: xs.map((x) => x.ts), ids: xs.map((x) => x.id), tags: xs.map((x) => x.tag) };
}

Deno.test("property: countIn() and within() over (from, to] equal a brute-force filter, sorted or not", () => {
  fc.assert(
    fc.property(
      occurrences(40, 200),
      fc.boolean(),
      fc.integer({ min: -10, max: 210 }),
      fc.integer({ min: -10, max: 210 }),
      (xs, sorted, a, b) => {
        const items = sorted ? timeOrder(xs) : xs;
        const w = rawWindow(items);
        for (const [from, to] of [[Math.min(a, b), Math.max(a, b)], [a, b]] as const) {
          const kept = items.filter((x) => x.ts > from && x.ts <= to);
          assert.equal(countIn(w, from, to), kept.length);
          assert.deepEqual(within(w, from, to), rawWindow(kept));
        }
        assert.equal(countIn(w, -Infinity, Infinity), items.length);
      },
    ),
    SEED,
  );
});

Deno.test("property: addRecent() keeps, in time order, the newest `cap` within `span` of the newest, whatever the arrival order", () => {
  fc.assert(
    fc.property(
      occurrences(40, 300),
      fc.integer({ min: 1, max: 400 }),
      fc.integer({ min: 1, max: 45 }),
      (xs, span, cap) => {
        const w = xs.reduce((w, x) => addRecent(w, x.ts, x.id, x.tag, span, cap), EMPTY_RECENT);
        // The model: every occurrence sorted by time (equal times in arrival order), then
        // those after newest − span, then the `cap` newest of them.
        const newest = Math.max(...xs.map((x) => x.ts));
        const model = timeOrder(xs).filter((x) => x.ts > newest - span).slice(-cap);
        assert.deepEqual(w, rawWindow(model));
        assert.ok(w.ts.length <= cap);
        if (xs.length > 0) assert.equal(w.ts.at(-1), newest, "the newest is always kept");
      },
    ),
    SEED,
  );
});

Deno.test("property: addRecent() gives the same window for any arrival order of distinct times", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 500 }), { maxLength: 30 }),
      fc.integer({ min: 1, max: 600 }),
      fc.integer({ min: 1, max: 35 }),
      fc.func(fc.integer()),
      (times, span, cap, rank) => {
        const xs = times.map((ts, i): Occ => ({ ts, i, id: `e${i}`, tag: `t${i % 3}` }));
        const build = (order: readonly Occ[]) =>
          order.reduce((w, x) => addRecent(w, x.ts, x.id, x.tag, span, cap), EMPTY_RECENT);
        const shuffled = [...xs].sort((a, b) => rank(a.i) - rank(b.i) || a.i - b.i);
        assert.deepEqual(build(shuffled), build(timeOrder(xs)));
      },
    ),
    SEED,
  );
});

Deno.test("property: distinctTags() lists the non-empty tags once each, in first-seen order", () => {
  fc.assert(
    fc.property(occurrences(30, 100), (xs) => {
      const w = rawWindow(xs);
      const model: string[] = [];
      for (const x of xs) if (x.tag !== "" && !model.includes(x.tag)) model.push(x.tag);
      assert.deepEqual(distinctTags(w), model);
    }),
    SEED,
  );
});

Deno.test("property: rememberDistinct() keeps the `max` most recently seen distinct values, newest last", () => {
  const values = fc.oneof(
    fc.array(fc.option(fc.constantFrom("a", "b", "c", "d", "e", "f"), { nil: undefined })),
    fc.array(fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined })),
  );
  fc.assert(
    fc.property(values, fc.integer({ min: 1, max: 7 }), (seq, max) => {
      let list: readonly (string | number)[] = Object.freeze([]);
      for (const v of seq) {
        const before = list;
        list = Object.freeze(rememberDistinct(before, v, max));
        if (v === undefined || before.at(-1) === v) {
          assert.equal(list, before, "nothing new: the very same list");
        }
        assert.ok(list.length <= max);
        assert.equal(new Set(list).size, list.length, "distinct");
        if (v !== undefined) assert.equal(list.at(-1), v, "the value just seen is last");
      }
      // The model: the distinct values by their last occurrence, oldest first; the last `max`.
      const last = new Map<string | number, number>();
      seq.forEach((v, k) => {
        if (v !== undefined) last.set(v, k);
      });
      const model = [...last].sort((x, y) => x[1] - y[1]).map(([v]) => v).slice(-max);
      assert.deepEqual(list, model);
    }),
    SEED,
  );
});

Deno.test("property: alerts gated by cooledDown() are at least a cool-down apart, and none is missed", () => {
  fc.assert(
    fc.property(
      // A small range, so that equal times and gaps of exactly the cool-down happen.
      fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 40 }),
      fc.integer({ min: 0, max: 30 }),
      (raw, cooldown) => {
        const times = [...raw].sort((a, b) => a - b);
        let last: number | null = null;
        const fired: boolean[] = [];
        for (const t of times) {
          fired.push(cooledDown(last, t, cooldown));
          if (fired.at(-1)) last = t;
        }
        if (times.length > 0) assert.equal(fired[0], true, "the first one always fires");
        // Each attempt fires if and only if it is a cool-down or more after the last that fired.
        let prev: number | null = null;
        times.forEach((t, k) => {
          assert.equal(fired[k], prev === null || t - prev >= cooldown, `attempt at ${t}`);
          if (fired[k]) prev = t;
        });
        if (cooldown > 0 && times.length > 1 && times[1]! - times[0]! < cooldown) {
          assert.equal(fired[1], false, "held back within the cool-down");
        }
        assert.equal(cooledDown(undefined, 0, cooldown), true);
      },
    ),
    SEED,
  );
});

// ---------------------------------------------------------------------------------------
// 2. Rules delivered in time order and within the allowed lateness.

/** A failed login as generated. */
interface Failure extends Timed {
  readonly user: number;
  readonly ip: number;
}

const IPS = ["198.51.100.1", "198.51.100.2", "198.51.100.3"];

function failureEvent(f: Failure): AuthEvent {
  return authEvent("login_failure", `f${f.i}`, f.ts, { user_id: `u${f.user}`, ip: IPS[f.ip]! });
}

/** Failed logins (users, IPs, distinct times within `span_s` of T0) and their delays. */
const failures = (
  o: { users: number; ips: number; span_s: number; minLength: number; maxLength: number },
) =>
  fc.array(
    fc.record({
      user: fc.integer({ min: 0, max: o.users - 1 }),
      ip: fc.integer({ min: 0, max: o.ips - 1 }),
      s: fc.integer({ min: 0, max: o.span_s }),
      delay_s: fc.integer({ min: 0, max: LATE / SEC }),
    }),
    { minLength: o.minLength, maxLength: o.maxLength },
  ).map((xs) => ({
    // Distinct times (whole seconds, plus the index in ms): failures at the same time have
    // no time order between them, the log's order decides and decides the alert.
    items: xs.map((x, i): Failure => ({ i, user: x.user, ip: x.ip, ts: T0 + x.s * SEC + i })),
    delays: xs.map((x) => x.delay_s * SEC),
  }));

Deno.test("property: auth.brute_force in time order fires exactly where ≥ 5 failures fall in (t − 5 min, t] and the cool-down allows", () => {
  const p = defaults;
  const a = p.auth;
  const cap = Math.max(
    a.brute_force_failures,
    a.success_after_failures_min,
    a.max_failures_tracked,
  );
  let fired = 0;
  fc.assert(
    fc.property(
      failures({ users: 1, ips: 3, span_s: 30 * 60, minLength: 10, maxLength: 60 }),
      ({ items }) => {
        const ordered = timeOrder(items);
        let s: FailureState = NO_FAILURES;
        const got: AlertDraft[] = [];
        for (const f of ordered) {
          const out = onFailure(s, failureEvent(f), p);
          s = out.state;
          if (out.alert) got.push(out.alert);
        }
        // The model, from the rule's description: each failure with ≥ 5 failures in the
        // 5 min up to it (of the 32 newest) is an escalation step; it alerts unless within
        // the 15 min cool-down of the last alert.
        const want: Record<string, unknown>[] = [];
        let step = 0, last: number | null = null;
        ordered.forEach((f, k) => {
          const seen = ordered.slice(0, k + 1).slice(-cap);
          const inWindow = seen.filter((x) => x.ts > f.ts - a.brute_force_window_ms);
          if (inWindow.length < a.brute_force_failures) return;
          step++;
          if (last !== null && f.ts - last < p.alerts.cooldown_ms) return;
          last = f.ts;
          want.push({
            dedup: `f${f.i}#${want.length}`,
            ts: f.ts,
            failures_in_window: inWindow.length,
            escalation_step: step,
            lock_seconds: Math.min(step * 60, 900),
            source_ips: [...new Set(inWindow.map((x) => IPS[x.ip]))],
            event_ids: inWindow.map((x) => `f${x.i}`),
          });
        });
        assert.deepEqual(
          got.map((g) => ({
            dedup: g.dedup,
            ts: g.ts,
            failures_in_window: g.evidence.failures_in_window,
            escalation_step: g.evidence.escalation_step,
            lock_seconds: g.evidence.lock_seconds,
            source_ips: g.evidence.source_ips,
            event_ids: g.event_ids,
          })),
          want,
        );
        assert.ok(got.every((g) => g.rule === "auth.brute_force" && g.entity.key === "u0"));
        fired += got.length;
      },
    ),
    SEED,
  );
  assert.ok(fired > 50, `the generator makes brute force happen (${fired} alerts)`);
});

Deno.test("property: a user's failure window, streak and last failure are the same in time order and within the lateness", () => {
  // Brute force's alerts carry the event that happened to trigger them (documented as
  // such: the same events in the same order give the same ids), so only the window the
  // rule counts over is compared here, as actors/window.ts promises it.
  let moved = 0;
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 15 * 60 }), { minLength: 5, maxLength: 45 }),
      fc.array(fc.integer({ min: 0, max: LATE / SEC }), { minLength: 45, maxLength: 45 }),
      fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 45, maxLength: 45 }),
      (secs, delays, ips) => {
        const items = secs.map((s, i): Failure => ({ i, user: 0, ip: ips[i]!, ts: T0 + s * SEC }));
        const late = arrivalOrder(items, delays.map((d) => d * SEC));
        assertWithinLateness(late);
        if (reordered(late)) moved++;
        const run = (order: readonly Failure[]) =>
          order.reduce((s, f) => onFailure(s, failureEvent(f), defaults).state, NO_FAILURES);
        const a = run(timeOrder(items)), b = run(late);
        assert.deepEqual(b.failures, a.failures);
        assert.equal(b.streak, a.streak);
        assert.equal(b.last_failure_ms, a.last_failure_ms);
      },
    ),
    SEED,
  );
  assert.ok(moved > SEED.numRuns / 2, `most runs arrive out of order (${moved})`);
});

/** Small thresholds so that sprays, stuffing and several episodes happen in a few dozen events. */
function ipConfig(): Config {
  const c = structuredClone(defaults) as Config;
  Object.assign(c.ip, {
    spray_min_users: 3,
    spray_min_attempts: 6,
    spray_min_per_user: 2,
    spray_max_per_user: 4,
    spray_window_ms: 10 * MIN,
    stuffing_min_users: 4,
    stuffing_min_attempts: 5,
    stuffing_max_per_user: 1,
    stuffing_min_share: 0.75,
    stuffing_window_ms: 10 * MIN,
  });
  // A small throttle bucket, so ip.throttle fires within a few dozen failures too.
  c.ip.throttle_capacity = 6;
  c.ip.throttle_refill_ms = 2 * MIN;
  c.alerts.cooldown_ms = 5 * MIN;
  return c;
}

/**
 * A real runtime with one behaviour, its alerts into `alerts`; nothing may be
 * dead-lettered. Without its view, the runtime shows the actor's state as it is.
 */
function runtimeOf<S, M>(
  b: Behaviour<S, M>,
  c: Config,
  alerts: Alert[],
  more: Partial<RuntimeOptions> = {},
): ActorRuntime {
  const { view: _view, ...behaviour } = b;
  return new ActorRuntime({
    behaviours: [behaviour as Behaviour<unknown, unknown>],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock: new VirtualClock(T0),
    alertSink: { publish: (a) => alerts.push(a) },
    deadLetters: { deadLetter: (d) => assert.fail(`dead letter: ${d.reason}`) },
    ...more,
  });
}

/** A login attempt from the IP: a failure, or (`ok`) a success. */
interface Attempt extends Failure {
  readonly ok: boolean;
}

/**
 * One IP's actor in a real runtime, fed `order` as the intake would (the watermark
 * follows it at the allowed lateness, judge timers fire as it passes), then the input
 * ends: its state, its alerts, and what it told the users it tried.
 */
async function runIp(order: readonly Attempt[], c: Config) {
  const ip = IPS[0]!;
  const alerts: Alert[] = [];
  const told = new Map<string, number>();
  const rt = runtimeOf(ipBehaviour(c), c, alerts, {
    route: (to, message) => {
      const m = message as { rule: string; episode: string; ts: number };
      // A user keeps the earliest time it was tried in each attack.
      const k = `${to.key}|${m.rule}|${m.episode}`;
      told.set(k, Math.min(told.get(k) ?? Infinity, m.ts));
    },
  });
  for (const f of order) {
    const type = f.ok ? "login_success" : "login_failure";
    const e = authEvent(type, `f${f.i}`, f.ts, { user_id: `u${f.user}`, ip });
    const out = rt.deliverEvent("ip", ip, { kind: "event", event: e }, f.ts, null);
    assert.ok(out === null, "accepted: within the allowed lateness");
  }
  await rt.whenIdle();
  rt.endOfInput();
  await rt.whenIdle();
  const state = (await rt.stateOf("ip", ip)) as IpState;
  return { state, alerts, told };
}

/** An alert's identity (what its id is a hash of), time and failures. */
const full = (r: Awaited<ReturnType<typeof runIp>>) =>
  r.alerts
    .map((a) => ({ id: a.alert_id, rule: a.rule, ts: a.timestamp, ids: [...a.event_ids].sort() }))
    .sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));

/** IP attempts as the spray and stuffing properties generate them: failures, some successes. */
const ipAttempts = (okPercent: number) =>
  failures({ users: 7, ips: 1, span_s: 30 * 60, minLength: 10, maxLength: 60 }).map((
    { items, delays },
  ) => ({
    // Successes spread by index (fast-check's own numbers lean to the edges).
    items: items.map((x): Attempt => ({ ...x, ok: (x.i * 37 + 11) % 100 < okPercent })),
    delays,
  }));

/** Failures from one IP at `T0 + ms` (user, ms offset) with their delays, as examples. */
function ipExample(xs: readonly [user: number, ms: number, delay_ms: number][]) {
  return {
    items: xs.map(([user, ms], i): Attempt => ({ i, user, ip: 0, ts: T0 + ms, ok: false })),
    delays: xs.map(([, , d]) => d),
  };
}

Deno.test("property: ip.password_spray, ip.credential_stuffing and ip.throttle raise the same alerts (id, time, failures) and leave the same state in time order and within the lateness", async () => {
  const c = ipConfig();
  // A late failure that completes a spray (it was lost to a later failure seen first).
  const missed = ipExample([
    [0, 0, 0],
    [0, 1, 0],
    [0, 2, 0],
    [0, 3, 0],
    [1, 4, 0],
    [1, 5, 0],
    [2, 6, 0],
    [2, 7, 5],
    [0, 8, 0],
  ]);
  // Stuffing at +4 ms with f0–f4 in time order; f0 arriving after f5 made it +5 ms, f1–f5.
  const first = ipExample([[0, 0, 10], [1, 1, 0], [2, 2, 0], [3, 3, 0], [4, 4, 0], [5, 5, 0]]);
  let moved = 0, fired = 0;
  await fc.assert(
    fc.asyncProperty(ipAttempts(15), async ({ items, delays }) => {
      const late = arrivalOrder(items, delays);
      assertWithinLateness(late);
      if (reordered(late)) moved++;
      const a = await runIp(timeOrder(items), c), b = await runIp(late, c);
      assert.deepEqual(full(b), full(a));
      assert.deepEqual(b.state, a.state);
      fired += a.alerts.length;
    }),
    { ...SEED, examples: [[missed], [first]] },
  );
  assert.ok(moved > SEED.numRuns / 2, `most runs arrive out of order (${moved})`);
  assert.ok(fired > SEED.numRuns, `the generator makes the rules fire (${fired} alerts)`);
});

Deno.test("property: what an IP tells the users it tried (rule, episode, earliest time) is the same in time order and within the lateness", async () => {
  const c = ipConfig();
  // A user whose failure raised a stuffing in time order was told of the spray still
  // running when an earlier failure, the one that completes the stuffing, arrived after it.
  const example = ipExample([
    [2, 1_000, 0],
    [2, 1, 0],
    [0, 581_002, 20_000],
    [0, 3, 0],
    [1, 1_004, 0],
    [0, 1_005, 0],
    [1, 6, 0],
    [3, 600_007, 0],
  ]);
  let told = 0;
  await fc.assert(
    fc.asyncProperty(ipAttempts(15), async ({ items, delays }) => {
      const late = arrivalOrder(items, delays);
      const a = await runIp(timeOrder(items), c), b = await runIp(late, c);
      assert.deepEqual([...b.told].sort(), [...a.told].sort());
      told += a.told.size;
    }),
    { ...SEED, examples: [[example]] },
  );
  assert.ok(told > SEED.numRuns, `the generator makes the IP tell users (${told})`);
});

Deno.test("property: in time order, an IP alerts as judging each failure at its own time over the failures up to it does", async () => {
  // The actor against a brute-force model: judgeAt() at each failure, in time order.
  const c = ipConfig();
  await fc.assert(
    fc.asyncProperty(ipAttempts(0), async ({ items }) => {
      const ordered = timeOrder(items);
      const got = full(await runIp(ordered, c)).filter((a) => a.rule !== "ip.throttle");
      let s = NO_ATTEMPTS;
      const want: { rule: string; ts: string; ids: string[] }[] = [];
      for (const [k, f] of ordered.entries()) {
        const e = authEvent("login_failure", `f${f.i}`, f.ts, {
          user_id: `u${f.user}`,
          ip: IPS[0]!,
        });
        s = recordFailure(s, e, c, k === 0 ? null : ordered[k - 1]!.ts);
        const out = judgeAt(s, f.ts, IPS[0]!, c);
        s = out.state;
        for (const a of out.alerts) {
          want.push({
            rule: a.rule,
            ts: new Date(a.ts).toISOString(),
            ids: [...a.event_ids].sort(),
          });
        }
      }
      const key = (x: { rule: string; ts: string }) => `${x.ts}|${x.rule}`;
      assert.deepEqual(
        got.map(({ rule, ts, ids }) => ({ rule, ts, ids })).sort((x, y) =>
          key(x) < key(y) ? -1 : 1
        ),
        want.sort((x, y) => key(x) < key(y) ? -1 : 1),
      );
    }),
    SEED,
  );
});

/** A small bucket (3 tokens, one back a minute, 30 s cool-down) that runs dry in a few events. */
function throttleConfig(): Config {
  const c = structuredClone(defaults) as Config;
  c.ip.throttle_capacity = 3;
  c.ip.throttle_refill_ms = MIN;
  c.alerts.cooldown_ms = 30 * SEC;
  return c;
}

const throttleFailures = failures({
  users: 3,
  ips: 1,
  span_s: 5 * 60,
  minLength: 5,
  maxLength: 40,
});

Deno.test("property: ip.throttle in time order is a GCRA: a failure passes while the bucket's full time is ≤ capacity − 1 tokens ahead", () => {
  // The same token bucket written the other way round (the generic cell rate algorithm):
  // `full_at` is when the bucket will be full again; a failure takes a token if that is at
  // most capacity − 1 refills ahead of it, and pushes it one refill further.
  const c = throttleConfig();
  const r = c.ip;
  const full = r.throttle_capacity * r.throttle_refill_ms;
  let fired = 0;
  fc.assert(
    fc.property(throttleFailures, ({ items }) => {
      const ordered = timeOrder(items);
      let bucket: Bucket = FULL;
      const got: unknown[] = [];
      for (const f of ordered) {
        const out = onThrottledFailure(bucket, failureEvent({ ...f, ip: 0 }), c);
        bucket = out.bucket;
        if (out.alert) {
          got.push([
            out.alert.dedup,
            out.alert.ts,
            out.alert.evidence.tokens_left,
            out.alert.evidence.next_token_in_s,
          ]);
        }
      }
      let full_at = -Infinity, alert_ms: number | null = null;
      const want: unknown[] = [];
      for (const f of ordered) {
        const from = Math.max(full_at, f.ts);
        if (from - f.ts <= full - r.throttle_refill_ms) {
          full_at = from + r.throttle_refill_ms;
          continue;
        }
        if (alert_ms !== null && f.ts - alert_ms < c.alerts.cooldown_ms) continue;
        alert_ms = f.ts;
        const credit = full - (from - f.ts);
        want.push([
          `f${f.i}`,
          f.ts,
          Math.floor((credit / r.throttle_refill_ms) * 100) / 100,
          Math.ceil((r.throttle_refill_ms - credit) / 1000),
        ]);
      }
      assert.deepEqual(got, want);
      const last = ordered.at(-1)!.ts;
      assert.deepEqual(bucket, {
        credit_ms: full - (Math.max(full_at, last) - last),
        at_ms: last,
        alert_ms,
      });
      fired += want.length;
    }),
    SEED,
  );
  assert.ok(fired > 100, `the generator empties the bucket (${fired} alerts)`);
});

Deno.test("property: a late failure takes its ip.throttle token at the newest time seen: the bucket's clock never runs back", () => {
  // Not order-independent (documented by ip_throttle_test.ts: late failures take a token
  // at the latest time), but the bucket stays a bucket whatever the order.
  const c = throttleConfig();
  const full = c.ip.throttle_capacity * c.ip.throttle_refill_ms;
  fc.assert(
    fc.property(throttleFailures, ({ items, delays }) => {
      let bucket: Bucket = FULL;
      let newest = -Infinity;
      for (const f of arrivalOrder(items, delays)) {
        const before = bucket;
        const out = onThrottledFailure(before, failureEvent({ ...f, ip: 0 }), c);
        bucket = out.bucket;
        newest = Math.max(newest, f.ts);
        assert.equal(bucket.at_ms, newest, "tokens are counted at the newest time seen");
        assert.ok(bucket.credit_ms >= 0 && bucket.credit_ms <= full);
        assert.ok(Number.isInteger(bucket.credit_ms), "whole ms of refill");
        // A failure that passes takes exactly one token from what had refilled by then.
        const had = before.at_ms === null
          ? full
          : Math.min(full, before.credit_ms + newest - before.at_ms);
        assert.equal(
          bucket.credit_ms,
          out.alert || had < c.ip.throttle_refill_ms ? had : had - c.ip.throttle_refill_ms,
        );
      }
    }),
    SEED,
  );
});

// ---------------------------------------------------------------------------------------
// 3. Page views in 1-minute tumbling windows, closed by the runtime's watermark timers.

const PAGE_KEY = "/pay";

function view(i: number, ts: number): PageMessage {
  const event = { kind: "click", event_id: `v${i}`, ts, raw: { page: PAGE_KEY } } as OtherEvent;
  return { kind: "event", event };
}

/** A small baseline so that spikes happen within the generated minutes. */
function pageConfig(): Config {
  const c = structuredClone(defaults) as Config;
  c.page.spike_min_windows = 3;
  c.page.spike_min_views = 3;
  c.page.spike_z = 1.5;
  // The σ test alone (no ratio or Poisson tail): the property is about windows, not the test.
  c.page.spike_ratio = 1;
  c.page.spike_p_value = 1;
  c.alerts.cooldown_ms = 3 * MIN;
  return c;
}

/** The page actor in a real runtime, fed `order` as the intake would, then every window closed. */
async function runPage(order: readonly Timed[], c: Config) {
  const alerts: Alert[] = [];
  const rt = runtimeOf(pageBehaviour(c), c, alerts);
  let newest = -Infinity;
  for (const x of order) {
    const out = rt.deliverEvent("page", PAGE_KEY, view(x.i, x.ts), x.ts, null);
    assert.ok(out === null, "accepted: within the allowed lateness");
    newest = Math.max(newest, x.ts);
  }
  await rt.whenIdle();
  const open = ((await rt.stateOf("page", PAGE_KEY)) as PageState).open;
  // Event time goes on past the last window's end: the watermark closes every window.
  rt.advanceWatermark(rt.partitionFor(PAGE_KEY), newest + c.page.window_ms + LATE);
  await rt.whenIdle();
  const state = (await rt.stateOf("page", PAGE_KEY)) as PageState;
  return { open, state, alerts };
}

/** Brute-force bucketing: every minute from the first view's to the last's, quiet ones as 0. */
function bucketed(times: readonly number[], size: number): [number, number][] {
  const counts = new Map<number, number>();
  for (const t of times) {
    const start = Math.floor(t / size) * size;
    counts.set(start, (counts.get(start) ?? 0) + 1);
  }
  const starts = [...counts.keys()];
  const out: [number, number][] = [];
  for (let s = Math.min(...starts); s <= Math.max(...starts); s += size) {
    out.push([s, counts.get(s) ?? 0]);
  }
  return out;
}

Deno.test("property: page views per 1-minute tumbling window equal a brute-force bucketing, in time order and within the lateness", async () => {
  const c = pageConfig();
  const size = c.page.window_ms;
  let moved = 0, spikes = 0, truncated = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.record({
          // Views bunched in bursts (so that spikes happen), at times after an hour or
          // more of quiet: more windows than the 60 the page keeps.
          minute: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 60, max: 150 })),
          // Often at a window's first or last millisecond.
          ms: fc.oneof(fc.constantFrom(0, size - 1), fc.integer({ min: 0, max: size - 1 })),
          burst: fc.integer({ min: 1, max: 4 }),
          // Often exactly the allowed lateness, or none.
          delay: fc.oneof(fc.constantFrom(0, LATE), fc.integer({ min: 0, max: LATE })),
        }),
        { minLength: 1, maxLength: 60 },
      ),
      async (raw) => {
        const items: Timed[] = [];
        const delays: number[] = [];
        for (const r of raw) {
          for (let k = 0; k < r.burst; k++) {
            items.push({ i: items.length, ts: T0 + r.minute * size + ((r.ms + k * 997) % size) });
            delays.push((r.delay * (k + 1)) % (LATE + 1));
          }
        }
        const late = arrivalOrder(items, delays);
        assertWithinLateness(late);
        if (reordered(late)) moved++;
        const model = bucketed(items.map((x) => x.ts), size);
        const kept = model.slice(-c.page.history_windows);
        if (kept.length < model.length) truncated++;

        const inOrder = await runPage(timeOrder(items), c);
        const shuffled = await runPage(late, c);
        for (const run of [inOrder, shuffled]) {
          assert.deepEqual(run.state.closed, kept);
          assert.deepEqual(run.state.open, []);
          assert.equal(run.state.views, items.length);
          assert.equal(run.state.n, model.length, "every window, quiet ones too, in the baseline");
        }
        // Once every view is in, a window still open (not yet passed by the watermark) has them all.
        for (const run of [inOrder, shuffled]) {
          const open = new Map(run.open);
          for (const [start, n] of model) {
            if (open.has(start)) assert.equal(open.get(start), n, `open window ${start}`);
          }
        }
        const spikeOf = (r: { alerts: Alert[] }) =>
          r.alerts.map((a) => [a.alert_id, a.rule, a.timestamp, a.evidence.views]);
        assert.deepEqual(spikeOf(shuffled), spikeOf(inOrder));
        spikes += inOrder.alerts.length;
      },
    ),
    {
      ...SEED,
      examples: [[[
        // The edge: a view in the last ms of the first window arrives exactly the allowed
        // lateness behind one in the last ms of the next: it still counts in its window.
        { minute: 0, ms: 0, burst: 1, delay: 0 },
        { minute: 1, ms: size - 1, burst: 1, delay: 0 },
        { minute: 0, ms: size - 1, burst: 1, delay: LATE },
      ]]],
    },
  );
  assert.ok(moved > SEED.numRuns / 2, `most runs arrive out of order (${moved})`);
  assert.ok(spikes > 20, `the generator makes spikes happen (${spikes})`);
  assert.ok(truncated > 5, `some runs span more windows than the page keeps (${truncated})`);
});

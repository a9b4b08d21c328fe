import assert from "node:assert/strict";
import { type Bucket, creditAt, FULL, onThrottledFailure } from "../../actors/rules/ip_throttle.ts";
import type { AlertDraft } from "../../actors/types.ts";
import { defaults } from "../../config/defaults.ts";
import { authEvent } from "./events.ts";

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const IP = "198.51.100.9";

const failure = (id: string, ts: number) =>
  authEvent("login_failure", id, ts, { ip: IP, user_id: `u-${id}` });

/** Feeds failures at the given times; the bucket after, and the ids that raised ip.throttle. */
function run(times: number[], from: Bucket = FULL): { bucket: Bucket; alerts: AlertDraft[] } {
  let bucket = from;
  const alerts: AlertDraft[] = [];
  times.forEach((ts, i) => {
    const r = onThrottledFailure(bucket, failure(`f${i}`, ts), defaults);
    bucket = r.bucket;
    if (r.alert) alerts.push(r.alert);
  });
  return { bucket, alerts };
}

Deno.test("ip.throttle: 100 failures pass, the 101st fires", () => {
  const hundred = run(Array.from({ length: 100 }, (_, i) => T0 + i));
  assert.deepEqual(hundred.alerts, []);
  const more = run([T0 + 100], hundred.bucket);
  assert.equal(more.alerts.length, 1);
  const a = more.alerts[0]!;
  assert.equal(a.rule, "ip.throttle");
  assert.deepEqual(a.entity, { type: "ip", key: IP });
  assert.equal(a.evidence.capacity, 100);
  assert.equal(a.evidence.refill_per_day, 100);
  assert.equal(a.evidence.tokens_left, 0);
});

Deno.test("ip.throttle: a token comes back every 14.4 min, and the rule re-fires after its cool-down", () => {
  const empty = run(Array.from({ length: 101 }, (_, i) => T0 + i)).bucket;
  // 14.4 min after the hundredth failure one token is back: one more failure passes.
  const refilled = T0 + 99 + 864_000;
  assert.deepEqual(run([refilled], empty).alerts, []);
  assert.equal(run([refilled - 1], empty).alerts.length, 0, "within the cool-down: no alert");
  // 15 min after the alert: a token is back and taken, the next fires again.
  const later = run([T0 + 100 + 15 * MIN, T0 + 100 + 15 * MIN + 1], empty);
  assert.equal(later.alerts.length, 1);
  assert.equal(later.alerts[0]!.event_ids[0], "f1");
});

Deno.test("ip.throttle: the bucket never holds more than its capacity; late failures take a token at the latest time", () => {
  const r = defaults.ip;
  const used = run([T0]).bucket;
  assert.equal(creditAt(used, T0 + 7 * 24 * 60 * MIN, r), 100 * 864_000, "a week later: full");
  // Failures arriving late (within the allowed lateness) each take a token at the latest
  // time seen: time never runs back, so no refill is counted twice.
  const late = run([T0 + 2 * MIN, T0, T0 + MIN]).bucket;
  assert.equal(late.at_ms, T0 + 2 * MIN);
  assert.equal(late.credit_ms, 100 * 864_000 - 3 * 864_000);
});

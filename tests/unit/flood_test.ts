import assert from "node:assert/strict";
import { onFlow, type Pair } from "../../actors/rules/flood.ts";
import type { AlertDraft } from "../../actors/types.ts";
import { defaults } from "../../config/defaults.ts";

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 12);

/** Flows per minute to `dst`, then one flow in the next minute (which closes the last). */
function run(perMinute: number[], dst = "192.0.2.10", pairs: readonly Pair[] = []) {
  const alerts: AlertDraft[] = [];
  let i = 0;
  const flow = (ts: number) => {
    const r = onFlow(pairs, "198.18.0.1", dst, ts, `f${i++}`, defaults.net);
    pairs = r.pairs;
    if (r.alert) alerts.push(r.alert);
  };
  perMinute.forEach((n, m) => {
    for (let k = 0; k < n; k++) flow(T0 + m * MIN + Math.floor(k * MIN / n));
  });
  flow(T0 + perMinute.length * MIN);
  return { pairs, alerts };
}

const steady = Array.from({ length: 20 }, (_, i) => 30 + (i % 4));

Deno.test("net.flood fires when a minute's flows to one destination are far above the pair's baseline", () => {
  const { alerts } = run([...steady, 400]);
  assert.equal(alerts.length, 1);
  const a = alerts[0]!;
  assert.equal(a.rule, "net.flood");
  assert.deepEqual(a.entity, { type: "src", key: "198.18.0.1" });
  assert.equal(a.evidence.dst_ip, "192.0.2.10");
  assert.equal(a.evidence.flows_per_minute, 400);
  assert.equal(a.evidence.minutes_of_history, 20);
});

Deno.test("net.flood needs 100 flows in the minute, 10 minutes of history, and a real departure", () => {
  const quiet = Array.from({ length: 20 }, () => 2);
  assert.deepEqual(run([...quiet, 99]).alerts, [], "99 flows is not a flood");
  assert.deepEqual(run([...steady.slice(0, 9), 400]).alerts, [], "9 minutes of history");
  assert.deepEqual(run([...steady, 36]).alerts, [], "within the pair's range");
  // Quiet minutes count as zeros: a burst after a pause is judged against them too.
  const paused = run([...steady, 0, 0, 0, 400]);
  assert.equal(paused.alerts.length, 1);
});

Deno.test("net.flood follows each destination on its own, at most 16 per source", () => {
  let pairs: readonly Pair[] = [];
  for (let d = 0; d < 20; d++) {
    pairs = onFlow(pairs, "198.18.0.1", `192.0.2.${d}`, T0, `f${d}`, defaults.net).pairs;
  }
  assert.equal(pairs.length, 16);
  assert.ok(pairs.some((p) => p.dst === "192.0.2.19"), "the newest destination is kept");
});

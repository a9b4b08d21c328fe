import assert from "node:assert/strict";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { quality } from "../../sim/quality.ts";
import { Simulator } from "../../sim/simulator.ts";

const START = Date.UTC(2026, 0, 5, 8);
const options = {
  seed: 21,
  users: 2_000,
  start_ms: START,
  events_per_second: 5,
  attack_interval_s: 60,
};

Deno.test("the ops stream leaves auth and payment traffic as it was", () => {
  const plain = new Simulator(options).take(3_000);
  const withOps = new Simulator({ ...options, ops: { clicks_per_second: 5 } })
    .take(20_000)
    .filter((e) => !String(e.event_id).startsWith("ops"));
  assert.deepEqual(withOps.slice(0, 3_000), plain);
});

Deno.test("ops incidents are found by their rules in a replay, with no false alert from the ops traffic", async () => {
  const sim = new Simulator({ ...options, ops: { clicks_per_second: 5 } });
  const events = sim.take(150_000);
  const kinds = new Set(events.map((e) => e.kind));
  for (const k of ["auth", "transaction", "log", "metric", "click"]) assert.ok(kinds.has(k), k);
  const last = Date.parse(events.at(-1)!.timestamp);
  const truths = sim.truths.filter((t) => Date.parse(t.start) <= last)
    .map((t) => ({ ...t, complete: Date.parse(t.end) <= last }));
  const text = events.map((e) => JSON.stringify(e)).join("\n");
  const r = await replay(linesOf(text), structuredClone(defaults) as Config);
  const q = quality(events, truths, r.alerts);
  const rule = (name: string) => q.rules.find((x) => x.rule === name)!;
  for (
    const name of [
      "svc.error_burst",
      "svc.high_cpu",
      "svc.high_latency",
      "tx.rapid_transfers",
      "tx.large_amount",
      "click.traffic_spike",
    ]
  ) {
    const x = rule(name);
    assert.ok(x.expected >= 3, `${name}: ${x.expected} incidents`);
    assert.equal(x.recall, 1, `${name}: ${x.detected}/${x.expected}`);
  }
  for (
    const name of ["svc.error_burst", "svc.high_cpu", "svc.high_latency", "tx.rapid_transfers"]
  ) {
    assert.equal(rule(name).false_alerts, 0, name);
  }
});

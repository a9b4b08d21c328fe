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

Deno.test("a payment outage fails three in four transactions that would succeed, only within its windows, and changes nothing else", () => {
  const outages = { first_ms: START + 20 * 60_000, every_ms: 60 * 60_000, length_ms: 10 * 60_000 };
  const until = START + 3 * 3_600_000;
  const plain = [...new Simulator(options).until(until)];
  const failing = new Simulator({ ...options, payment_outages: outages });
  const events = [...failing.until(until)];
  assert.equal(events.length, plain.length);
  const inWindow = (t: number) =>
    t >= outages.first_ms && (t - outages.first_ms) % outages.every_ms < outages.length_ms;
  let changed = 0, kept = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!, p = plain[i]!;
    const t = Date.parse(e.timestamp);
    assert.equal(failing.inOutage(t), inWindow(t));
    if (e.status === p.status) {
      assert.deepEqual(e, p);
      if (e.kind === "transaction" && e.status === "success" && inWindow(t)) kept++;
      continue;
    }
    // Only a success within an outage becomes a failure.
    assert.equal(p.status, "success");
    assert.equal(e.status, "failed");
    assert.ok(inWindow(t), e.timestamp);
    assert.deepEqual({ ...e, status: "success" }, p);
    changed++;
  }
  // Three outages in three hours, a few hundred payments each at 5 events a second.
  assert.ok(changed > 100, `${changed} failed`);
  assert.equal(Math.round(changed / (changed + kept) * 4), 3, `${changed} failed, ${kept} kept`);
});

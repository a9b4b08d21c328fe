import assert from "node:assert/strict";
import { addSample, judge, type MetricBaseline } from "../../actors/rules/metric_anomaly.ts";
import { serviceBehaviour, type ServiceState } from "../../actors/service.ts";
import type { ActorContext, AlertDraft } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { OtherEvent } from "../../events/types.ts";
import { linesOf, replay } from "../../engine/replay.ts";

const SEC = 1_000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2024, 0, 1);
const CTX = { self: { type: "service", key: "payments" }, watermark_ms: 0 } as ActorContext;

function event(kind: "log" | "metric", id: string, ts: number, raw: Record<string, unknown>) {
  return { kind, event_id: id, ts, raw: { service: "payments", ...raw } } as OtherEvent;
}
const log = (id: string, ts: number, level = "ERROR") =>
  event("log", id, ts, { level, message: `db timeout ${id}` });
const metric = (id: string, ts: number, fields: Record<string, number>) =>
  event("metric", id, ts, fields);

function feed(events: OtherEvent[], c = structuredClone(defaults) as Config) {
  const b = serviceBehaviour(c);
  let s: ServiceState = b.initial("payments");
  const alerts: AlertDraft[] = [];
  for (const e of events) {
    const step = b.receive(s, { kind: "event", event: e }, CTX);
    s = step.state;
    for (const x of step.effects) if (x.kind === "alert") alerts.push(x.alert);
  }
  return { state: s, alerts };
}

const rules = (alerts: AlertDraft[]) => alerts.map((a) => a.rule);

Deno.test("svc.error_burst fires at the 21st ERROR/FATAL in a minute, not at the 20th", () => {
  const twenty = Array.from({ length: 20 }, (_, i) => log(`e${i}`, T0 + i * SEC));
  assert.deepEqual(feed(twenty).alerts, []);
  const burst = feed([...twenty, log("e20", T0 + 20 * SEC, "FATAL")]).alerts;
  assert.deepEqual(rules(burst), ["svc.error_burst"]);
  assert.equal(burst[0]!.evidence.errors, 21);
  assert.equal(burst[0]!.event_ids.length, 21);
  assert.deepEqual(burst[0]!.entity, { type: "service", key: "payments" });
  // The 21st a minute after the first: the first has left the window.
  assert.deepEqual(feed([...twenty, log("e20", T0 + MIN)]).alerts, []);
  const warns = Array.from({ length: 30 }, (_, i) => log(`w${i}`, T0 + i * SEC, "WARN"));
  assert.deepEqual(feed(warns).alerts, [], "warnings are not errors");
});

Deno.test("svc.error_burst alerts once per cool-down while the burst goes on", () => {
  const storm = Array.from({ length: 300 }, (_, i) => log(`e${i}`, T0 + i * 200));
  assert.equal(feed(storm).alerts.length, 1, "one minute of errors: one alert");
  const long = Array.from({ length: 1_000 }, (_, i) => log(`e${i}`, T0 + i * SEC));
  assert.equal(feed(long).alerts.length, 2, "16.7 min of errors: again after 15 min");
});

Deno.test("svc.high_cpu and svc.high_latency need 3 samples in a row above the limit", () => {
  const cpu = (values: number[]) =>
    rules(feed(values.map((v, i) => metric(`m${i}`, T0 + i * 10 * SEC, { cpu: v }))).alerts);
  assert.deepEqual(cpu([86, 86]), []);
  assert.deepEqual(cpu([86, 86, 86]), ["svc.high_cpu"]);
  assert.deepEqual(cpu([86, 86, 85, 86, 86]), [], "85 is not above 85: the run restarts");
  const latency = (values: number[]) =>
    feed(values.map((v, i) => metric(`m${i}`, T0 + i * 10 * SEC, { latency_ms: v }))).alerts;
  const fired = latency([401, 450, 900]);
  assert.deepEqual(rules(fired), ["svc.high_latency"]);
  assert.deepEqual(fired[0]!.event_ids, ["m0", "m1", "m2"]);
  assert.equal(fired[0]!.evidence.limit, 400);
  assert.deepEqual(rules(latency([400, 400, 400])), []);
});

/** A steady metric: 50 ± 2, deterministic. */
const steady = (n: number, start = T0, step = MIN) =>
  Array.from(
    { length: n },
    (_, i) => metric(`s${i}`, start + i * step, { queue: 50 + 2 * Math.sin(i) }),
  );

Deno.test("svc.metric_anomaly fires when two methods agree for 3 samples in a row, names them, and waits for 30 samples", () => {
  const high = (n: number, value = 90) =>
    Array.from({ length: n }, (_, i) => metric(`hi${i}`, T0 + (61 + i) * MIN, { queue: value }));
  const spike = feed([...steady(60), ...high(3)]).alerts;
  assert.deepEqual(rules(spike), ["svc.metric_anomaly"]);
  assert.deepEqual(spike[0]!.event_ids, ["hi2"], "decided on the third");
  assert.deepEqual(feed([...steady(60), ...high(2)]).alerts, [], "a blip of 2 samples (a deploy)");
  const back = feed([...steady(60), ...high(2), metric("ok", T0 + 63 * MIN, { queue: 50 })]);
  assert.deepEqual(back.alerts, [], "the run ends at a normal sample");
  const ev = spike[0]!.evidence as { metric: string; methods: Record<string, unknown> };
  assert.equal(ev.metric, "queue");
  assert.ok(Object.keys(ev.methods).length >= 2, JSON.stringify(ev.methods));
  assert.ok("zscore" in ev.methods && "iqr" in ev.methods);
  assert.deepEqual(feed([...steady(60), metric("ok", T0 + 61 * MIN, { queue: 51 })]).alerts, []);
  assert.deepEqual(
    feed([...steady(20), ...high(3)]).alerts,
    [],
    "20 samples: no baseline yet",
  );
});

Deno.test("metric baselines: hour of day judges once a day of history exists", () => {
  const r = defaults.svc;
  let b: MetricBaseline | null = null;
  // Two days, hourly: 10 at 03:00, 50 otherwise (a nightly batch job's quiet hour).
  for (let h = 0; h < 48; h++) {
    const v = h % 24 === 3 ? 10 : 50 + (h % 5);
    for (let k = 0; k < 3; k++) b = addSample(b, v + k * 0.5, T0 + h * HOUR + k * MIN);
  }
  const at3 = judge(b, 10, T0 + 48 * HOUR + 3 * HOUR, r);
  assert.ok(at3.judged.includes("hour_of_day"));
  assert.equal(at3.flagged.hour_of_day, undefined, "10 at 03:00 is that hour's normal");
  const at4 = judge(b, 10, T0 + 48 * HOUR + 4 * HOUR, r);
  assert.ok(at4.flagged.hour_of_day, "10 at 04:00 is not");
  let young: MetricBaseline | null = null;
  for (let i = 0; i < 40; i++) young = addSample(young, 50 + (i % 3), T0 + i * MIN);
  assert.ok(!judge(young, 10, T0 + 41 * MIN, r).judged.includes("hour_of_day"), "under a day");
});

Deno.test("log and metric events reach the service's actor in a replay (the seed's formats)", async () => {
  const lines: string[] = [];
  for (let i = 0; i < 25; i++) {
    lines.push(JSON.stringify({
      kind: "log",
      timestamp: new Date(T0 + i * SEC).toISOString(),
      service: "auth-api",
      level: "ERROR",
      message: "connection refused",
      user_id: `u${i}`,
    }));
  }
  for (let i = 0; i < 3; i++) {
    lines.push(JSON.stringify({
      kind: "metric",
      timestamp: new Date(T0 + 30 * SEC + i * SEC).toISOString(),
      service: "auth-api",
      cpu: 97.5,
      latency_ms: 120,
    }));
  }
  const r = await replay(linesOf(lines.join("\n")), structuredClone(defaults) as Config);
  assert.equal(r.invalid, 0);
  assert.deepEqual(r.alerts.map((a) => `${a.rule}/${a.entity.type}/${a.entity.key}`), [
    "svc.error_burst/service/auth-api",
    "svc.high_cpu/service/auth-api",
  ]);
});

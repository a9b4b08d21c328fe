/**
 * Keys that come from input (field names, kinds, entity keys) named like what every plain
 * object inherits (`constructor`, `toString`, `__proto__`, …): looked up in a map keyed by
 * input they must find nothing, and stored they must stay ordinary entries, also after a
 * checkpoint's JSON round trip.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VirtualClock } from "../../actors/clock.ts";
import { ActorRuntime, type PartitionImage } from "../../actors/runtime.ts";
import { SERVICE, serviceBehaviour, type ServiceState } from "../../actors/service.ts";
import type { ActorContext } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { groupOfLine } from "../../engine/replay_parallel.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { parseEvent } from "../../events/validate.ts";
import type { OtherEvent } from "../../events/types.ts";
import { PROTOTYPE_NAMES } from "./hostile.ts";

const T0 = Date.UTC(2026, 0, 5);
const CTX = { self: { type: "service", key: "payments" }, watermark_ms: 0 } as ActorContext;

/** A metric event as validation makes it, from its JSON text (so `__proto__` is an own key). */
function metric(text: string): OtherEvent {
  const parsed = parseEvent(text);
  if (!parsed.ok) assert.fail(`expected the event to be accepted: ${parsed.reason}`);
  return parsed.event as OtherEvent;
}

Deno.test("serviceBehaviour() follows a metric named after any Object.prototype property, and the state survives a JSON round trip", () => {
  const c = structuredClone(defaults) as Config;
  c.svc.max_metrics = PROTOTYPE_NAMES.length + 1;
  const b = serviceBehaviour(c);
  let s: ServiceState = b.initial("payments");
  for (let i = 0; i < 40; i++) {
    const fields = PROTOTYPE_NAMES.map((name) => `${JSON.stringify(name)}:${50 + (i % 3)}`);
    const text = `{"kind":"metric","service":"payments","timestamp":${T0 + i * 60_000},` +
      `"event_id":"m${i}",${fields.join(",")}}`;
    s = b.receive(s, { kind: "event", event: metric(text) }, CTX).state;
    if (i === 20) s = JSON.parse(JSON.stringify(s)); // a checkpoint restored mid-way
  }
  for (const name of PROTOTYPE_NAMES) {
    assert.ok(Object.hasOwn(s.baselines, name), `a baseline of "${name}"`);
    assert.equal(s.baselines[name]!.n, 40, `"${name}" counted every sample`);
  }
  assert.equal(Object.keys(s.baselines).length, PROTOTYPE_NAMES.length);
  assert.notEqual(Object.getPrototypeOf(s.baselines), s.baselines.__proto__, "not the prototype");
  const view = b.view!(s) as { baselines: Record<string, { samples: number }> };
  assert.equal(view.baselines["constructor"]?.samples, 40);
});

Deno.test("serviceBehaviour() alerts on an anomalous metric named constructor, once per cool-down", () => {
  const b = serviceBehaviour(defaults);
  let s: ServiceState = b.initial("payments");
  const alerts: string[] = [];
  for (let i = 0; i < 66; i++) {
    const v = i < 60 ? 50 + 2 * Math.sin(i) : 90;
    const text = JSON.stringify({
      kind: "metric",
      service: "payments",
      timestamp: T0 + i * 60_000,
      event_id: `m${i}`,
      constructor: v,
    });
    const step = b.receive(s, { kind: "event", event: metric(text) }, CTX);
    s = step.state;
    for (const e of step.effects) if (e.kind === "alert") alerts.push(e.alert.rule);
  }
  assert.deepEqual(alerts, ["svc.metric_anomaly"]);
});

Deno.test("groupOfLine() deals a line whose kind is an Object.prototype name to the first group", () => {
  for (const kind of PROTOTYPE_NAMES) {
    const line = JSON.stringify({ timestamp: T0, kind, service: "s" });
    assert.equal(groupOfLine(line), 0, kind);
  }
});

Deno.test("replay() dead-letters an event whose kind is an Object.prototype name, and goes on", async () => {
  const lines = PROTOTYPE_NAMES.map((kind, i) =>
    JSON.stringify({ kind, service: "s", timestamp: T0 + i })
  );
  lines.push(JSON.stringify({ kind: "metric", service: "s", cpu: 3, timestamp: T0 + 99 }));
  const r = await replay(linesOf(lines.join("\n")), structuredClone(defaults) as Config);
  assert.equal(r.invalid, PROTOTYPE_NAMES.length);
  assert.equal(r.events, 1);
  for (const d of r.dead_letters) assert.match(d.reason, /field "kind" must be one of/);
});

Deno.test("A service actor whose metrics have Object.prototype names is checkpointed and restored as JSON, and goes on counting", async () => {
  const c = structuredClone(defaults) as Config;
  c.svc.max_metrics = PROTOTYPE_NAMES.length;
  const runtimeOf = () =>
    new ActorRuntime({
      behaviours: [serviceBehaviour(c)],
      runtime: c.runtime,
      supervision: c.supervision,
      alerts: c.alerts,
      clock: new VirtualClock(T0),
    });
  const send = (rt: ActorRuntime, i: number) => {
    const fields = PROTOTYPE_NAMES.map((name) => `${JSON.stringify(name)}:${i}`).join(",");
    const text = `{"kind":"metric","service":"payments","timestamp":${T0 + i},${fields}}`;
    rt.deliverEvent(SERVICE, "payments", { kind: "event", event: metric(text) }, T0 + i, null);
  };
  const first = runtimeOf();
  for (let i = 0; i < 5; i++) send(first, i);
  await first.whenIdle();
  const p = first.partitionFor("payments");
  const image = JSON.parse(JSON.stringify(first.exportPartition(p))) as PartitionImage;
  const second = runtimeOf();
  second.importPartition(p, image);
  for (let i = 5; i < 8; i++) send(second, i);
  await second.whenIdle();
  assert.equal(second.stats().quarantined, 0);
  const view = await second.stateOf(SERVICE, "payments") as {
    metrics: number;
    baselines: Record<string, { samples: number }>;
  };
  assert.equal(view.metrics, 8);
  for (const name of PROTOTYPE_NAMES) {
    assert.equal(Object.hasOwn(view.baselines, name) && view.baselines[name]!.samples, 8, name);
  }
});

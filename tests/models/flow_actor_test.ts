import assert from "node:assert/strict";
import { VirtualClock } from "../../actors/clock.ts";
import { noTelemetry } from "../../actors/ports.ts";
import { ActorRuntime } from "../../actors/runtime.ts";
import { FLOW_MODEL, sourceBehaviour } from "../../actors/source.ts";
import { defaults } from "../../config/defaults.ts";
import { Intake } from "../../engine/intake.ts";
import { Outbox } from "../../engine/outbox.ts";
import type { Alert } from "../../events/types.ts";
import { FLOW_FEATURES } from "../../io/flow_csv.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import { ModelService } from "../../models/service.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;
const NOW = Date.UTC(2026, 0, 5, 12);

Deno.test("Flows through source actors and the real flow classifier: one flow.<class> alert per attack class and source", async () => {
  const fixtures = JSON.parse(
    await Deno.readTextFile(`${MODELS}/${FLOW_MODEL}/v1.fixtures.json`),
  ) as { rows: (number | string | null)[][] };
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  const manifest = await models.activate(FLOW_MODEL, "1");
  const clock = new VirtualClock(NOW);
  const store = new MemoryStore({ max_alerts: 100, max_dead_letters: 100 });
  const outbox = new Outbox(store, null);
  const published: Alert[] = [];
  outbox.listen((a) => {
    published.push(...a);
  });
  const view = {
    version: manifest.version,
    classes: manifest.classes,
    benign: manifest.benign_class ?? manifest.classes[0]!,
    default_threshold: manifest.thresholds.default,
    per_class: manifest.thresholds.per_class,
  };
  const rt = new ActorRuntime({
    behaviours: [
      sourceBehaviour({ alerts: defaults.alerts, net: defaults.net, model: () => view }),
    ],
    runtime: defaults.runtime,
    supervision: defaults.supervision,
    alerts: defaults.alerts,
    clock,
    inference: models,
    alertSink: outbox,
    deadLetters: outbox,
  });
  const intake = new Intake(rt, outbox, { ...noTelemetry, ingested() {}, invalid() {} }, {
    max_event_bytes: 100_000,
    max_future_ms: defaults.runtime.max_future_ms,
    now: () => clock.now(),
  });
  try {
    // The first seven fixture rows are the classes' medians, in class order; each source
    // sends its class's row three times (the same episode).
    for (let k = 0; k < 3; k++) {
      for (let c = 0; c < 7; c++) {
        const features = Object.fromEntries(
          FLOW_FEATURES.map((f, j) => [f, fixtures.rows[c]![j] ?? "NaN"]),
        );
        intake.offer({
          value: JSON.stringify({
            kind: "flow",
            event_id: `flow-${c}-${k}`,
            timestamp: new Date(NOW - 60_000 + k * 1000).toISOString(),
            src_ip: `198.51.100.${c}`,
            dst_ip: "192.0.2.1",
            dst_port: 80,
            features,
          }),
          source: `test/${c}/${k}`,
        }, null);
      }
    }
    await rt.whenIdle();
    await outbox.flush();
    const rules = published.map((a) => `${a.entity.key} ${a.rule}`).sort();
    assert.deepEqual(rules, [
      "198.51.100.1 flow.dos",
      "198.51.100.2 flow.ddos",
      "198.51.100.3 flow.port_scanning",
      "198.51.100.4 flow.brute_force",
      "198.51.100.5 flow.bots",
      "198.51.100.6 flow.web_attacks",
    ]);
    for (const a of published) {
      assert.ok((a.score ?? 0) >= 0.9, `${a.rule} scored ${a.score}`);
      assert.equal(a.model, `${FLOW_MODEL}@1`);
      assert.deepEqual(a.event_ids, [`flow-${a.entity.key.split(".")[3]}-0`]);
    }
    assert.deepEqual(await store.findDeadLetters(10), []);
    const normal = await rt.stateOf("src", "198.51.100.0") as { scored: number };
    assert.equal(normal.scored, 3, "normal traffic is scored, not alerted");
  } finally {
    await models.close();
  }
});

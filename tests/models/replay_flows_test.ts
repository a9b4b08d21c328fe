import assert from "node:assert/strict";
import { FLOW_MODEL } from "../../actors/source.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { ModelService } from "../../models/service.ts";
import { flowsOf, Simulator } from "../../sim/simulator.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;

Deno.test("Replay scores flows like a live worker: every simulated flow attack is found, once, and a second replay gives the same alerts", async () => {
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  const m = await models.activate(FLOW_MODEL, "1");
  try {
    const sim = new Simulator({
      seed: 3,
      users: 1_000,
      start_ms: Date.UTC(2026, 0, 5, 9),
      events_per_second: 40,
      attack_interval_s: 30,
      scenarios: ["brute_force"],
      flows: flowsOf(m, 3)!,
    });
    const text = sim.take(12_000).map((e) => JSON.stringify(e)).join("\n");
    const config = structuredClone(defaults) as Config;
    const first = await replay(linesOf(text), config, models);
    const second = await replay(linesOf(text), config, models);
    assert.deepEqual(
      second.alerts.map((a) => a.alert_id),
      first.alerts.map((a) => a.alert_id),
      "the same alerts in the same order",
    );
    const flowTruths = sim.truths.filter((t) => t.scenario === "flow_attack");
    assert.ok(flowTruths.length >= 5, `${flowTruths.length} flow attacks`);
    const found = first.alerts.filter((a) => a.rule.startsWith("flow."));
    for (const t of flowTruths) {
      const mine = found.filter((a) => a.entity.key === t.entity.key);
      assert.equal(mine.length, 1, `${t.entity.key}: one alert per attack`);
      assert.equal(mine[0]!.rule, t.rules[0]);
      assert.deepEqual(mine[0]!.event_ids, [t.decisive_event_id]);
    }
    // The scans and floods among the flows' scenarios may be scored as attacks too; no
    // source outside the scenarios may be.
    const attackers = new Set(
      sim.truths.filter((t) => t.entity.type === "src").map((t) => t.entity.key),
    );
    assert.ok(attackers.size > flowTruths.length, "network scenarios too");
    assert.deepEqual(
      found.filter((a) => !attackers.has(a.entity.key)),
      [],
      "no flow alert for background traffic",
    );
    assert.ok(first.alerts.some((a) => a.rule === "auth.brute_force"), "auth rules still run");
  } finally {
    await models.close();
  }
});

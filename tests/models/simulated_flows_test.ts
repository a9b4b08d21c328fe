import assert from "node:assert/strict";
import { FLOW_MODEL, flowRule } from "../../actors/source.ts";
import { flowFeatures } from "../../events/flow_features.ts";
import { defaults } from "../../config/defaults.ts";
import { ModelService } from "../../models/service.ts";
import { flowsOf, Simulator } from "../../sim/simulator.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;

Deno.test("Simulated flows: the classifier puts attack flows in their class (p ≥ 0.9) and background flows in normal traffic; auth traffic is unchanged by them", async () => {
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  const m = await models.activate(FLOW_MODEL, "1");
  try {
    const options = {
      seed: 11,
      users: 2_000,
      start_ms: Date.UTC(2026, 0, 5, 9),
      events_per_second: 50,
      attack_interval_s: 20,
    };
    const flows = flowsOf(m, 5)!;
    const sim = new Simulator({ ...options, flows });
    const events = sim.take(20_000);
    const plain = new Simulator(options).take(20_000);
    const auth = events.filter((e) => e.kind !== "flow");
    assert.deepEqual(auth, plain.slice(0, auth.length), "auth and payments are the same events");

    const flowEvents = events.filter((e) => e.kind === "flow");
    const attackOf = new Map<string, string>();
    for (const t of sim.truths) {
      if (t.scenario !== "flow_attack") continue;
      for (const id of t.event_ids) attackOf.set(id, t.rules[0]!);
    }
    assert.ok(attackOf.size >= 50, `flow attacks were injected (${attackOf.size} flows)`);
    const scored = await Promise.all(
      flowEvents.map((e) => models.infer(FLOW_MODEL, flowFeatures(e.features).row)),
    );
    let attacksRight = 0, attacks = 0, benignRight = 0, benign = 0;
    const rules = new Set<string>();
    flowEvents.forEach((e, i) => {
      const p = scored[i]!;
      let best = 0;
      for (let j = 1; j < p.length; j++) if (p[j]! > p[best]!) best = j;
      const rule = flowRule(m.classes[best]!);
      const want = attackOf.get(e.event_id as string);
      if (want) {
        attacks++;
        rules.add(want);
        if (rule === want && p[best]! >= 0.9) attacksRight++;
      } else {
        benign++;
        if (best === m.classes.indexOf(m.benign_class!)) benignRight++;
      }
    });
    assert.ok(attacksRight / attacks >= 0.95, `attack flows right: ${attacksRight}/${attacks}`);
    assert.ok(benignRight / benign >= 0.95, `background flows right: ${benignRight}/${benign}`);
    assert.ok(rules.size >= 4, `several classes in rotation: ${[...rules]}`);
  } finally {
    await models.close();
  }
});

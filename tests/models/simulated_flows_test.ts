import assert from "node:assert/strict";
import { FLOW_MODEL, flowRule } from "../../actors/source.ts";
import { flowFeatures } from "../../events/flow_features.ts";
import { defaults } from "../../config/defaults.ts";
import { DriftTracker } from "../../models/drift.ts";
import { type ModelManifest, ModelService } from "../../models/service.ts";
import { flowsOf, Simulator } from "../../sim/simulator.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;

for (const version of ["1", "2"]) {
  Deno.test(`Simulated flows (flow_classifier v${version}): the classifier puts attack flows in their class (p ≥ 0.9) and background flows in normal traffic; auth traffic is unchanged by them`, async () => {
    await classifiedRight(version);
  });
}

/** Simulated flows of a version's manifest (v1: its prototypes; v2: its traffic sample). */
async function classifiedRight(version: string): Promise<void> {
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  const m = await models.activate(FLOW_MODEL, version);
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
    if (version === "2") {
      // Drawn from the traffic sample: flows of a class are not all one vector.
      const distinct = new Set(flowEvents.map((e) => JSON.stringify(e.features)));
      assert.ok(distinct.size > 300, `${distinct.size} distinct of ${flowEvents.length} flows`);
    }
  } finally {
    await models.close();
  }
}

Deno.test("Simulated flows at the start defaults are drawn like flow_classifier v2's training data: every feature's PSI against its drift baseline < 0.1 over all flows and over the benign ones, attacks 2-6 % of flows", async () => {
  const m = JSON.parse(
    await Deno.readTextFile(`${MODELS}/flow_classifier/v2.manifest.json`),
  ) as ModelManifest;
  const options = {
    seed: defaults.simulator.seed,
    users: 2_000,
    start_ms: Date.UTC(2026, 0, 5, 9),
    events_per_second: 1,
    attack_interval_s: defaults.simulator.attack_interval_s,
    flows: flowsOf(m, defaults.simulator.flows_per_second)!,
  };
  const end = options.start_ms + 30 * 60_000;
  const sim = new Simulator(options);
  const flows = [...sim.until(end)].filter((e) => e.kind === "flow");
  const attack = new Set(sim.truths.flatMap((t) => t.event_ids));
  const all = new DriftTracker(m.drift_baseline!, m.features);
  const benign = new DriftTracker(m.drift_baseline!, m.features);
  let attacks = 0;
  for (const e of flows) {
    const row = flowFeatures(e.features as Record<string, number>).row;
    all.observe(row, 1, row.length);
    if (attack.has(e.event_id as string)) attacks++;
    else benign.observe(row, 1, row.length);
  }
  const share = attacks / flows.length;
  assert.ok(share > 0.02 && share < 0.06, `attack share ${share}`);
  for (const [what, t] of [["all", all], ["benign", benign]] as const) {
    const worst = t.psi().sort((a, b) => b.psi - a.psi)[0]!;
    assert.ok(worst.psi < 0.1, `${what} flows: ${worst.feature} PSI ${worst.psi}`);
  }
});

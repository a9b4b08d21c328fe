/**
 * Mixed replay: 1,000,000 simulated events of every kind (auth, payments, flows, service
 * logs and metrics, page views) with every rule on and both models scoring, beside the
 * ceiling of merely reading and parsing the same file in the same run.
 *
 * @module
 */

import { type Config, defaults } from "../config/defaults.ts";
import { linesOfFile } from "../engine/replay.ts";
import { replayThreaded } from "../engine/replay_parallel.ts";
import { loadModels } from "../engine/served_models.ts";
import { ModelService } from "../models/service.ts";
import { flowsOf, Simulator } from "../sim/simulator.ts";
import { type Figure, parseOnly } from "./replay_bench.ts";

const FILE = ".cache/bench/mixed-1m.jsonl";
const EVENTS = 1_000_000;

/** Writes the benchmark's input once (deterministic: seed 9), with flows from the model. */
async function ensureInput(models: ModelService): Promise<string> {
  try {
    await Deno.stat(FILE);
    return FILE;
  } catch {
    // generate below
  }
  const m = models.manifest("flow_classifier");
  if (!m) throw new Error("The mixed replay benchmark needs the flow model (models/)");
  await Deno.mkdir(".cache/bench", { recursive: true });
  const sim = new Simulator({
    seed: 9,
    users: 50_000,
    start_ms: Date.UTC(2026, 0, 5, 0),
    events_per_second: 200,
    attack_interval_s: 30,
    flows: flowsOf(m, 60)!,
    ops: { clicks_per_second: 80 },
  });
  const file = await Deno.open(FILE, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let n = 0;
  while (n < EVENTS) {
    const batch = sim.take(Math.min(20_000, EVENTS - n));
    n += batch.length;
    await file.write(enc.encode(batch.map((e) => JSON.stringify(e)).join("\n") + "\n"));
  }
  file.close();
  return FILE;
}

/** Runs the mixed replay benchmark: best of `rounds`. */
export async function mixedBench(rounds = 2): Promise<Figure[]> {
  const config = structuredClone(defaults) as Config;
  const models = new ModelService(config.models);
  try {
    await loadModels(models, config.models.dir);
    const path = await ensureInput(models);
    let ceiling = 0, best = 0, alerts = 0, kinds = "";
    for (let i = 0; i < rounds; i++) {
      ceiling = Math.max(ceiling, await parseOnly(path));
      const t0 = performance.now();
      const r = await replayThreaded(linesOfFile(path), config, models);
      best = Math.max(best, r.events / ((performance.now() - t0) / 1000));
      alerts = r.alerts.length;
      kinds = `${r.events.toLocaleString("en")} events, ${r.invalid} invalid`;
    }
    console.log(`  mixed replay: ${kinds}, ${alerts} alerts`);
    return [{
      name: "replay of 1M mixed events (every kind, every rule, both models)",
      value: best,
      unit: "events/s",
      ceiling,
      ceiling_name: "read + JSON.parse only",
      target: "≥ 40 % of the ceiling",
      met: best >= 0.4 * ceiling,
    }];
  } finally {
    await models.close();
  }
}

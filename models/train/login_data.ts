/**
 * The login-risk model's training data: simulated traffic with labelled attack scenarios,
 * folded through the user actor's own behaviour, so every row holds the features exactly
 * as the actors compute them when serving.
 *
 *     deno run --allow-write models/train/login_data.ts [out.csv]
 *
 * (`deno task train:login` runs it, then `models/train/login.py` on its output.)
 *
 * Writes a CSV: event_id, day, label (benign or the attack scenario), then the features
 * in `LOGIN_FEATURES` order, one row per successful login.
 *
 * @module
 */

import { LOGIN_FEATURES } from "../../actors/rules/login_risk.ts";
import type { ActorContext } from "../../actors/types.ts";
import { userBehaviour, type UserMessage, type UserState } from "../../actors/user.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { validateEvent } from "../../events/validate.ts";
import { Simulator } from "../../sim/simulator.ts";

/** How the training traffic is simulated (recorded in the manifest). */
export const SIMULATION = {
  seed: 11,
  users: 5_000,
  start_ms: Date.UTC(2026, 0, 5),
  days: 14,
  events_per_second: 1,
  attack_interval_s: 120,
} as const;

const DAY_MS = 86_400_000;

async function main(out: string): Promise<void> {
  const config = structuredClone(defaults) as Config;
  const user = userBehaviour(config, () => ({ version: "training", risky_index: 1 }));
  const sim = new Simulator({
    seed: SIMULATION.seed,
    users: SIMULATION.users,
    start_ms: SIMULATION.start_ms,
    events_per_second: SIMULATION.events_per_second,
    attack_interval_s: SIMULATION.attack_interval_s,
  });
  const states = new Map<string, UserState>();
  const ctx = { self: { type: "user", key: "" }, watermark_ms: 0 };
  const rows: [id: string, day: number, features: string][] = [];
  const end = SIMULATION.start_ms + SIMULATION.days * DAY_MS;
  for (const raw of sim.until(end)) {
    if (raw.kind !== "auth") continue;
    const parsed = validateEvent(raw, JSON.stringify(raw));
    if (!parsed.ok || parsed.event.kind !== "auth") throw new Error(`bad simulated event`);
    const e = parsed.event;
    ctx.self.key = e.user_id;
    ctx.watermark_ms = e.ts;
    const message: UserMessage = { kind: "event", event: e };
    const step = user.receive(
      states.get(e.user_id) ?? user.initial(e.user_id),
      message,
      ctx as ActorContext,
    );
    states.set(e.user_id, step.state);
    for (const effect of step.effects) {
      if (effect.kind !== "infer") continue;
      const day = Math.floor((e.ts - SIMULATION.start_ms) / DAY_MS);
      rows.push([e.event_id, day, Array.from(effect.features).join(",")]);
    }
  }
  const label = new Map<string, string>();
  for (const t of sim.truths) {
    for (const r of t.risky_logins ?? []) label.set(r.event_id, t.scenario);
  }
  const lines = [`event_id,day,label,${LOGIN_FEATURES.join(",")}`];
  for (const [id, day, features] of rows) {
    lines.push(`${id},${day},${label.get(id) ?? "benign"},${features}`);
  }
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")) || ".", { recursive: true });
  await Deno.writeTextFile(out, lines.join("\n") + "\n");
  await Deno.writeTextFile(out.replace(/\.csv$/, "") + ".json", JSON.stringify(SIMULATION) + "\n");
  const attacks = [...label.values()].reduce<Record<string, number>>((n, s) => {
    n[s] = (n[s] ?? 0) + 1;
    return n;
  }, {});
  console.log(JSON.stringify({ rows: lines.length - 1, attacks, simulation: SIMULATION }));
}

if (import.meta.main) await main(Deno.args[0] ?? ".cache/login/rows.csv");

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

/**
 * Cold starts: short, busy runs from empty state, as every deployment begins (and as the
 * quality report measures). Without them the model sees attacks only on users with days
 * of history, and cannot tell a second-ever login from an intruder's. Rows of the last
 * run are given a validation day (day 13), the others a training day (day 0).
 */
export const COLD_STARTS = {
  seeds: [21, 22, 23, 24],
  users: 20_000,
  hours: 6,
  events_per_second: 20,
  attack_interval_s: 60,
} as const;

const DAY_MS = 86_400_000;
const VALIDATION_DAY = 13;

type Row = [id: string, day: number, features: string];

async function main(out: string): Promise<void> {
  const config = structuredClone(defaults) as Config;
  const rows: Row[] = [];
  const label = new Map<string, string>();
  fold(
    config,
    new Simulator({
      seed: SIMULATION.seed,
      users: SIMULATION.users,
      start_ms: SIMULATION.start_ms,
      events_per_second: SIMULATION.events_per_second,
      attack_interval_s: SIMULATION.attack_interval_s,
    }),
    SIMULATION.start_ms + SIMULATION.days * DAY_MS,
    (ts) => Math.floor((ts - SIMULATION.start_ms) / DAY_MS),
    rows,
    label,
  );
  COLD_STARTS.seeds.forEach((seed, i) => {
    const day = i === COLD_STARTS.seeds.length - 1 ? VALIDATION_DAY : 0;
    fold(
      config,
      new Simulator({
        seed,
        users: COLD_STARTS.users,
        start_ms: SIMULATION.start_ms,
        events_per_second: COLD_STARTS.events_per_second,
        attack_interval_s: COLD_STARTS.attack_interval_s,
      }),
      SIMULATION.start_ms + COLD_STARTS.hours * 3_600_000,
      () => day,
      rows,
      label,
    );
  });
  const lines = [`event_id,day,label,${LOGIN_FEATURES.join(",")}`];
  for (const [id, day, features] of rows) {
    lines.push(`${id},${day},${label.get(id) ?? "benign"},${features}`);
  }
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")) || ".", { recursive: true });
  await Deno.writeTextFile(out, lines.join("\n") + "\n");
  await Deno.writeTextFile(
    out.replace(/\.csv$/, "") + ".json",
    JSON.stringify({ ...SIMULATION, cold_starts: COLD_STARTS }) + "\n",
  );
  const attacks = [...label.values()].reduce<Record<string, number>>((n, s) => {
    n[s] = (n[s] ?? 0) + 1;
    return n;
  }, {});
  console.log(
    JSON.stringify({
      rows: lines.length - 1,
      attacks,
      simulation: SIMULATION,
      cold_starts: COLD_STARTS,
    }),
  );
}

/**
 * Folds a simulation's auth events until `end` through fresh user actors: a row per
 * scored login (its day from `dayOf`), and the attackers' logins labelled by scenario.
 */
function fold(
  config: Config,
  sim: Simulator,
  end: number,
  dayOf: (ts: number) => number,
  rows: Row[],
  label: Map<string, string>,
): void {
  const user = userBehaviour(config, () => ({ version: "training", risky_index: 1 }));
  const states = new Map<string, UserState>();
  const ctx = { self: { type: "user", key: "" }, watermark_ms: 0 };
  const mine: { row: Row; user: string }[] = [];
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
      mine.push({ row: [e.event_id, dayOf(e.ts), effect.features.join(",")], user: e.user_id });
    }
  }
  for (const t of sim.truths) {
    for (const r of t.risky_logins ?? []) label.set(r.event_id, t.scenario);
  }
  // The owner's next login after an intruder's is measured from the intruder's place and
  // device, so it looks like the intrusion (impossible travel back home). Neither label
  // is right for it: it is left out.
  const after = new Set<string>();
  for (const { row, user } of mine) {
    if (label.has(row[0])) {
      after.add(user);
    } else if (after.delete(user)) {
      continue;
    }
    rows.push(row);
  }
}

if (import.meta.main) await main(Deno.args[0] ?? ".cache/login/rows.csv");

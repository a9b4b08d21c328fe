/**
 * Replay throughput: 1,000,000 simulated auth events over 100,000 users through the
 * actors, beside the ceiling of merely reading and parsing the same file in the same run.
 *
 * @module
 */

import { type Config, defaults } from "../config/defaults.ts";
import { linesOfFile } from "../engine/replay.ts";
import { replayThreaded } from "../engine/replay_parallel.ts";
import { Simulator } from "../sim/simulator.ts";

/** One figure beside its ceiling. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  ceiling: number;
  ceiling_name: string;
  target: string;
  met: boolean;
}

const FILE = ".cache/bench/auth-1m-100k.jsonl";
const EVENTS = 1_000_000;
const USERS = 100_000;

/** Writes the benchmark's input once (deterministic: seed 7). */
export async function ensureInput(): Promise<string> {
  try {
    await Deno.stat(FILE);
    return FILE;
  } catch {
    // generate below
  }
  await Deno.mkdir(".cache/bench", { recursive: true });
  const sim = new Simulator({
    seed: 7,
    users: USERS,
    start_ms: Date.UTC(2026, 0, 5, 0),
    events_per_second: 2_000,
    attack_interval_s: 30,
  });
  const file = await Deno.open(FILE, { write: true, create: true, truncate: true });
  const enc = new TextEncoder();
  let n = 0;
  while (n < EVENTS) {
    const lines: string[] = [];
    for (const e of sim.take(20_000)) {
      if (e.kind !== "auth") continue;
      lines.push(JSON.stringify(e));
      if (++n >= EVENTS) break;
    }
    await file.write(enc.encode(lines.join("\n") + "\n"));
  }
  file.close();
  return FILE;
}

/** Reads and parses every line the way replay reads them, nothing more: the ceiling. */
export async function parseOnly(path: string): Promise<number> {
  const t0 = performance.now();
  let n = 0, sink = 0;
  for await (const chunk of linesOfFile(path)()) {
    for (const line of chunk) {
      if (line.length === 0) continue;
      const v = JSON.parse(line);
      sink += v.timestamp.length;
      n++;
    }
  }
  if (sink === 0) throw new Error("nothing parsed");
  return n / ((performance.now() - t0) / 1000);
}

/** Runs the replay benchmark: best of `rounds` for both figures. */
export async function replayBench(rounds = 3): Promise<Figure[]> {
  const path = await ensureInput();
  const config = structuredClone(defaults) as Config;
  let ceiling = 0, best = 0, alerts = 0, users = 0;
  for (let i = 0; i < rounds; i++) {
    ceiling = Math.max(ceiling, await parseOnly(path));
    const t0 = performance.now();
    const r = await replayThreaded(linesOfFile(path), config);
    const rate = r.events / ((performance.now() - t0) / 1000);
    best = Math.max(best, rate);
    alerts = r.alerts.length;
    users = r.events;
  }
  console.log(`  replay: ${users.toLocaleString()} events, ${alerts} alerts`);
  return [
    {
      name: "replay of 1M auth events / 100k users",
      value: best,
      unit: "events/s",
      ceiling,
      ceiling_name: "read + JSON.parse only",
      target: "≥ 25 % of the ceiling",
      met: best >= 0.25 * ceiling,
    },
  ];
}

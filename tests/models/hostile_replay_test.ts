/**
 * Hostile lines in a replay, on one thread and on worker threads, from a string and from
 * a file: each is dead-lettered with its reason (or its actor quarantined) and the replay
 * ends, with the same result whatever the threads.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, linesOfFile, replay, type ReplayResult } from "../../engine/replay.ts";
import { replayThreaded } from "../../engine/replay_parallel.ts";
import { PROTOTYPE_NAMES } from "../unit/hostile.ts";

const T0 = Date.UTC(2026, 0, 5, 9);

function config(threads: number): Config {
  const c = structuredClone(defaults) as Config;
  c.runtime.replay_threads = threads;
  c.runtime.replay_chunk_lines = 64;
  return c;
}

function outcome(r: ReplayResult) {
  return {
    events: r.events,
    invalid: r.invalid,
    late: r.late,
    alerts: r.alerts,
    dead_letters: r.dead_letters,
  };
}

/** Replays `lines` on 1, 2 and 3 threads, from a string and from a file: all agree. */
async function everyWay(lines: string[]): Promise<ReplayResult> {
  const text = lines.join("\n") + "\n";
  const one = await replay(linesOf(text), config(1));
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(path, text);
    for (const threads of [1, 2, 3]) {
      const fromFile = await replayThreaded(linesOfFile(path, 4_096), config(threads));
      assert.deepEqual(outcome(fromFile), outcome(one), `${threads} threads, from the file`);
      const fromText = await replayThreaded(linesOf(text), config(threads));
      assert.deepEqual(outcome(fromText), outcome(one), `${threads} threads, from the text`);
    }
  } finally {
    await Deno.remove(path);
  }
  return one;
}

Deno.test("A replay dead-letters lines whose kind is an Object.prototype name, on every thread count", async () => {
  const lines = PROTOTYPE_NAMES.map((kind, i) =>
    JSON.stringify({ kind, service: "s", timestamp: T0 + i })
  );
  lines.push(JSON.stringify({ kind: "metric", service: "s", cpu: 3, timestamp: T0 + 99 }));
  const r = await everyWay(lines);
  assert.equal(r.invalid, PROTOTYPE_NAMES.length);
  assert.equal(r.events, 1);
});

Deno.test("A replay whose worker thread fails ends with the worker's error, never waits for it", async () => {
  const c = config(2);
  c.rules.shadow = "no.such_rule"; // each worker's run refuses it as it starts
  const line = JSON.stringify({ kind: "metric", service: "s", cpu: 3, timestamp: T0 });
  for (const text of ["", Array(500).fill(line).join("\n")]) {
    await assert.rejects(
      () => replayThreaded(linesOf(text), c),
      /A replay worker failed: .*Cannot put rule "no\.such_rule" in shadow mode/s,
    );
  }
});

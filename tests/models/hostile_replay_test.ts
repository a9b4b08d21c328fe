/**
 * Hostile lines in a replay, on one thread and on worker threads, from a string and from
 * a file: each is dead-lettered with its reason (or its actor quarantined) and the replay
 * ends, with the same result whatever the threads. Besides the examples, a property test
 * (fast-check, fixed seed) over generated hostile lines.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, linesOfFile, replay, type ReplayResult } from "../../engine/replay.ts";
import { replayThreaded } from "../../engine/replay_parallel.ts";
import { checkReplay, hostileLines, PROTOTYPE_NAMES } from "../unit/hostile.ts";

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

Deno.test("A replay dead-letters a line over max_event_bytes as oversized, reading a file without holding the line whole, on every thread count", async () => {
  const at = (i: number) => new Date(T0 + i * 1_000).toISOString();
  const metric = (i: number, pad: number) =>
    JSON.stringify({
      kind: "metric",
      service: "s",
      cpu: 3,
      timestamp: at(i),
      pad: "x".repeat(pad),
    });
  const exactly = (i: number, bytes: number) => {
    const line = metric(i, 0);
    return metric(i, bytes - new TextEncoder().encode(line).length);
  };
  const lines = [
    metric(0, 10),
    exactly(1, 10_000), // at the limit: taken
    exactly(2, 10_001), // just over: judged whole
    "  " + exactly(3, 10_000) + "   ", // the limit, with white space around it: taken
    metric(4, 3_000_000), // far over: never held whole
    metric(5, 10),
  ];
  const path = await Deno.makeTempFile({ suffix: ".jsonl" });
  try {
    await Deno.writeTextFile(path, lines.join("\n"));
    const results: ReplayResult[] = [];
    for (const threads of [1, 2, 3]) {
      const c = config(threads);
      c.max_event_bytes = 10_000;
      results.push(await replayThreaded(linesOfFile(path, 4_096, c.max_event_bytes), c));
    }
    const one = results[0]!;
    for (const r of results.slice(1)) assert.deepEqual(outcome(r), outcome(one));
    assert.equal(one.events, 4);
    assert.equal(one.invalid, 2);
    const far = new TextEncoder().encode(lines[4]!).length;
    assert.deepEqual(one.dead_letters.map((d) => [d.source, d.category, d.reason]), [
      // The intakes' own words (they count characters first, and bytes only when in doubt).
      [
        "line 3",
        "oversized",
        "Cannot accept event: at least 10001 bytes exceeds the limit of 10000",
      ],
      ["line 5", "oversized", `Cannot accept event: ${far} bytes exceeds the limit of 10000`],
    ]);
    const letter = one.dead_letters[1]!;
    assert.equal(letter.raw_bytes, far, "its size, though only its start is kept");
    assert.equal(letter.raw.length, 65_536);
    assert.ok(lines[4]!.startsWith(letter.raw));
    // From a string, the same line is refused with the reason the API and Kafka give it.
    const c = config(1);
    c.max_event_bytes = 10_000;
    const text = await replay(linesOf(lines.join("\n")), c);
    assert.equal(text.invalid, 2);
    assert.match(text.dead_letters[1]!.reason, /at least \d+ bytes exceeds the limit of 10000/);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("A replay of hostile lines on two threads ends with what one thread gives; each bad line is refused with its reason; no actor's turn fails", async () => {
  let events = 0, invalid = 0;
  await fc.assert(
    fc.asyncProperty(hostileLines(T0, 32), async (lines) => {
      const text = lines.join("\n");
      const one = await replay(linesOf(text), config(1));
      checkReplay(lines, one);
      const two = await replayThreaded(linesOf(text), config(2));
      assert.deepEqual(outcome(two), outcome(one));
      events += one.events;
      invalid += one.invalid;
    }),
    { seed: 8, numRuns: 12 },
  );
  // Hostile and plain both: many events taken, many refused.
  assert.ok(events > 150 && invalid > 60, `${events} events, ${invalid} refused`);
});

import assert from "node:assert/strict";
import { FLOW_MODEL } from "../../actors/source.ts";
import { LOGIN_MODEL } from "../../actors/rules/login_risk.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, linesOfFile, replay, type ReplayResult } from "../../engine/replay.ts";
import { groupOfBytes, groupOfLine, replayThreaded } from "../../engine/replay_parallel.ts";
import { threadOf } from "../../engine/replay_protocol.ts";
import { ModelService } from "../../models/service.ts";
import { flowsOf, Simulator } from "../../sim/simulator.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;

/** Every kind of event, attacks included, as the simulator writes them. */
function mixedLines(models: ModelService): string[] {
  const m = models.manifest(FLOW_MODEL)!;
  const sim = new Simulator({
    seed: 11,
    users: 2_000,
    start_ms: Date.UTC(2026, 0, 5, 9),
    events_per_second: 60,
    attack_interval_s: 20,
    flows: flowsOf(m, 6)!,
    ops: { clicks_per_second: 10 },
  });
  return sim.take(30_000).map((e) => JSON.stringify(e));
}

function config(threads: number, chunk = 512): Config {
  const c = structuredClone(defaults) as Config;
  c.runtime.replay_threads = threads;
  c.runtime.replay_chunk_lines = chunk;
  c.runtime.replay_chunks_in_flight = 2;
  return c;
}

/** What two replays must agree on (`ms`, the time taken, aside). */
function outcome(r: ReplayResult) {
  return {
    events: r.events,
    invalid: r.invalid,
    late: r.late,
    alerts: r.alerts,
    dead_letters: r.dead_letters,
  };
}

async function withModels(use: (models: ModelService) => Promise<void>): Promise<void> {
  const models = new ModelService({ ...defaults.models, dir: MODELS });
  try {
    await models.activate(FLOW_MODEL, "1");
    await models.activate(LOGIN_MODEL, "2");
    await use(models);
  } finally {
    await models.close();
  }
}

Deno.test("A replay on worker threads raises exactly the alerts and dead letters of one on the main thread, both models scoring", async () => {
  await withModels(async (models) => {
    const lines = mixedLines(models);
    // Bad lines of both groups' kinds and of none, where each worker must say why.
    lines.splice(100, 0, "{not json");
    lines.splice(
      2_000,
      0,
      '{"kind":"auth","type":"login_success","timestamp":"2026-01-05T09:00:30Z"}',
    );
    lines.splice(4_000, 0, '{"kind":"click","page":"/x","timestamp":"2026-01-05T09:01:00Z"}');
    lines.splice(6_000, 0, '{"kind":"spaceship","timestamp":"2026-01-05T09:01:40Z"}');
    const text = lines.join("\n");
    const one = await replay(linesOf(text), config(1), models);
    const kinds = new Set(one.alerts.map((a) => a.rule.split(".")[0]));
    for (const family of ["auth", "ip", "user", "tx", "flow", "net", "svc"]) {
      assert.ok(kinds.has(family), `the input raises ${family} alerts (${[...kinds]})`);
    }
    assert.equal(one.invalid, 4);
    assert.deepEqual(
      one.dead_letters.map((d) => d.source),
      ["line 101", "line 2001", "line 4001", "line 6001"],
    );
    for (const threads of [2, 3]) {
      const many = await replayThreaded(linesOf(text), config(threads), models);
      assert.deepEqual(outcome(many), outcome(one), `${threads} threads`);
      assert.equal(many.threads, threads);
    }
    // And threads=1 through the same entry point is the replay on this thread.
    assert.deepEqual(outcome(await replayThreaded(linesOf(text), config(1), models)), outcome(one));
  });
});

Deno.test("A file is dealt to the threads as bytes, numbered and read as on one thread: byte order mark, CRLF, blank lines, lines opening otherwise, multi-byte text, no last newline", async () => {
  await withModels(async (models) => {
    const lines = mixedLines(models).slice(0, 8_000);
    const user = (i: number) =>
      JSON.parse(lines.find((l) => l.includes('"user_id"'))!.slice(0))
        .user_id + i;
    const at = (i: number) => JSON.parse(lines[i]!).timestamp;
    lines[0] = "\ufeff" + lines[0];
    lines[50] = lines[50] + "\r";
    lines.splice(60, 0, "", "   ", "\r");
    lines.splice(
      300,
      0,
      `  {"timestamp":"${at(300)}","kind":"auth","type":"login_failure","user_id":"${user(1)}",` +
        `"ip":"203.0.113.9","city":"Zürich ✈"}`,
    );
    lines.splice(900, 0, "{not json", '{"kind":"auth","type":"login_success"}', "[]");
    lines.splice(2_000, 0, `{"kind":"flow","timestamp":"${at(2_000)}","src_ip":"1.2.3.4"}`);
    lines.splice(3_000, 0, `{"kind":"click","page":"/ü","timestamp":"${at(3_000)}"}`);
    const text = lines.join("\n"); // no newline after the last line
    const path = await Deno.makeTempFile({ suffix: ".jsonl" });
    try {
      await Deno.writeTextFile(path, text);
      const one = await replay(linesOf(text.replace(/^\ufeff/, "")), config(1), models);
      assert.ok(one.invalid >= 5, `the bad lines are dead-lettered (${one.invalid})`);
      const sources = one.dead_letters.map((d) => d.source);
      for (const n of [901, 902, 903, 2001, 3001]) assert.ok(sources.includes(`line ${n}`), `${n}`);
      // A small read buffer: lines cross reads, and flow lines are longer than a read.
      for (const threads of [2, 3]) {
        const many = await replayThreaded(linesOfFile(path, 1_000), config(threads), models);
        assert.equal(many.threads, threads);
        assert.deepEqual(outcome(many), outcome(one), `${threads} threads`);
      }
      assert.deepEqual(
        outcome(await replay(linesOfFile(path, 1_000), config(1), models)),
        outcome(one),
      );
    } finally {
      await Deno.remove(path);
    }
  });
});

Deno.test("A threaded replay of a file out of event-time order, or with a line that names its kind twice, runs on one thread and gives one-thread results", async () => {
  await withModels(async (models) => {
    const lines = mixedLines(models).slice(0, 6_000);
    // Swap two auth lines far apart: that group's events go back in time.
    const auth = lines.flatMap((l, i) => l.startsWith('{"kind":"auth"') ? [i] : []);
    const [a, b] = [auth[10]!, auth[auth.length - 10]!];
    [lines[a], lines[b]] = [lines[b]!, lines[a]!];
    const unsorted = lines.join("\n");
    const one = await replay(linesOf(unsorted), config(1), models);
    const two = await replayThreaded(linesOf(unsorted), config(2), models);
    assert.equal(one.sorted, true);
    assert.equal(two.sorted, true, "sorted on one thread");
    assert.equal(two.threads, 1);
    assert.deepEqual(outcome(two), outcome(one));

    // Dealt by its first "kind" to the users' worker; JSON reads the last: a click.
    const sorted = mixedLines(models).slice(0, 6_000);
    const at = JSON.parse(sorted[2]!).timestamp;
    const twice = `{"kind":"auth","event_id":"k2","timestamp":"${at}",` +
      '"session_id":"s","page":"/twice","kind":"click"}';
    assert.equal(groupOfLine(twice), 0);
    sorted.splice(3, 0, twice);
    const text = sorted.join("\n");
    const oneT = await replay(linesOf(text), config(1), models);
    // On three threads, auth (users) and click (pages) are on different ones.
    const twoT = await replayThreaded(linesOf(text), config(3), models);
    assert.deepEqual(outcome(twoT), outcome(oneT));
    assert.equal(twoT.invalid, 0, "the click is taken, as on one thread");
    assert.equal(twoT.sorted, false);
    assert.equal(twoT.threads, 1, "started over on one thread");
  });
});

Deno.test("Lines are dealt by their opening kind, and by parsing when they open otherwise; two threads put the users and IPs on their own", () => {
  assert.deepEqual([0, 1, 2].map((g) => threadOf(g, 2)), [0, 1, 1]);
  assert.deepEqual([0, 1, 2].map((g) => threadOf(g, 3)), [0, 1, 2]);
  assert.deepEqual([0, 1, 2].map((g) => threadOf(g, 8)), [0, 1, 2]);
  assert.deepEqual([0, 1, 2].map((g) => threadOf(g, 1)), [0, 0, 0]);
  assert.equal(groupOfLine('{"kind":"auth","user_id":"u"}'), 0);
  assert.equal(groupOfLine('{"kind":"transaction"}'), 0);
  assert.equal(groupOfLine('{"kind":"flow","src_ip":"1.2.3.4"}'), 1);
  assert.equal(groupOfLine('{"kind":"click"}'), 2);
  assert.equal(groupOfLine('{"kind":"log"}'), 2);
  assert.equal(groupOfLine('{"kind":"metric"}'), 2);
  assert.equal(groupOfLine('{ "kind" : "metric" }'), 2, "parsed");
  assert.equal(groupOfLine('{"service":"a","kind":"log"}'), 2, "parsed");
  assert.equal(groupOfLine('{"kind":"logx"}'), 0, "no such kind: the first group says why");
  assert.equal(groupOfLine("not json"), 0);
  assert.equal(groupOfLine("[]"), 0);
  // From bytes, the same; blank lines are not dealt.
  const decoder = new TextDecoder();
  const bytes = (line: string) => {
    const b = new TextEncoder().encode(`x${line}y`);
    return groupOfBytes(b, 1, b.length - 1, decoder);
  };
  for (
    const line of [
      '{"kind":"auth","user_id":"u"}',
      '{"kind":"transaction"}',
      '{"kind":"flow","src_ip":"1.2.3.4"}',
      '{"kind":"click"}',
      '{"kind":"log"}',
      '{"kind":"metric"}',
      '{ "kind" : "metric" }',
      '{"service":"a","kind":"log"}',
      '{"kind":"logx"}',
      '{"kind":"log',
      "not json",
      "[]",
    ]
  ) assert.equal(bytes(line), groupOfLine(line), line);
  assert.equal(bytes(""), -1);
  assert.equal(bytes(" \r"), -1);
});

Deno.test("A worker that cannot start fails the threaded replay with its reason, and no worker is left running", async () => {
  // Models the main thread names but the workers cannot load (no such folder).
  const models = {
    settings: { ...defaults.models, dir: "/nonexistent/vigil-models" },
    activeVersions: () => ({ [FLOW_MODEL]: "1" }),
  } as unknown as ModelService;
  const text = mixedLinesWithoutModel().join("\n");
  await assert.rejects(
    () => replayThreaded(linesOf(text), config(2), models),
    /A replay worker failed: .*flow_classifier/s,
  );
});

/** Auth and click lines (no flows: they need the model's prototypes). */
function mixedLinesWithoutModel(): string[] {
  const sim = new Simulator({
    seed: 5,
    users: 200,
    start_ms: Date.UTC(2026, 0, 5, 9),
    events_per_second: 20,
    attack_interval_s: 60,
    ops: { clicks_per_second: 5 },
  });
  return sim.take(20_000).map((e) => JSON.stringify(e));
}

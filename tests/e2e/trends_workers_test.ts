/**
 * Issue 17's "done when" on three workers, Kafka and MongoDB: a day and a half of simulated
 * logins and payments produced to Kafka by a standard client are archived by whichever
 * worker owns their partition, the scheduled roll-up runs in one worker at a time (the
 * store's lease), and any worker's `GET /api/v1/stats` then shows yesterday's and today's
 * trends as the simulator made them, and `GET /api/v1/events` one user's hour of events.
 *
 * @module
 */

import assert from "node:assert/strict";
import { drillStore, kafkajsProducer, produceAll, workerEnv } from "./drill.ts";
import { get, isReady, startWorker, until } from "./workers.ts";
import { kafkaBrokers, mongoUri, unique } from "../integration/servers.ts";
import { assertTrends, type Call, DAY, simulatedDays } from "../integration/trend_checks.ts";

Deno.test({
  name: "three workers on Kafka and MongoDB: yesterday's and today's trends, one user's hour",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const now = Date.now();
  const { yesterday, events } = simulatedDays(now);
  const prefix = `${unique("trends")}.`;
  const database = unique("trends");
  const env = {
    ...workerEnv("murmur2", prefix, database),
    VIGIL_IO_ARCHIVE_RAW_EVENTS: "true",
    VIGIL_AGGREGATE_FIRST_RUN_DELAY_MS: "2000",
    VIGIL_AGGREGATE_INTERVAL_MS: "4000",
    VIGIL_AGGREGATE_LOOKBACK_MS: String(2 * DAY),
  };
  const workers = [0, 1, 2].map(() => startWorker(env));
  const store = await drillStore(mongoUri(), database);
  try {
    await until("three workers ready", async () => {
      for (const w of workers) if (!(await isReady(w))) return undefined;
      return true;
    });
    const producer = await kafkajsProducer(kafkaBrokers(), prefix);
    try {
      await produceAll(producer, events.map((e) => JSON.stringify(e)), undefined, 2_000);
    } finally {
      await producer.close();
    }
    await until("every event archived", async () => {
      const n = (await store.findEvents({ limit: 1_000_000 })).length;
      return n === events.length ? true : undefined;
    });
    // A roll-up that began after the last event was archived.
    const archivedAt = Date.now();
    await until("a roll-up run after the archive was complete", async () => {
      const [last] = await store.findJobRuns("rollup", 1);
      return last && Date.parse(last.started_at) > archivedAt ? true : undefined;
    });
    const runs = await store.findJobRuns("rollup", 100);
    assert.ok(runs.length >= 2, `${runs.length} runs`);
    assert.equal(new Set(runs.map((r) => r.by)).size, 1, "one worker holds the lease");
    assert.ok(runs.every((r) => r.outcome === "ok"), JSON.stringify(runs[0]));

    for (const w of workers) {
      const call: Call = async (path) => {
        const r = await get(`http://127.0.0.1:${w.port}${path}`, "drill");
        assert.ok(r, `worker on ${w.port} answers ${path}`);
        return { status: r.status, json: JSON.parse(r.text) };
      };
      await assertTrends(call, events, yesterday, now);
    }
  } finally {
    await store.close();
    const codes = await Promise.all(workers.map((w) => w.stop()));
    assert.deepEqual(codes, [0, 0, 0], workers.map((w) => w.said().slice(-1_500)).join("\n"));
  }
});

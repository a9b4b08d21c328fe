/**
 * Fault drills on servers of their own (so they can be stopped): MongoDB stopped for 10 s
 * mid-stream (the workers pause, report not ready, then resume), and the Kafka broker
 * restarted mid-stream (the workers ride it out). Either way nothing is lost: MongoDB ends
 * with exactly the alerts `replay` gives for the same events. Each is produced by kafkajs
 * and by kcat: for the outage with `murmur2_random` (placed as Vigil places), for the
 * broker restart with librdkafka's default (crc32: moved through the repartition topic).
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Server, startKafka, startMongo } from "../../tools/servers.ts";
import { kcatBin, unique } from "../integration/servers.ts";
import {
  assertAlertsMatch,
  type Client,
  client,
  drillConfig,
  drillProducer,
  drillStore,
  expectedAlertIds,
  misplacedRecords,
  placedBy,
  placementEnv,
  produceAll,
  simulatedStream,
  vigilPlacement,
} from "./drill.ts";
import { isReady, startWorker, until, type Worker } from "./workers.ts";

const EVENTS = 60_000;

async function drill(
  name: string,
  who: Client,
  fault: (servers: { kafka: Server; mongo: Server }, workers: Worker[]) => Promise<void>,
): Promise<void> {
  const [kafkaServer, mongoServer] = await Promise.all([
    startKafka({ port: 39192, controller_port: 39193, name: `drill-${name}` }),
    startMongo({ port: 37117, name: `drill-${name}` }),
  ]);
  const lines = await simulatedStream(EVENTS, 23, placedBy(who), vigilPlacement("murmur2"));
  const expectedIds = await expectedAlertIds(lines, drillConfig());
  assert.ok(expectedIds.size > 20, `only ${expectedIds.size} alerts expected`);
  const database = unique("outage");
  const env = {
    ...placementEnv("murmur2"),
    KAFKA_BROKERS: kafkaServer.address,
    MONGODB_URI: mongoServer.address,
    VIGIL_IO_MONGODB_DATABASE: database,
    VIGIL_IO_KAFKA_GROUP: unique("workers"),
    VIGIL_IO_STORE_TIMEOUT_MS: "2000",
    VIGIL_IO_CHECKPOINT_INTERVAL_MS: "1000",
    // The raw archive (on by default with MongoDB) is not what this checks, and on
    // mongo-java-server it costs about 130 µs an event (measured): off.
    VIGIL_IO_ARCHIVE_RAW_EVENTS: "false",
  };
  const kafka = client(kafkaServer.address);
  const workers: Worker[] = [];
  const producer = await drillProducer(who, kcatBin(), kafkaServer.address, "");
  try {
    workers.push(startWorker(env));
    await until("the first worker", async () => (await isReady(workers[0]!)) || undefined);
    workers.push(startWorker(env));
    await until(
      "two workers",
      async () => (await Promise.all(workers.map(isReady))).every((r) => r) || undefined,
    );
    await produceAll(producer, lines, async (sent) => {
      if (sent === 20_000) await fault({ kafka: kafkaServer, mongo: mongoServer }, workers);
    });
    const store = await drillStore(mongoServer.address, database);
    try {
      await assertAlertsMatch(store, kafka, "alerts", expectedIds);
    } finally {
      await store.close();
    }
    let moved = 0;
    for (const w of workers) moved += await misplacedRecords(w.port);
    if (who === "kcat") assert.ok(moved > 1_000, `only ${moved} records moved`);
    else assert.equal(moved, 0, `${who} places keys where Vigil does`);
    for (const w of workers) {
      const code = await w.stop();
      assert.equal(code, 0, `a worker exited with ${code}:\n${(await w.log).slice(-3000)}`);
    }
  } finally {
    await Promise.all(workers.map((w) => w.crash()));
    await producer.close().catch(() => {});
    await Promise.all([kafkaServer.stop(), mongoServer.stop()]);
  }
}

for (const who of ["kcat-murmur2", "kafkajs"] as const satisfies readonly Client[]) {
  Deno.test({
    name: `MongoDB stopped for 10 s mid-stream produced by ${who}: ` +
      "workers pause, report not ready, resume, lose nothing",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => mongoDrill(who),
  });
}

async function mongoDrill(who: Client): Promise<void> {
  await drill("mongo", who, async ({ mongo }, workers) => {
    await new Promise((r) => setTimeout(r, 1_000));
    await mongo.stop();
    const stoppedAt = Date.now();
    const notReady = await until("a worker to report not ready", async () => {
      for (const w of workers) {
        const r = await fetch(`http://127.0.0.1:${w.port}/ready`).catch(() => null);
        const body = r ? await r.text() : "";
        if (r?.status === 503) return body;
      }
      return undefined;
    }, 30_000);
    assert.match(notReady, /store does not answer|cannot store/);
    const left = 10_000 - (Date.now() - stoppedAt);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
    await mongo.restart();
    const restartedAt = Date.now();
    await until(
      "the workers to be ready again",
      async () => (await Promise.all(workers.map(isReady))).every((r) => r) || undefined,
      120_000,
    ).catch(async (err) => {
      // Say why: each worker's /ready answer (CI saw this time out now and then).
      const answers = await Promise.all(workers.map(async (w) => {
        const r = await fetch(`http://127.0.0.1:${w.port}/ready`).catch((e) => String(e));
        return typeof r === "string" ? r : `${r.status} ${await r.text()}`;
      }));
      // And the log of each worker that is not ready (kept only once it has exited).
      const logs: string[] = [];
      for (const [i, w] of workers.entries()) {
        if (answers[i]!.startsWith("200")) continue;
        await w.crash();
        logs.push(`worker ${i} (port ${w.port}):\n${(await w.log).slice(-6000)}`);
      }
      throw new Error(`${(err as Error).message}: ${answers.join(" | ")}\n${logs.join("\n")}`);
    });
    console.log(`workers ready again ${Date.now() - restartedAt} ms after MongoDB restarted`);
  });
}

for (const who of ["kcat", "kafkajs"] as const satisfies readonly Client[]) {
  Deno.test({
    name: `Kafka broker restarted mid-stream produced by ${who}: ` +
      "workers ride it out and lose nothing",
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await drill("kafka", who, async ({ kafka }) => {
        await new Promise((r) => setTimeout(r, 1_000));
        await kafka.stop();
        await new Promise((r) => setTimeout(r, 3_000));
        await kafka.restart();
      });
    },
  });
}

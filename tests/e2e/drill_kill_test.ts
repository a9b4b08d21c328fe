/**
 * Fault drill: kill -9 one of three workers in the middle of a simulated stream of every
 * event kind with attacks, produced once by kcat with librdkafka's default partitioner
 * (crc32: every key Vigil places by murmur2 is moved through the repartition topic) and
 * once by kafkajs. The set of alert ids in MongoDB must equal the set `replay` gives over
 * the same events, each exactly once, and the Kafka `alerts` topic must carry every one of
 * them (duplicates only with identical content).
 *
 * @module
 */

import assert from "node:assert/strict";
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
  produceAll,
  simulatedStream,
  vigilPlacement,
  workerEnv,
} from "./drill.ts";
import { kafkaBrokers, kcatBin, mongoUri, unique } from "../integration/servers.ts";
import { isReady, startWorker, until, type Worker } from "./workers.ts";

const EVENTS = 120_000;

for (const who of ["kcat", "kafkajs"] as const satisfies readonly Client[]) {
  Deno.test({
    name: `kill -9 of one of three workers mid-stream, produced by ${who}: ` +
      "MongoDB holds exactly the replay's alerts",
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => killDrill(who),
  });
}

async function killDrill(who: Client): Promise<void> {
  const lines = await simulatedStream(EVENTS, 11, placedBy(who), vigilPlacement("murmur2"));
  const expectedIds = await expectedAlertIds(lines, drillConfig());
  assert.ok(expectedIds.size > 50, `only ${expectedIds.size} alerts expected`);

  const prefix = `${unique("drill")}.`;
  const database = unique("drill");
  const env = workerEnv("murmur2", prefix, database);
  const kafka = client(kafkaBrokers());
  const store = await drillStore(mongoUri(), database);
  const workers: Worker[] = [];
  const producer = await drillProducer(who, kcatBin(), kafkaBrokers(), prefix);
  try {
    workers.push(startWorker(env));
    await until("the first worker", async () => (await isReady(workers[0]!)) || undefined);
    workers.push(startWorker(env), startWorker(env));
    await until(
      "three workers",
      async () => (await Promise.all(workers.map(isReady))).every((r) => r) || undefined,
    );
    await produceAll(producer, lines, async (sent) => {
      if (sent !== 50_000) return;
      // Let the workers get into the stream, then crash one of them.
      await new Promise((r) => setTimeout(r, 1_500));
      await workers[1]!.crash();
    });
    await assertAlertsMatch(store, kafka, `${prefix}alerts`, expectedIds);

    const crashedLog = await workers[1]!.log;
    assert.match(crashedLog, /Partitions assigned/, "the crashed worker had taken its share");
    // Ask the survivors (both still running: stopping one would hand all to the other).
    const owned = async (w: Worker) => {
      const r = await fetch(`http://127.0.0.1:${w.port}/api/v1/actors`, {
        headers: { authorization: "Bearer drill" },
      });
      return ((await r.json()).partitions ?? []) as number[];
    };
    const all = Array.from({ length: 12 }, (_, i) => i);
    let seen: number[] = [];
    await until("the survivors to own every partition once", async () => {
      seen = (await Promise.all([owned(workers[0]!), owned(workers[2]!)])).flat()
        .sort((a, b) => a - b);
      return seen.join() === all.join() || undefined;
    }, 30_000).catch(() => undefined);
    assert.deepEqual(seen, all, "the survivors took over every partition, each once");
    // crc32-placed keys were moved to their murmur2 partition; kafkajs's were in place.
    const moved = (await misplacedRecords(workers[0]!.port)) +
      (await misplacedRecords(workers[2]!.port));
    if (who === "kcat") assert.ok(moved > 1_000, `only ${moved} records moved`);
    else assert.equal(moved, 0, "kafkajs places keys where Vigil does");
    const survivorLogs = await Promise.all([workers[0]!, workers[2]!].map(async (w) => {
      assert.equal(await w.stop(), 0);
      return await w.log;
    }));
    // The crashed worker's partitions were restored from its checkpoints.
    assert.match(survivorLogs.join("\n"), /Partition restored from its checkpoint/);
    if (who === "kcat") {
      assert.match(survivorLogs.join("\n"), /Their keys look placed by crc32/);
    }
  } finally {
    await Promise.all(workers.map((w) => w.crash()));
    await producer.close();
    await store.close();
  }
}

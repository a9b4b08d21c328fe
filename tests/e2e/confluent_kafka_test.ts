/**
 * A Python user's producer: events of every kind written by confluent-kafka-python with
 * its defaults (librdkafka's crc32 partitioner) to one worker left at Vigil's defaults
 * (murmur2). Most keys arrive on another partition than their actor's and are moved; the
 * alerts are exactly the replay's, and the worker says what to set.
 *
 * @module
 */

import assert from "node:assert/strict";
import { crc32PartitionOf } from "../../actors/crc32.ts";
import { partitionOf } from "../../actors/murmur2.ts";
import { confluentPython, kafkaBrokers, mongoUri, unique } from "../integration/servers.ts";
import {
  assertAlertsMatch,
  client,
  confluentProducer,
  drillStore,
  expectedAlertIds,
  misplacedRecords,
  produceAll,
  simulatedStream,
  workerEnv,
} from "./drill.ts";
import { isReady, startWorker, until } from "./workers.ts";

Deno.test({
  name: "confluent-kafka-python with its defaults into a worker with Vigil's: the replay's alerts",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const lines = await simulatedStream(80_000, 7, crc32PartitionOf, partitionOf);
    const expectedIds = await expectedAlertIds(lines);
    const prefix = `${unique("confluent")}.`;
    const database = unique("confluent");
    const worker = startWorker(workerEnv("murmur2", prefix, database));
    const store = await drillStore(mongoUri(), database);
    try {
      await until("the worker", async () => (await isReady(worker)) || undefined);
      await produceAll(confluentProducer(confluentPython(), kafkaBrokers(), prefix), lines);
      await assertAlertsMatch(store, client(kafkaBrokers()), `${prefix}alerts`, expectedIds);
      const moved = await misplacedRecords(worker.port);
      assert.ok(moved > lines.length / 2, `${moved} of ${lines.length} records moved`);
      assert.equal(await worker.stop(), 0);
      assert.match(
        await worker.log,
        /Their keys look placed by crc32 .*set VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=crc32/,
      );
    } finally {
      await worker.crash();
      await store.close();
    }
  },
});

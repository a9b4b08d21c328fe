import assert from "node:assert/strict";
import { partitionOf } from "../../actors/murmur2.ts";
import type { Batch } from "../../io/log.ts";
import { KafkaLog } from "../../io/kafka_log.ts";
import { kafkaBrokers, unique } from "./servers.ts";

async function until<T>(what: string, f: () => T | undefined, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

Deno.test({
  name: "KafkaLog places keyed records by murmur2 and commits batches only after the handler",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const log = new KafkaLog({ brokers: [kafkaBrokers()], client_id: "test" });
    const topic = unique("t");
    const group = unique("g");
    try {
      await log.ensureTopics([topic], 6);
      await log.ensureTopics([topic], 6); // idempotent
      const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      await log.produce(topic, keys.map((k, i) => ({ key: k, value: JSON.stringify({ i }) })));

      const seen: Batch[] = [];
      const first = log.consume({
        group,
        topics: [topic],
        max_batch: 4,
        handler: (b) => {
          seen.push(b);
          return Promise.resolve();
        },
      });
      await until(
        "60 records",
        () => seen.flatMap((b) => b.records).length >= 60 ? true : undefined,
      );
      await first.stop();
      // At least once: a rebalance while the group forms may hand a record over again
      // (the engine skips such repeats by offset); each is the same record every time.
      const byPosition = new Map<string, string>();
      for (const r of seen.flatMap((b) => b.records)) {
        const at = `${r.partition}/${r.offset}`;
        assert.equal(byPosition.get(at) ?? r.value, r.value, at);
        byPosition.set(at, r.value);
      }
      const records = [...new Map(
        seen.flatMap((b) => b.records).map((r) => [
          `${r.partition}/${r.offset}`,
          r,
        ]),
      ).values()];
      assert.equal(records.length, 60);
      for (const r of records) assert.equal(r.partition, partitionOf(r.key!, 6), r.key!);
      assert.ok(seen.every((b) => b.records.length <= 4), "batches are cut at max_batch");
      for (const b of seen) {
        const offsets = b.records.map((r) => r.offset);
        assert.deepEqual(offsets, [...offsets].sort((x, y) => x - y));
      }

      // A member taking the partitions over reads them again from the start to rebuild
      // state, marking what was committed before: only the new record is unmarked.
      await log.produce(topic, [{ key: "user-1", value: '{"late":true}' }]);
      const again: Batch[] = [];
      const second = log.consume({
        group,
        topics: [topic],
        max_batch: 100,
        handler: (b) => {
          again.push(b);
          return Promise.resolve();
        },
      });
      await until(
        "every record again",
        () => again.flatMap((b) => b.records).length >= 61 ? true : undefined,
      );
      await second.stop();
      const fresh = again.flatMap((b) =>
        b.records.filter((r) => b.replay_below === undefined || r.offset >= b.replay_below)
      );
      assert.deepEqual(fresh.map((r) => r.value), ['{"late":true}']);
      const replayed = again.flatMap((b) =>
        b.records.filter((r) => r.offset < (b.replay_below ?? -1))
      );
      assert.equal(replayed.length, 60, "everything committed before comes back marked as replay");
    } finally {
      await log.close();
    }
  },
});

Deno.test({
  name: "KafkaLog does not commit a batch whose handler failed: the next member gets it again",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const log = new KafkaLog({ brokers: [kafkaBrokers()], client_id: "test" });
    const topic = unique("t");
    const group = unique("g");
    try {
      await log.ensureTopics([topic], 1);
      await log.produce(topic, [{ key: "a", value: "1" }, { key: "a", value: "2" }]);
      let calls = 0;
      const failing = log.consume({
        group,
        topics: [topic],
        max_batch: 10,
        handler: () => {
          calls++;
          return Promise.reject(new Error("store down"));
        },
      });
      await until("a failed attempt", () => calls > 0 ? true : undefined);
      await failing.stop();
      const got: string[] = [];
      const healthy = log.consume({
        group,
        topics: [topic],
        max_batch: 10,
        handler: (b) => {
          got.push(...b.records.map((r) => r.value));
          return Promise.resolve();
        },
      });
      await until("the redelivery", () => got.length >= 2 ? true : undefined);
      await healthy.stop();
      assert.deepEqual(got, ["1", "2"]);
    } finally {
      await log.close();
    }
  },
});

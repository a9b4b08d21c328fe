import assert from "node:assert/strict";
import { partitionOf } from "../../actors/murmur2.ts";
import { crc32PartitionOf } from "../../actors/crc32.ts";
import type { Batch } from "../../io/log.ts";
import { KafkaLog, splitRequests } from "../../io/kafka_log.ts";
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
  name:
    "KafkaLog writes a record that names its partition there, keyed or not, whatever the placement",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    for (const placement of [undefined, crc32PartitionOf]) {
      const log = new KafkaLog({
        brokers: [kafkaBrokers()],
        client_id: "test",
        ...(placement ? { placement } : {}),
      });
      const topic = unique("named");
      try {
        await log.ensureTopics([topic], 6);
        // kafkajs asks the partitioner for every message, also those naming a partition:
        // keyless re-key bundles went round robin (and to a lane another process owns).
        const messages = Array.from({ length: 24 }, (_, i) => ({
          key: i % 2 === 0 ? null : `user-${i}`,
          value: JSON.stringify({ want: (i * 5) % 6 }),
          partition: (i * 5) % 6,
        }));
        await log.produce(topic, messages);
        const seen: Batch[] = [];
        const c = log.consume({
          group: unique("g"),
          topics: [topic],
          max_batch: 100,
          handler: (b) => {
            seen.push(b);
            return Promise.resolve();
          },
        });
        await until("24 records", () => seen.flatMap((b) => b.records).length >= 24 || undefined);
        await c.stop();
        for (const r of seen.flatMap((b) => b.records)) {
          assert.equal(r.partition, JSON.parse(r.value).want, `${r.key} ${r.value}`);
        }
      } finally {
        await log.close();
      }
    }
  },
});

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

Deno.test({
  name:
    "KafkaLog sends a backlog bigger than the broker takes at once in several requests, in order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The test broker takes record batches up to 8 MiB (message.max.bytes, raised from
    // Kafka's 1 MiB so an oversized event can reach the intake); this is 12 MB for one
    // partition, as an outbox may hold after a store outage.
    const topic = unique("big");
    const records = 40_000;
    const messages = Array.from({ length: records }, (_, i) => ({
      key: `ip-${i % 97}`,
      value: JSON.stringify({ i, pad: "x".repeat(260) }),
      partition: 0,
    }));
    const unsplit = new KafkaLog({
      brokers: [kafkaBrokers()],
      client_id: "test",
      max_request_bytes: 64 * 1024 * 1024,
    });
    const log = new KafkaLog({ brokers: [kafkaBrokers()], client_id: "test" });
    try {
      await log.ensureTopics([topic], 1);
      // In one request the broker refuses it, every time: why the split is needed.
      await assert.rejects(
        () => unsplit.produce(topic, messages),
        /larger than the max message size/,
      );
      await log.produce(topic, messages);
      const seen: number[] = [];
      const consumer = log.consume({
        group: unique("g"),
        topics: [topic],
        max_batch: 5_000,
        handler: (b) => {
          for (const r of b.records) {
            assert.equal(JSON.parse(r.value).i, r.offset, "records in the order sent");
            seen.push(r.offset);
          }
          return Promise.resolve();
        },
      });
      await until("every record", () => new Set(seen).size >= records ? true : undefined, 60_000);
      await consumer.stop();
      assert.equal(new Set(seen).size, records);
      assert.equal(Math.max(...seen), records - 1, "nothing else was written");
    } finally {
      await unsplit.close();
      await log.close();
    }
  },
});

Deno.test("splitRequests keeps each request under the bound and every topic's order", () => {
  const batches = [
    {
      topic: "a",
      messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `a${i}`.repeat(10) })),
    },
    { topic: "b", messages: [{ key: null, value: "é".repeat(300), partition: 2 }] },
    {
      topic: "c",
      messages: Array.from({ length: 30 }, (_, i) => ({ key: null, value: `c${i}`.repeat(20) })),
    },
  ];
  const max = 1_000;
  const requests = splitRequests(batches, max);
  assert.ok(requests.length > 3, `${requests.length} requests`);
  for (const request of requests) {
    const bytes = request.flatMap((t) => t.messages).reduce(
      (n, m) => n + m.value.length + (m.key?.length ?? 0) + 64,
      0,
    );
    // A message bigger than the bound goes alone; otherwise the bound holds.
    const alone = request.length === 1 && request[0]!.messages.length === 1;
    assert.ok(bytes <= max || alone, `${bytes} bytes in one request`);
  }
  for (const b of batches) {
    const sent = requests.flat().filter((t) => t.topic === b.topic).flatMap((t) => t.messages);
    assert.deepEqual(
      sent.map((m) => new TextDecoder().decode(m.value)),
      b.messages.map((m) => m.value),
    );
    assert.deepEqual(sent.map((m) => m.key), b.messages.map((m) => m.key));
  }
  // "é" is two bytes in UTF-8: 600 bytes counted, not 300, and the partition is kept.
  const b = requests.flat().find((t) => t.topic === "b")!;
  assert.equal(b.messages[0]!.value.length, 600);
  assert.equal(b.messages[0]!.partition, 2);
  assert.deepEqual(splitRequests([], max), []);
  assert.deepEqual(splitRequests([{ topic: "a", messages: [] }], max), []);
});

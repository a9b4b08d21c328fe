import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { partitionOf } from "../../actors/murmur2.ts";

Deno.test("partitionOf() places keys where kafkajs's default partitioner does", () => {
  const partitioner = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 3, 12, 50]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
      partitionId: i,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    for (let i = 0; i < 500; i++) {
      const key = i % 3 === 0 ? `u${i}` : i % 3 === 1 ? `10.0.${i % 256}.${i}` : `ключ-${i}`;
      const kafka = partitioner({ topic: "t", partitionMetadata, message: { key, value: "v" } });
      assert.equal(partitionOf(key, partitions), kafka, key);
    }
  }
});

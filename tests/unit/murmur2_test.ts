import assert from "node:assert/strict";
import { murmur2, partitionOf } from "../../actors/murmur2.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

// Vectors from Apache Kafka's UtilsTest (Java's Utils.murmur2).
const KAFKA_VECTORS: [string, number][] = [
  ["21", -973932308],
  ["foobar", -790332482],
  ["a-little-bit-long-string", -985981536],
  ["a-little-bit-longer-string", -1486304829],
  ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
  ["abc", 479470107],
];

Deno.test("murmur2() matches Kafka's Java implementation", () => {
  for (const [input, expected] of KAFKA_VECTORS) {
    assert.equal(murmur2(bytes(input)), expected, input);
  }
});

Deno.test("partitionOf() is toPositive(murmur2) modulo the partition count", () => {
  for (const [input, hash] of KAFKA_VECTORS) {
    assert.equal(partitionOf(input, 12), (hash & 0x7fffffff) % 12);
  }
});

Deno.test("partitionOf() gives the same answer for ASCII and non-ASCII keys as the UTF-8 bytes", () => {
  for (const key of ["user-1", "Ærlig-ø", "日本", "a".repeat(200)]) {
    assert.equal(partitionOf(key, 7), (murmur2(bytes(key)) & 0x7fffffff) % 7);
  }
});

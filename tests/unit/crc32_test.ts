import assert from "node:assert/strict";
import { crc32, crc32PartitionOf } from "../../actors/crc32.ts";
import { placementOf } from "../../actors/placement.ts";
import { partitionOf } from "../../actors/murmur2.ts";

// Computed with Python's zlib.crc32 (the same CRC-32 as librdkafka's rd_crc32).
const ZLIB_VECTORS: [string, number][] = [
  ["123456789", 3421780262],
  ["21", 4252452532],
  ["foobar", 2666930069],
  ["user-1", 2116437524],
  ["u000123", 21355960],
  ["Ærlig-ø", 3523025243],
  ["日本", 3350711756],
  ["a".repeat(200), 1503326296],
  ["", 0],
];

Deno.test("crc32() matches zlib's crc32", () => {
  for (const [input, expected] of ZLIB_VECTORS) {
    assert.equal(crc32(new TextEncoder().encode(input)), expected, input);
  }
});

Deno.test("crc32PartitionOf() is crc32 modulo the partition count, for ASCII and other keys", () => {
  for (const [input, hash] of ZLIB_VECTORS) {
    assert.equal(crc32PartitionOf(input, 12), hash % 12, input);
    assert.equal(crc32PartitionOf(input, 7), hash % 7, input);
  }
});

Deno.test("placementOf() names the partitioner it follows", () => {
  assert.equal(placementOf("crc32")("user-1", 12), 8);
  assert.equal(placementOf("murmur2")("user-1", 12), partitionOf("user-1", 12));
  assert.equal(placementOf("crc32")("foobar", 12), 5);
  assert.notEqual(placementOf("murmur2")("foobar", 12), 5);
});

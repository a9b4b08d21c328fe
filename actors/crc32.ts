/**
 * librdkafka's key partitioner: CRC-32 (IEEE 802.3, the zlib polynomial) of the key's
 * bytes, modulo the partition count. It is the default of librdkafka (`consistent_random`,
 * and `consistent`) and so of every client built on it: kcat, confluent-kafka-python,
 * confluent-kafka-go, Confluent.Kafka for .NET.
 *
 * @module
 */

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

const encoder = new TextEncoder();

/**
 * The unsigned CRC-32 of some bytes (as zlib's `crc32` and librdkafka's `rd_crc32`).
 *
 * @example
 * ```ts
 * import { crc32 } from "./crc32.ts";
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of a string's UTF-8 bytes, without encoding ASCII. */
function crc32Of(key: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < key.length; i++) {
    const code = key.charCodeAt(i);
    if (code > 0x7f) return crc32(encoder.encode(key));
    c = TABLE[(c ^ code) & 0xff]! ^ (c >>> 8);
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The partition of a string key among `partitions`, as librdkafka's `consistent`
 * partitioner computes it: `crc32(utf8(key)) % partitions`.
 *
 * @example
 * ```ts
 * import { crc32PartitionOf } from "./crc32.ts";
 * crc32PartitionOf("user-1", 12); // 8, where kcat puts it
 * ```
 */
export function crc32PartitionOf(key: string, partitions: number): number {
  return crc32Of(key) % partitions;
}

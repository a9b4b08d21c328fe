/**
 * Kafka's murmur2 key partitioner, bit for bit.
 *
 * Java's `org.apache.kafka.common.utils.Utils.murmur2` and the kafkajs default
 * partitioner use this hash, so a key lands on the same partition in the embedded
 * log and in Kafka. **Changing anything here moves every entity to another
 * partition**: state snapshots and committed offsets would no longer line up.
 *
 * @module
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
const encoder = new TextEncoder();

/**
 * The signed 32-bit murmur2 hash of some bytes, as Java's `Utils.murmur2` returns it.
 *
 * @example
 * ```ts
 * import { murmur2 } from "./murmur2.ts";
 * murmur2(new TextEncoder().encode("21")); // -973932308
 * ```
 */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i]! & 0xff) | ((data[i + 1]! & 0xff) << 8) | ((data[i + 2]! & 0xff) << 16) |
      ((data[i + 3]! & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[whole + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[whole]! & 0xff;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * The partition of a string key among `partitions`, as Kafka's default partitioner
 * computes it: `toPositive(murmur2(utf8(key))) % partitions`.
 *
 * @example
 * ```ts
 * import { partitionOf } from "./murmur2.ts";
 * partitionOf("user-17", 12); // a number in 0..11, the same as Kafka's
 * ```
 */
export function partitionOf(key: string, partitions: number): number {
  return (murmur2(isAscii(key) ? asciiBytes(key) : encoder.encode(key)) & 0x7fffffff) % partitions;
}

let scratch = new Uint8Array(64);

function isAscii(key: string): boolean {
  for (let i = 0; i < key.length; i++) if (key.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** UTF-8 of an ASCII string without allocating (the bytes are the char codes). */
function asciiBytes(key: string): Uint8Array {
  if (key.length > scratch.length) scratch = new Uint8Array(key.length * 2);
  for (let i = 0; i < key.length; i++) scratch[i] = key.charCodeAt(i);
  return scratch.subarray(0, key.length);
}

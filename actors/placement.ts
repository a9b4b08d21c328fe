/**
 * Where an actor lives: the partition of its key, computed by the partitioner the
 * producers use (`VIGIL_IO_KAFKA_PRODUCER_PARTITIONER`), so that a key's records arrive
 * on the partition its actor is placed on. Vigil's own keyed records (the internal
 * topics, what the API and the simulator produce) are placed the same way.
 *
 * **Changing the partitioner moves most entities to another partition**: checkpoints
 * taken with the other one are not restored (the partition is read again instead).
 *
 * @module
 */

import { crc32PartitionOf } from "./crc32.ts";
import { partitionOf } from "./murmur2.ts";
import { type PartitionerName, PARTITIONERS } from "../config/defaults.ts";

export { type PartitionerName, PARTITIONERS };

/** A key's partition among `partitions`. */
export type Placement = (key: string, partitions: number) => number;

/**
 * The placement function of a partitioner.
 *
 * @example
 * ```ts
 * import { placementOf } from "./placement.ts";
 * placementOf("crc32")("user-1", 12); // 8
 * ```
 */
export function placementOf(name: PartitionerName): Placement {
  return name === "crc32" ? crc32PartitionOf : partitionOf;
}

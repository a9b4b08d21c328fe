/**
 * Records that arrive on another partition than their key's: a producer whose
 * partitioner is not the one Vigil places actors by (librdkafka's crc32 against Kafka's
 * murmur2), one that keys records by another field, or one that writes them without a key
 * (round robin). The partition they arrived on moves them, in offset order, to the
 * partition of their key through the internal repartition topic (as Kafka Streams does
 * when keys and partitions disagree); the source offset is committed only once they are
 * durable there, like everything a batch forwards.
 *
 * Each source partition also tells every other partition how far it has read (its
 * highest offset and event time), at least every `progress_ms` of event time: the
 * partitions that receive its records hold their event time back to it, as they do for
 * their own input, so a moved record is never found late because it took one hop more.
 *
 * @module
 */

import { crc32PartitionOf } from "../actors/crc32.ts";
import { partitionOf } from "../actors/murmur2.ts";
import type { PartitionerName } from "../actors/placement.ts";
import { EVENT_KINDS, type EventKind } from "../events/types.ts";
import type { ProduceMessage } from "../io/log.ts";

/** One moved record: its source offset, its append time (for events without a time) and its text. */
export interface MovedRecord {
  o: number;
  ts: number;
  v: string;
}

/**
 * A record of the repartition topic: records of one input topic partition bound for the
 * actors of another partition (the record is written to that partition), and how far
 * the source partition had been read when they were sent.
 */
export interface Repartitioned {
  /** The event kind of the input topic. */
  k: EventKind;
  /** The source partition. */
  q: number;
  r: MovedRecord[];
  /** The highest source offset read (every record at or below it has been sent). */
  hi: number;
  /** The highest event time read from the source partition (ms). */
  mx: number;
}

/** The input stream, at the receiving partition, of the records moved from `topic`'s partition `q`. */
export const repartitionStream = (topic: string, q: number): string =>
  `${REPARTITION_STREAM_PREFIX}${topic}/${q}`;

/** What the names of the streams of moved records begin with. */
export const REPARTITION_STREAM_PREFIX = "repartition/";

/** Records in one repartition record, at most. */
const MAX_ENTRIES = 1_000;
/** Characters of record text in one repartition record, at most (one bigger record goes alone). */
const MAX_CHARS = 512 * 1024;

const KINDS: ReadonlySet<string> = new Set(EVENT_KINDS);

/**
 * Reads a repartition record, or says why it cannot be used.
 *
 * @example
 * ```ts
 * import { readRepartitioned } from "./repartition.ts";
 * readRepartitioned('{"k":"auth","q":3,"r":[],"hi":9,"mx":0}', 12).ok; // true
 * ```
 */
export function readRepartitioned(
  text: string,
  partitions: number,
): { ok: true; record: Repartitioned } | { ok: false; reason: string } {
  let r: Partial<Repartitioned>;
  try {
    r = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `Cannot read a repartitioned record: ${String(err)}` };
  }
  if (typeof r !== "object" || r === null) {
    return { ok: false, reason: "Cannot read a repartitioned record: not an object" };
  }
  const fine = typeof r.k === "string" && KINDS.has(r.k) && Number.isInteger(r.q) &&
    r.q! >= 0 && r.q! < partitions && Array.isArray(r.r) && Number.isInteger(r.hi) &&
    typeof r.mx === "number";
  if (!fine) {
    return {
      ok: false,
      reason: "Cannot use a repartitioned record: it needs k (a kind), q (a source partition), " +
        "r (records), hi (an offset) and mx (an event time)",
    };
  }
  return { ok: true, record: r as Repartitioned };
}

/** How a source partition of one topic has been read in the batch at hand. */
interface Progress {
  hi: number;
  mx: number;
}

/** Gathers the records a partition moves, and says how far it has read. */
export class Repartitioner {
  #partitions: number;
  #progressMs: number;
  #send: (message: ProduceMessage) => void;
  /** Records being gathered, by `kind/source/target`. */
  #bundles = new Map<string, Repartitioned & { chars: number }>();
  /** The event time last told to each target, by `kind/source/target`. */
  #told = new Map<string, number>();
  /** How far each source partition of each kind has been read (`kind/source`). */
  /** How far each partition has been read, by kind then partition (no key built per record). */
  #read = new Map<EventKind, (Progress | undefined)[]>();

  /**
   * @param send puts one record on the repartition topic (with the batch's flush).
   * @param progress_ms a source partition tells the others how far it has read at least
   *   this often in event time (0: never; the embedded log, where nothing is misplaced).
   */
  constructor(partitions: number, progress_ms: number, send: (message: ProduceMessage) => void) {
    this.#partitions = partitions;
    this.#progressMs = progress_ms;
    this.#send = send;
  }

  /** Notes a record read from partition `q` of the topic of `kind` (moved or not). */
  read(kind: EventKind, q: number, offset: number, event_ms: number): void {
    let byPartition = this.#read.get(kind);
    if (!byPartition) this.#read.set(kind, byPartition = []);
    const p = byPartition[q];
    if (!p) byPartition[q] = { hi: offset, mx: event_ms };
    else {
      if (offset > p.hi) p.hi = offset;
      if (event_ms > p.mx) p.mx = event_ms;
    }
  }

  /** Moves a record of partition `q` to partition `p` (after `read`). */
  move(kind: EventKind, q: number, p: number, record: MovedRecord): void {
    const id = `${kind}/${q}/${p}`;
    let b = this.#bundles.get(id);
    if (b && (b.r.length >= MAX_ENTRIES || b.chars + record.v.length > MAX_CHARS)) {
      this.#flush(id, b, record.o - 1);
      b = undefined;
    }
    if (!b) this.#bundles.set(id, b = { k: kind, q, r: [], hi: -1, mx: -Infinity, chars: 0 });
    b.r.push(record);
    b.chars += record.v.length;
  }

  /**
   * Ends a batch of partition `q`: sends what it moved, and tells the partitions it moved
   * nothing to how far it has read, when that moved on by `progress_ms` since last told.
   */
  endBatch(kind: EventKind, q: number): void {
    const read = this.#read.get(kind)?.[q];
    for (let p = 0; p < this.#partitions; p++) {
      if (p === q) continue;
      const id = `${kind}/${q}/${p}`;
      const b = this.#bundles.get(id);
      if (b) this.#flush(id, b, read?.hi ?? b.r[b.r.length - 1]!.o);
      else if (read && this.#progressMs > 0 && Number.isFinite(read.mx)) {
        const told = this.#told.get(id);
        if (told === undefined || read.mx >= told + this.#progressMs) {
          this.#flush(id, { k: kind, q, r: [], hi: -1, mx: -Infinity, chars: 0 }, read.hi);
        }
      }
    }
  }

  #flush(id: string, b: Repartitioned & { chars: number }, hi: number): void {
    this.#bundles.delete(id);
    const read = this.#read.get(b.k)?.[b.q];
    const target = Number(id.slice(id.lastIndexOf("/") + 1));
    const mx = read?.mx ?? -Infinity;
    const record: Repartitioned = { k: b.k, q: b.q, r: b.r, hi, mx: Number.isFinite(mx) ? mx : 0 };
    this.#told.set(id, mx);
    this.#send({ key: null, value: JSON.stringify(record), partition: target });
  }
}

/** How the records of one topic that arrived elsewhere than their key's partition looked. */
interface TopicCounts {
  records: number;
  misplaced: number;
  keyless: number;
  /** Misplaced records whose key murmur2 places where they arrived. */
  murmur2: number;
  /** … that crc32 places there. */
  crc32: number;
}

/**
 * Counts misplaced records per topic and, once a minute, says what the producers'
 * partitioner looks like, so the user can set `VIGIL_IO_KAFKA_PRODUCER_PARTITIONER` and
 * save the hop.
 */
export class MisplacementReport {
  #counts = new Map<string, TopicCounts>();
  #partitions: number;
  #placement: PartitionerName;
  #entityField: (topic: string) => string;

  constructor(
    partitions: number,
    placement: PartitionerName,
    entityField: (topic: string) => string,
  ) {
    this.#partitions = partitions;
    this.#placement = placement;
    this.#entityField = entityField;
  }

  #of(topic: string): TopicCounts {
    let c = this.#counts.get(topic);
    if (!c) {
      this.#counts.set(topic, c = { records: 0, misplaced: 0, keyless: 0, murmur2: 0, crc32: 0 });
    }
    return c;
  }

  /** Notes a record read from `topic`. */
  read(topic: string): void {
    this.#of(topic).records++;
  }

  /** Notes a record that arrived on `partition` though its entity lives elsewhere. */
  misplaced(topic: string, partition: number, key: string | null): void {
    const c = this.#of(topic);
    c.misplaced++;
    if (key === null) c.keyless++;
    else {
      if (partitionOf(key, this.#partitions) === partition) c.murmur2++;
      if (crc32PartitionOf(key, this.#partitions) === partition) c.crc32++;
    }
  }

  /** What to say about the records since the last call (one line per topic with misplaced records), and starts counting anew. */
  take(): { message: string; fields: Record<string, unknown> }[] {
    const out: { message: string; fields: Record<string, unknown> }[] = [];
    for (const [topic, c] of this.#counts) {
      if (c.misplaced === 0) continue;
      const keyed = c.misplaced - c.keyless;
      const field = this.#entityField(topic);
      // A key placed where it arrived by the configured partitioner is not the entity's.
      const by: PartitionerName | null = c.crc32 >= keyed * 0.9 && c.crc32 > c.murmur2
        ? "crc32"
        : c.murmur2 >= keyed * 0.9 && c.murmur2 > c.crc32
        ? "murmur2"
        : null;
      const looks = c.keyless > keyed
        ? `written without keys (round robin): each is placed by its ${field} field`
        : by === this.#placement
        ? `keyed by another value than their ${field} field: key them by it to save the hop`
        : by === "crc32"
        ? "placed by crc32 (librdkafka's default partitioner: kcat, confluent-kafka-python, " +
          "Go, .NET); set VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=crc32 to save the hop"
        : by === "murmur2"
        ? "placed by murmur2 (Kafka's Java client, kafkajs, librdkafka's murmur2_random); set " +
          "VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=murmur2 to save the hop"
        : `keyed by another value than their ${field} field, or placed by no partitioner ` +
          "Vigil knows";
      out.push({
        message: `Records on ${topic} arrive on other partitions than ${this.#placement} places ` +
          `their key on; they are moved to their key's partition. Their keys look ${looks}`,
        fields: {
          topic,
          records: c.records,
          misplaced: c.misplaced,
          keyless: c.keyless,
          placement: this.#placement,
          looks_placed_by: by ?? "unknown",
        },
      });
    }
    this.#counts.clear();
    return out;
  }
}

/**
 * The embedded log: topics, partitions, keys, offsets and committed positions in one
 * process, placed by the same murmur2 partitioner as Kafka. Retention is by count:
 * past `retention_records` per partition the oldest records are dropped; and of a topic
 * some group reads, a record every such group has committed is kept only among the newest
 * `keep_consumed_records` of its partition (the embedded log is read as it is written, so
 * its memory is what is not yet read, not the last hour of traffic).
 *
 * Reading it is no I/O: a reader's loop goes from one batch to the next in microtasks,
 * and a backlog (`start`'s backfill) would keep the event loop from polling sockets for
 * seconds (the API, /metrics and Kafka would not answer). So the readers take their
 * handling from a budget per turn of the event loop (`io/turns.ts`), and batches are
 * sized to what fits in one turn (the time a record took lately), never more than
 * `max_batch`.
 *
 * @module
 */

import { partitionOf } from "../actors/murmur2.ts";
import { Turns } from "./turns.ts";
import type {
  Batch,
  ConsumeOptions,
  Consumer,
  Log,
  LogRecord,
  ProduceMessage,
  TopicMessages,
} from "./log.ts";

interface Partition {
  /** Offset of `records[0]`. */
  base: number;
  records: LogRecord[];
  wake: (() => void)[];
}

/** An in-process partitioned log. */
export class MemoryLog implements Log {
  readonly shared = false;
  #topics = new Map<string, Partition[]>();
  #committed = new Map<string, number>();
  #retention: number;
  #keepConsumed: number;
  /** The groups that read each topic. */
  #readers = new Map<string, Set<string>>();
  #roundRobin = 0;
  #now: () => number;
  #turns: Turns;
  /** Recent handling time of a record (ms), a moving average. */
  #msPerRecord = 0;

  constructor(
    options: {
      retention_records?: number;
      keep_consumed_records?: number;
      now?: () => number;
      /** The budget of handling per turn of the event loop; default 20 ms, its own. */
      turns?: Turns;
    } = {},
  ) {
    this.#retention = options.retention_records ?? 1_000_000;
    this.#keepConsumed = options.keep_consumed_records ?? this.#retention;
    this.#now = options.now ?? Date.now;
    this.#turns = options.turns ?? new Turns(20);
  }

  /** Records to take: what fits in a turn lately, 1 to `max` (a few until it is known). */
  #batchSize(max: number): number {
    if (this.#msPerRecord <= 0) return Math.min(max, 16);
    return Math.max(1, Math.min(max, Math.floor(this.#turns.budget_ms / this.#msPerRecord)));
  }

  #took(records: number, ms: number): void {
    const each = ms / records;
    this.#msPerRecord = this.#msPerRecord === 0 ? each : 0.8 * this.#msPerRecord + 0.2 * each;
  }

  /** Drops what every reader of the topic has committed, past the newest kept. */
  #trim(topic: string, p: number, part: Partition): void {
    let low = Infinity;
    for (const group of this.#readers.get(topic) ?? []) {
      low = Math.min(low, this.#committed.get(`${group}|${topic}|${p}`) ?? 0);
    }
    const from = Math.min(low, part.base + part.records.length) - this.#keepConsumed;
    if (from > part.base) {
      part.records.splice(0, from - part.base);
      part.base = from;
    }
  }

  ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    for (const t of topics) {
      if (!this.#topics.has(t)) {
        this.#topics.set(
          t,
          Array.from({ length: partitions }, () => ({ base: 0, records: [], wake: [] })),
        );
      }
    }
    return Promise.resolve();
  }

  async produceMany(batches: readonly TopicMessages[]): Promise<void> {
    for (const b of batches) await this.produce(b.topic, b.messages);
  }

  produce(topic: string, messages: readonly ProduceMessage[]): Promise<void> {
    const parts = this.#topics.get(topic);
    if (!parts) return Promise.reject(new Error(`Cannot produce to "${topic}": no such topic`));
    const bad = messages.find((m) =>
      m.partition !== undefined && !(m.partition >= 0 && m.partition < parts.length)
    );
    if (bad) {
      return Promise.reject(
        new Error(`Cannot produce to "${topic}": it has no partition ${bad.partition}`),
      );
    }
    const touched = new Set<Partition>();
    for (const m of messages) {
      const p = m.partition ??
        (m.key === null ? this.#roundRobin++ % parts.length : partitionOf(m.key, parts.length));
      const part = parts[p]!;
      part.records.push({
        topic,
        partition: p,
        offset: part.base + part.records.length,
        key: m.key,
        value: m.value,
        timestamp: this.#now(),
      });
      if (part.records.length > this.#retention) {
        const drop = part.records.length - this.#retention;
        part.records.splice(0, drop);
        part.base += drop;
      }
      touched.add(part);
    }
    for (const part of touched) for (const w of part.wake.splice(0)) w();
    return Promise.resolve();
  }

  /** Every record of a topic partition still retained (for tests and the API). */
  records(topic: string, partition: number): readonly LogRecord[] {
    return this.#topics.get(topic)?.[partition]?.records ?? [];
  }

  /** Records of a topic across partitions. */
  all(topic: string): LogRecord[] {
    return (this.#topics.get(topic) ?? []).flatMap((p) => p.records);
  }

  /** The committed offset of a group on a topic partition (the next to read). */
  committed(group: string, topic: string, partition: number): number {
    return this.#committed.get(`${group}|${topic}|${partition}`) ?? 0;
  }

  consume(options: ConsumeOptions): Consumer {
    let running = true;
    const loops: Promise<void>[] = [];
    const positions = new Map<string, number>();
    for (const topic of options.topics) {
      const parts = this.#topics.get(topic);
      if (!parts) throw new Error(`Cannot consume "${topic}": no such topic`);
      const readers = this.#readers.get(topic) ?? new Set<string>();
      this.#readers.set(topic, readers.add(options.group));
      parts.forEach((part, p) => {
        const key = `${options.group}|${topic}|${p}`;
        positions.set(`${topic}/${p}`, this.#committed.get(key) ?? 0);
        loops.push((async () => {
          while (running) {
            await this.#turns.wait();
            if (!running) break;
            let pos = Math.max(positions.get(`${topic}/${p}`)!, part.base);
            const start = pos - part.base;
            if (start >= part.records.length) {
              await new Promise<void>((resolve) => part.wake.push(resolve));
              continue;
            }
            const size = this.#batchSize(options.max_batch);
            const records = part.records.slice(start, start + size);
            const batch: Batch = { topic, partition: p, records };
            const began = performance.now();
            const pending = await options.handler(batch);
            this.#took(records.length, performance.now() - began);
            if (pending) await pending.durable;
            pos = records[records.length - 1]!.offset + 1;
            positions.set(`${topic}/${p}`, pos);
            this.#committed.set(key, pos);
            this.#trim(topic, p, part);
          }
        })());
      });
    }
    return {
      stop: async () => {
        running = false;
        for (const parts of options.topics.map((t) => this.#topics.get(t)!)) {
          for (const part of parts) for (const w of part.wake.splice(0)) w();
        }
        await Promise.all(loops);
      },
      lag: () => {
        const out: Record<string, number> = {};
        for (const [tp, pos] of positions) {
          const [topic, p] = tp.split("/");
          const part = this.#topics.get(topic!)![Number(p)]!;
          out[tp] = part.base + part.records.length - pos;
        }
        return out;
      },
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * The log port on Apache Kafka (npm:kafkajs): topics created at start, keyed messages
 * placed by the murmur2 partitioner (the same as the embedded log), batched producer
 * sends with acks from all in-sync replicas, and a consumer group that hands batches to
 * the handler with manual offset resolution, committing a batch only after its handler
 * resolved (so only events whose effects are durable).
 *
 * @module
 */

import {
  type Admin,
  type Consumer as KafkaConsumer,
  Kafka,
  logLevel,
  Partitioners,
  type Producer,
} from "kafkajs";
import type { Batch, ConsumeOptions, Consumer, Log, LogRecord, ProduceMessage } from "./log.ts";

/** How to reach Kafka. */
export interface KafkaOptions {
  brokers: string[];
  client_id: string;
  /** Largest fetch per partition (bytes); bigger messages are still fetched one at a time. */
  max_bytes_per_partition?: number;
}

/** A Kafka-backed log. */
export class KafkaLog implements Log {
  #kafka: Kafka;
  #admin: Admin | null = null;
  #producer: Producer | null = null;
  #consumers: KafkaConsumer[] = [];
  #o: KafkaOptions;

  constructor(options: KafkaOptions) {
    this.#o = options;
    this.#kafka = new Kafka({
      clientId: options.client_id,
      brokers: options.brokers,
      logLevel: logLevel.NOTHING,
      retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
    });
  }

  async ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    const admin = await this.#adminClient();
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: -1,
        })),
      });
    }
  }

  async produce(topic: string, messages: readonly ProduceMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.#producerClient();
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ key: m.key, value: m.value })),
    });
  }

  consume(options: ConsumeOptions): Consumer {
    const consumer = this.#kafka.consumer({
      groupId: options.group,
      maxBytesPerPartition: this.#o.max_bytes_per_partition ?? 1_048_576,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
    });
    this.#consumers.push(consumer);
    const lag = new Map<string, number>();
    const started = (async () => {
      await consumer.connect();
      for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          const all = batch.messages;
          for (let i = 0; i < all.length && isRunning() && !isStale(); i += options.max_batch) {
            const records: LogRecord[] = all.slice(i, i + options.max_batch).map((m) => ({
              topic: batch.topic,
              partition: batch.partition,
              offset: Number(m.offset),
              key: m.key === null ? null : m.key.toString(),
              value: m.value === null ? "" : m.value.toString(),
              timestamp: Number(m.timestamp),
            }));
            const piece: Batch = { topic: batch.topic, partition: batch.partition, records };
            await options.handler(piece);
            const last = records[records.length - 1]!.offset;
            resolveOffset(String(last));
            await consumer.commitOffsets([
              { topic: batch.topic, partition: batch.partition, offset: String(last + 1) },
            ]);
            lag.set(
              `${batch.topic}/${batch.partition}`,
              Math.max(0, Number(batch.highWatermark) - last - 1),
            );
            await heartbeat();
          }
        },
      });
    })();
    started.catch((err) => options.on_error?.(err));
    return {
      stop: async () => {
        await started.catch(() => {});
        await consumer.disconnect();
        this.#consumers = this.#consumers.filter((c) => c !== consumer);
      },
      lag: () => Object.fromEntries(lag),
    };
  }

  async close(): Promise<void> {
    for (const c of this.#consumers) await c.disconnect().catch(() => {});
    await this.#producer?.disconnect().catch(() => {});
    await this.#admin?.disconnect().catch(() => {});
  }

  async #adminClient(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    return this.#admin;
  }

  async #producerClient(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: false,
        idempotent: false,
      });
      await producer.connect();
      this.#producer = producer;
    }
    return this.#producer;
  }
}

/**
 * The log port on Apache Kafka (npm:kafkajs): topics created at start (and refused when
 * their partition count is not the configured one), keyed messages placed by the
 * configured partitioner (the one the actors are placed by), batched producer sends with
 * acks from all in-sync replicas, and a consumer group that hands batches to the handler
 * with manual offset resolution, committing a batch only after its handler resolved (so
 * only events whose effects are durable).
 *
 * @module
 */

import {
  type Admin,
  type Consumer as KafkaConsumer,
  type EachBatchPayload,
  Kafka,
  logLevel,
  type Producer,
  type RetryOptions,
  type SASLOptions,
} from "kafkajs";
import { partitionOf } from "../actors/murmur2.ts";
import type { Placement } from "../actors/placement.ts";
import { ConfigError } from "../config/load.ts";
import { Buffer } from "node:buffer";
import { coPartitionedAssigner } from "./copartition.ts";
import { KafkaConnectError, type KafkaConnection } from "./kafka_connection.ts";
import type {
  Batch,
  ConsumeOptions,
  Consumer,
  Log,
  LogRecord,
  ProduceMessage,
  TopicMessages,
} from "./log.ts";

/** Tries at reading a group's committed offsets before the batch fails (and is retried). */
const COMMITTED_ATTEMPTS = 5;

/**
 * The first connection's retries (kafkajs's own, about 2 s): a worker that cannot reach
 * Kafka at start says why soon, and its caller retries with a backoff of its own.
 */
const FIRST_CONNECT_RETRY = { initialRetryTime: 200, retries: 3, maxRetryTime: 1_000 };

/** How to reach Kafka (brokers, TLS, SASL) and how to use it. */
export interface KafkaOptions extends KafkaConnection {
  /** A member silent this long leaves the group (ms). */
  session_timeout_ms?: number;
  /** Largest fetch per partition (bytes); bigger messages are still fetched one at a time. */
  max_bytes_per_partition?: number;
  /**
   * Largest produce request (bytes, keys and values and a per-record allowance): a bigger
   * send goes out as several requests, one after another. Brokers refuse a record batch
   * over their `message.max.bytes` (1 MiB by default) every time, so a send that grew past
   * it (the outbox's backlog after an outage) would otherwise never go through.
   */
  max_request_bytes?: number;
  /** Where a keyed message without a partition goes (default: murmur2, as Kafka's Java client). */
  placement?: Placement;
}

/**
 * The kafkajs client for a connection: every client Vigil, its benchmarks and its tests
 * make comes from here (kafkajs logs nothing; Vigil logs what matters).
 */
export function kafkaClient(
  c: KafkaConnection,
  options: { retry?: RetryOptions } = {},
): Kafka {
  return new Kafka({
    clientId: c.client_id,
    brokers: c.brokers,
    logLevel: logLevel.NOTHING,
    ...(c.tls ? { ssl: { ...c.tls } } : {}),
    ...(c.sasl ? { sasl: { ...c.sasl } as SASLOptions } : {}),
    ...(options.retry ? { retry: options.retry } : {}),
  });
}

/** Allowance per record for its framing in a record batch (bytes; generous). */
const RECORD_OVERHEAD = 64;

/** A message as kafkajs takes it, with its value encoded once. */
interface Encoded {
  key: string | null;
  value: Buffer;
  partition?: number;
}

/**
 * Splits topics' messages into requests of at most `max_bytes` each (a message bigger
 * than that goes alone), keeping every topic's messages in order.
 */
export function splitRequests(
  batches: readonly TopicMessages[],
  max_bytes: number,
): { topic: string; messages: Encoded[] }[][] {
  const requests: { topic: string; messages: Encoded[] }[][] = [];
  let request: { topic: string; messages: Encoded[] }[] = [];
  let bytes = 0;
  for (const b of batches) {
    let entry: { topic: string; messages: Encoded[] } | null = null;
    for (const m of b.messages) {
      const value = Buffer.from(m.value);
      const size = value.length + (m.key === null ? 0 : Buffer.byteLength(m.key)) +
        RECORD_OVERHEAD;
      if (bytes > 0 && bytes + size > max_bytes) {
        requests.push(request);
        request = [];
        bytes = 0;
        entry = null;
      }
      if (!entry) request.push(entry = { topic: b.topic, messages: [] });
      entry.messages.push(
        m.partition === undefined
          ? { key: m.key, value }
          : { key: m.key, value, partition: m.partition },
      );
      bytes += size;
    }
  }
  if (request.length > 0) requests.push(request);
  return requests;
}

/** A Kafka-backed log. */
export class KafkaLog implements Log {
  readonly shared = true;
  #kafka: Kafka;
  #admin: Admin | null = null;
  #producer: Producer | null = null;
  #consumers: KafkaConsumer[] = [];
  #o: KafkaOptions;

  constructor(options: KafkaOptions) {
    this.#o = options;
    this.#kafka = kafkaClient(options, {
      retry: { initialRetryTime: 200, retries: 10, maxRetryTime: 5_000 },
    });
  }

  /**
   * Creates the topics that are missing, with `partitions` partitions each. A topic that
   * exists with another count cannot be used (an actor is placed on one partition number
   * of every topic): that is a configuration error, which says what to change.
   * The first call also proves the connection: one that cannot be made fails within
   * seconds with a KafkaConnectError saying why.
   */
  async ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    if (!this.#admin) {
      const probe = kafkaClient(this.#o, { retry: FIRST_CONNECT_RETRY }).admin();
      try {
        await probe.connect();
        await probe.listTopics();
      } catch (err) {
        throw new KafkaConnectError(err, this.#o);
      } finally {
        await probe.disconnect().catch(() => {});
      }
    }
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
    const present = topics.filter((t) => existing.has(t));
    if (present.length === 0) return;
    const { topics: metadata } = await admin.fetchTopicMetadata({ topics: present });
    const wrong = metadata.filter((t) => t.partitions.length !== partitions)
      .map((t) => `${t.name} has ${t.partitions.length}`);
    if (wrong.length > 0) throw new ConfigError(partitionCountMessage(wrong, partitions));
  }

  async produceMany(batches: readonly TopicMessages[]): Promise<void> {
    const requests = splitRequests(batches, this.#o.max_request_bytes ?? 1_000_000);
    if (requests.length === 0) return;
    const producer = await this.#producerClient();
    // One after another, so a partition's records keep their order.
    for (const topicMessages of requests) await producer.sendBatch({ acks: -1, topicMessages });
  }

  produce(topic: string, messages: readonly ProduceMessage[]): Promise<void> {
    return this.produceMany([{ topic, messages }]);
  }

  /**
   * Joins the consumer group. Partitions are assigned whole (every topic's partition p to
   * one member). A member that takes over a partition reads it again from its last
   * checkpoint (or the start) to rebuild its actors' state exactly, marking the records
   * its predecessor had already committed (`replay_below`), and commits only past that
   * point. Its live records wait until every topic of the partition has been read again
   * up to the predecessor's commits (see `Rebuild`), so the state they meet is the
   * predecessor's whatever the order the topics come in.
   */
  consume(options: ConsumeOptions): Consumer {
    const consumer = this.#kafka.consumer({
      groupId: options.group,
      maxBytesPerPartition: this.#o.max_bytes_per_partition ?? 1_048_576,
      sessionTimeout: this.#o.session_timeout_ms ?? 30_000,
      heartbeatInterval: Math.min(3_000, Math.floor((this.#o.session_timeout_ms ?? 30_000) / 3)),
      partitionAssigners: [coPartitionedAssigner],
    });
    this.#consumers.push(consumer);
    const lag = new Map<string, number>();
    const commits = new CommitCoalescer(
      (offsets) => consumer.commitOffsets(offsets),
      (err) => options.on_error?.(err),
      options.on_commit,
    );
    /** Kafka timestamp of the last record handled, per `topic/partition`. */
    const handledAt = new Map<string, number>();
    /**
     * Per `topic/partition` assigned here: the offset to read from (after a checkpoint) and
     * the offset committed when it was assigned (records below it are replayed).
     */
    const catchUp = new Map<string, Promise<{ from: number; replayBelow: number }>>();
    const rebuilds = new Rebuilds((topic, partition) =>
      consumer.resume([{ topic, partitions: [partition] }])
    );
    let stopping = false;
    /** Batches being handled (of different partitions, up to `partitions_in_parallel`). */
    const inHand = new Set<Promise<void>>();
    let owned = new Set<string>();
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const assignment = payload.memberAssignment as Record<string, number[]>;
      const now = new Set<string>();
      const fresh: { topic: string; partition: number }[] = [];
      for (const [topic, partitions] of Object.entries(assignment)) {
        for (const partition of partitions) {
          const tp = `${topic}/${partition}`;
          now.add(tp);
          if (!owned.has(tp)) fresh.push({ topic, partition });
        }
      }
      for (const tp of owned) if (!now.has(tp)) catchUp.delete(tp);
      owned = now;
      const numbers = [...new Set([...now].map((tp) => Number(tp.slice(tp.lastIndexOf("/") + 1))))];
      rebuilds.retain(numbers);
      options.on_assign?.(numbers);
      if (fresh.length === 0) return;
      const topics = [...new Set(fresh.map((f) => f.topic))];
      const committed = this.#committed(options.group, topics);
      const starts = this.#logStarts(topics);
      // Awaited by the partition's first batch; when nothing awaits it (the member is
      // stopping), a failure must not go unhandled.
      committed.catch((err) => options.on_error?.(err));
      const resumes = new Map<number, Promise<Record<string, number>>>();
      for (const { topic, partition } of fresh) {
        let resume = resumes.get(partition);
        if (!resume) {
          resume = options.resume_from?.(partition).catch((err) => {
            options.on_error?.(err);
            return {};
          }) ?? Promise.resolve({});
          resumes.set(partition, resume);
          rebuilds.begin(
            partition,
            fresh.filter((f) => f.partition === partition).map((f) => f.topic),
          );
        }
        const tp = `${topic}/${partition}`;
        // Left paused by an earlier assignment of it, it would never be read.
        consumer.resume([{ topic, partitions: [partition] }]);
        // Nothing is fetched from the committed offset meanwhile: from the start, until
        // the checkpoint says where to go (that seek makes a batch in hand stale).
        consumer.seek({ topic, partition, offset: "0" });
        catchUp.set(
          tp,
          Promise.all([committed, resume, starts]).then(([c, offsets, logStart]) => {
            const from = offsets[topic] ?? 0;
            if (from > 0) consumer.seek({ topic, partition, offset: String(from) });
            const replayBelow = c.get(tp) ?? 0;
            // Nothing to read again: what the predecessor committed is before the
            // checkpoint, or no longer in the log.
            if (from >= replayBelow || (logStart.get(tp) ?? 0) >= replayBelow) {
              rebuilds.done(topic, partition);
            }
            return { from, replayBelow };
          }),
        );
      }
    });
    const started = (async () => {
      await consumer.connect();
      for (const topic of options.topics) await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        partitionsConsumedConcurrently: Math.max(1, options.partitions_in_parallel ?? 1),
        eachBatchAutoResolve: false,
        eachBatch: async (args) => {
          if (stopping) return; // left uncommitted, for the next owner
          const handling = this.#eachBatch(args, options, {
            catchUp,
            commits,
            lag,
            handledAt,
            rebuilds,
            pause: (topic, partition) => consumer.pause([{ topic, partitions: [partition] }]),
          });
          const settled = handling.catch(() => {});
          inHand.add(settled);
          try {
            await handling;
          } finally {
            inHand.delete(settled);
          }
        },
      });
    })();
    started.catch((err) => options.on_error?.(err));
    return {
      stop: async () => {
        await started.catch(() => {});
        stopping = true;
        consumer.pause(options.topics.map((topic) => ({ topic })));
        await Promise.all(inHand);
        await options.before_leave?.().catch((err) => options.on_error?.(err));
        await commits.drain();
        await consumer.disconnect();
        this.#consumers = this.#consumers.filter((c) => c !== consumer);
      },
      lag: () => Object.fromEntries(lag),
      lagSeconds: () => {
        const now = Date.now();
        const out: Record<string, number> = {};
        for (const [tp, n] of lag) {
          const at = handledAt.get(tp);
          out[tp] = n > 0 && at !== undefined ? Math.max(0, (now - at) / 1000) : 0;
        }
        return out;
      },
    };
  }

  async #eachBatch(
    { batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload,
    options: ConsumeOptions,
    state: BatchState,
  ): Promise<void> {
    const { catchUp, commits, lag, handledAt, rebuilds } = state;
    const tp = `${batch.topic}/${batch.partition}`;
    const { from, replayBelow } = await (catchUp.get(tp) ?? { from: 0, replayBelow: 0 });
    const all = batch.messages;
    // Pieces handled but not yet durable, committed in order as they become durable.
    const inFlight: Promise<void>[] = [];
    let tail: Promise<void> = Promise.resolve();
    const maxInFlight = Math.max(1, options.max_in_flight ?? 1);
    const handle = async (records: LogRecord[]) => {
      const piece: Batch = { topic: batch.topic, partition: batch.partition, records, heartbeat };
      if (records[0]!.offset < replayBelow) piece.replay_below = replayBelow;
      const pending = await options.handler(piece);
      const last = records[records.length - 1]!.offset;
      const lastAt = records[records.length - 1]!.timestamp;
      // Once the piece is handled and durable its offset may be committed. Commits are
      // coalesced and sent in the background (one request for every partition with
      // news), so a batch does not wait a round trip; a failed commit is covered by
      // the next one, and never makes a durable batch be handled again here.
      const commit = () => {
        resolveOffset(String(last));
        if (last + 1 > replayBelow) commits.note(batch.topic, batch.partition, last + 1);
        lag.set(tp, Math.max(0, Number(batch.highWatermark) - last - 1));
        handledAt.set(tp, lastAt);
      };
      const durable = pending?.durable;
      tail = durable ? tail.then(() => durable).then(commit) : tail.then(commit);
      inFlight.push(tail);
      if (inFlight.length >= maxInFlight) await inFlight.shift();
      await heartbeat();
    };
    let waiting = false;
    try {
      for (let i = 0; i < all.length && isRunning() && !isStale(); i += options.max_batch) {
        const records: LogRecord[] = [];
        for (const m of all.slice(i, i + options.max_batch)) {
          const offset = Number(m.offset);
          if (offset < from) continue; // the checkpoint has it
          records.push({
            topic: batch.topic,
            partition: batch.partition,
            offset,
            key: m.key === null ? null : m.key.toString(),
            value: m.value === null ? "" : m.value.toString(),
            timestamp: Number(m.timestamp),
          });
        }
        if (records.length === 0) continue;
        const live = rebuilds.reading(batch.partition)
          ? records.findIndex((r) => r.offset >= replayBelow)
          : -1;
        if (live < 0) {
          await handle(records);
          if (records[records.length - 1]!.offset >= replayBelow - 1) {
            rebuilds.done(batch.topic, batch.partition);
          }
          continue;
        }
        // Live records while the partition is still being read again: what comes before
        // them is handled, then this topic waits (paused) for the others to catch up,
        // and is read on from its first live record when they have.
        if (live > 0) await handle(records.slice(0, live));
        rebuilds.done(batch.topic, batch.partition);
        if (rebuilds.wait(batch.topic, batch.partition, state.pause)) {
          waiting = true;
          break;
        }
        await handle(records.slice(live));
      }
      // Past every record the predecessor committed (the rest are control records).
      if (!waiting && Number(batch.lastOffset()) >= replayBelow - 1 && isRunning() && !isStale()) {
        rebuilds.done(batch.topic, batch.partition);
      }
      await Promise.all(inFlight);
    } finally {
      // Before kafkajs can take part in a rebalance, what this batch made durable is
      // committed, so the partition's next owner reads less again and does not raise its
      // alerts again; also when the batch ends early (a heartbeat found a rebalance).
      await Promise.allSettled(inFlight);
      await commits.drain();
    }
  }

  /** Each topic partition's first offset still in the log (`topic/partition` → offset); empty when it cannot be read. */
  async #logStarts(topics: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    try {
      const admin = await this.#adminClient();
      for (const topic of topics) {
        for (const { partition, low } of await admin.fetchTopicOffsets(topic)) {
          out.set(`${topic}/${partition}`, Number(low));
        }
      }
    } catch {
      // Unknown: every topic is read up to the committed offset before it counts as done.
    }
    return out;
  }

  /** The group's committed offsets (`topic/partition` → next offset to read), retried a few times. */
  async #committed(group: string, topics: string[]): Promise<Map<string, number>> {
    for (let attempt = 1;; attempt++) {
      try {
        const admin = await this.#adminClient();
        const out = new Map<string, number>();
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group, topics })) {
          for (const { partition, offset } of partitions) {
            out.set(`${topic}/${partition}`, Math.max(0, Number(offset)));
          }
        }
        return out;
      } catch (err) {
        if (attempt >= COMMITTED_ATTEMPTS) throw err;
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
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

  /**
   * kafkajs's partitioner: a message's own partition when it names one (kafkajs asks the
   * partitioner for every message), else its key's placement, else round robin.
   */
  #partitioner(): (
    args: { partitionMetadata: unknown[]; message: { key?: unknown; partition?: unknown } },
  ) => number {
    const place = this.#o.placement ?? partitionOf;
    let next = 0;
    return ({ partitionMetadata, message }) => {
      if (typeof message.partition === "number") return message.partition;
      const n = partitionMetadata.length;
      const key = message.key;
      if (key === null || key === undefined) return next++ % n;
      return place(typeof key === "string" ? key : String(key), n);
    };
  }

  async #producerClient(): Promise<Producer> {
    if (!this.#producer) {
      const producer = this.#kafka.producer({
        createPartitioner: () => this.#partitioner(),
        allowAutoTopicCreation: false,
        idempotent: false,
      });
      await producer.connect();
      this.#producer = producer;
    }
    return this.#producer;
  }
}

/** What a batch of one topic partition is handled with. */
interface BatchState {
  catchUp: Map<string, Promise<{ from: number; replayBelow: number }>>;
  commits: CommitCoalescer;
  lag: Map<string, number>;
  handledAt: Map<string, number>;
  rebuilds: Rebuilds;
  pause: (topic: string, partition: number) => void;
}

/**
 * Partitions taken over that are still being rebuilt: per partition number, the topics
 * still being read again up to where the predecessor committed, and the topics whose
 * live records wait (paused) until none is. Waiting is done by pausing the topic
 * partition, not by holding its batch: kafkajs fetches the next records of every
 * partition only once the batches in hand are done, so a held batch would keep the
 * other topics from ever catching up.
 */
export class Rebuilds {
  #reading = new Map<number, Set<string>>();
  #waiting = new Map<number, Set<string>>();
  #resume: (topic: string, partition: number) => void;

  constructor(resume: (topic: string, partition: number) => void) {
    this.#resume = resume;
  }

  /** A partition taken over: each of its topics is read again before any live record. */
  begin(partition: number, topics: readonly string[]): void {
    this.#release(partition);
    this.#reading.set(partition, new Set(topics));
    this.#waiting.set(partition, new Set());
  }

  /** Forgets the partitions not in `keep` (revoked), letting their waiting topics go. */
  retain(keep: readonly number[]): void {
    const kept = new Set(keep);
    for (const p of [...this.#reading.keys()]) if (!kept.has(p)) this.#release(p);
  }

  /** Whether a partition is still being rebuilt. */
  reading(partition: number): boolean {
    return this.#reading.has(partition);
  }

  /** A topic of the partition has been read again up to the predecessor's commits. */
  done(topic: string, partition: number): void {
    const reading = this.#reading.get(partition);
    if (!reading || !reading.delete(topic) || reading.size > 0) return;
    this.#release(partition);
  }

  /**
   * Pauses a topic of a partition being rebuilt until it is (true), or says it need not
   * wait (false).
   */
  wait(
    topic: string,
    partition: number,
    pause: (topic: string, partition: number) => void,
  ): boolean {
    if (!this.#reading.has(partition)) return false;
    pause(topic, partition);
    this.#waiting.get(partition)!.add(topic);
    return true;
  }

  #release(partition: number): void {
    const waiting = this.#waiting.get(partition);
    this.#reading.delete(partition);
    this.#waiting.delete(partition);
    for (const topic of waiting ?? []) this.#resume(topic, partition);
  }
}

/** What to say when topics have another partition count than the configured one. */
export function partitionCountMessage(wrong: string[], partitions: number): string {
  return `Cannot use the Kafka topics: ${wrong.join(", ")} partitions, and ` +
    `VIGIL_RUNTIME_PARTITIONS is ${partitions}. Every topic Vigil reads must have the same ` +
    `number of partitions: set VIGIL_RUNTIME_PARTITIONS to it, or give the topics ` +
    `${partitions} partitions (adding partitions moves keys: recreate a topic whose history ` +
    "matters)";
}

/** Coalesces offset commits: the newest offset per partition, one request in flight at a time. */
class CommitCoalescer {
  #pending = new Map<string, { topic: string; partition: number; offset: string }>();
  #inFlight: Promise<void> | null = null;
  #send: (offsets: { topic: string; partition: number; offset: string }[]) => Promise<void>;
  #onError: (err: unknown) => void;
  #onCommit: (ok: boolean) => void;

  constructor(
    send: (offsets: { topic: string; partition: number; offset: string }[]) => Promise<void>,
    onError: (err: unknown) => void,
    onCommit: (ok: boolean) => void = () => {},
  ) {
    this.#send = send;
    this.#onError = onError;
    this.#onCommit = onCommit;
  }

  /** Commits `offset` (the next to read) for a partition, soon. */
  note(topic: string, partition: number, offset: number): void {
    this.#pending.set(`${topic}/${partition}`, { topic, partition, offset: String(offset) });
    this.#inFlight ??= this.#flush();
  }

  /** Resolves once everything noted is committed (or has failed). */
  async drain(): Promise<void> {
    while (this.#inFlight) await this.#inFlight;
  }

  async #flush(): Promise<void> {
    while (this.#pending.size > 0) {
      const offsets = [...this.#pending.values()];
      this.#pending.clear();
      await this.#send(offsets).then(() => this.#onCommit(true), (err) => {
        this.#onCommit(false);
        this.#onError(err);
      });
    }
    this.#inFlight = null;
  }
}

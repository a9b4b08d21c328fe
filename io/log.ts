/**
 * The log port: partitioned topics with keys and offsets, consumed in batches by a
 * consumer group, with offsets committed only after a batch's handler has finished
 * (and so after its effects are durable). The embedded log and the Kafka adapter
 * implement it.
 *
 * @module
 */

/** One record of a topic partition. */
export interface LogRecord {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  /** Append time (ms). */
  timestamp: number;
}

/** Records of one topic partition, in offset order. */
export interface Batch {
  topic: string;
  partition: number;
  records: LogRecord[];
  /**
   * Records below this offset were already handled, and their effects made durable, by
   * an earlier owner of the partition: they are read again only to rebuild actor state,
   * and must not raise alerts or dead letters again.
   */
  replay_below?: number;
  /** Keeps this member in its group while the handler waits (e.g. for a store to come back). */
  heartbeat?: () => Promise<void>;
}

/** A record to append. */
export interface ProduceMessage {
  key: string | null;
  value: string;
  /** The partition to write to; when absent, the key's partition (murmur2) or round robin. */
  partition?: number;
}

/** Messages for one topic. */
export interface TopicMessages {
  topic: string;
  messages: readonly ProduceMessage[];
}

/** How to consume. */
export interface ConsumeOptions {
  group: string;
  topics: string[];
  /** Records handed to `handler` at once, at most. */
  max_batch: number;
  /**
   * Handles one batch. The batch's offsets are committed once it resolves, or, if it
   * resolves to `{ durable }`, once `durable` resolves: the log may hand over the next
   * batches meanwhile (up to `max_in_flight`), and commits in order.
   */
  handler: (batch: Batch) => Promise<void | Pending>;
  /** Batches handled but not yet durable, at most (default 1). */
  max_in_flight?: number;
  /** Partitions whose batches are handled at the same time, at most (default 1). */
  partitions_in_parallel?: number;
  /** Told when the consumer cannot run (it is retried by the client where it can be). */
  on_error?: (err: unknown) => void;
  /**
   * Told of the partition numbers this member owns after each rebalance, before any
   * record of the new assignment is handled.
   */
  on_assign?: (partitions: number[]) => void;
  /** Told of each offset commit request, whether it succeeded. */
  on_commit?: (ok: boolean) => void;
  /**
   * For a partition just assigned to this member (after `on_assign`): restores what it
   * can of the partition's state and gives the offset to read each input topic from
   * (a topic left out is read from its start). Records before those offsets are skipped.
   */
  resume_from?: (partition: number) => Promise<Record<string, number>>;
  /** At a graceful stop: called after the batch in hand is done, before leaving the group. */
  before_leave?: () => Promise<void>;
}

/** A batch handled, whose effects are still being made durable. */
export interface Pending {
  durable: Promise<void>;
}

/** A running consumer. */
export interface Consumer {
  /** Stops fetching, waits for the batches in hand to finish, commits them. */
  stop(): Promise<void>;
  /** Records not yet consumed, per `topic/partition`. */
  lag(): Record<string, number>;
  /**
   * How far behind, in time, per `topic/partition`: the age of the last record handled
   * while records wait after it (0 when none waits). Absent where not known.
   */
  lagSeconds?(): Record<string, number>;
}

/** A partitioned log. */
export interface Log {
  /**
   * Whether partitions are shared out among processes and may move between them (Kafka):
   * then state must be rebuilt, or restored from checkpoints, when a partition arrives.
   */
  readonly shared: boolean;
  /** Creates the topics if they do not exist. */
  ensureTopics(topics: readonly string[], partitions: number): Promise<void>;
  /** Appends messages, each to the partition of its key (murmur2), or round-robin without one. */
  produce(topic: string, messages: readonly ProduceMessage[]): Promise<void>;
  /** Appends to several topics at once (one request to Kafka). */
  produceMany(batches: readonly TopicMessages[]): Promise<void>;
  consume(options: ConsumeOptions): Consumer;
  close(): Promise<void>;
}

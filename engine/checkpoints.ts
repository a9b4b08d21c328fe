/**
 * Partition checkpoints: every so often, right after a batch of a partition is handled
 * and durable, the image of that partition's actors is written to the store with the
 * input offsets it reflects. A process that takes the partition over (after a crash, a
 * rebalance or a scale-down) restores the image and reads on from those offsets, so a
 * takeover re-reads minutes of input instead of the whole partition. Records between the
 * checkpoint and the group's committed offset are read again only to rebuild state (no
 * alert is raised twice); the result is the state an uninterrupted run would have.
 *
 * @module
 */

import type { ActorRuntime, PartitionImage } from "../actors/runtime.ts";
import type { Batch } from "../io/log.ts";
import type { Store } from "../io/store.ts";

/** What the checkpointer reports (logs and metrics). */
export interface CheckpointEvents {
  written(partition: number, actors: number, chars: number, ms: number): void;
  restored(
    partition: number,
    actors: number,
    offsets: Record<string, number>,
    age_ms: number,
  ): void;
  failed(partition: number, what: "write" | "restore", err: unknown): void;
}

/** How to checkpoint. */
export interface CheckpointOptions {
  /** Consumer group: checkpoints are per group and partition. */
  group: string;
  /** A partition with new input is checkpointed at most this often (ms). */
  interval_ms: number;
  /** Tries at loading a checkpoint before reading the partition from its start instead. */
  restore_attempts: number;
  now: () => number;
  events: CheckpointEvents;
}

/** Takes and restores partition checkpoints for one process. */
export class Checkpointer {
  #runtime: ActorRuntime;
  #store: Store;
  #o: CheckpointOptions;
  /** Per owned partition: the next offset of each input topic its state reflects. */
  #positions = new Map<number, Map<string, number>>();
  /** When each owned partition was last checkpointed (or assigned). */
  #takenAt = new Map<number, number>();
  /** Partitions with input handled since their last checkpoint. */
  #dirty = new Set<number>();
  /** The write in flight per partition (one at a time). */
  #writing = new Map<number, Promise<void>>();

  constructor(runtime: ActorRuntime, store: Store, options: CheckpointOptions) {
    this.#runtime = runtime;
    this.#store = store;
    this.#o = options;
  }

  /**
   * Restores a partition just assigned here from its checkpoint, and gives the offset to
   * read each input topic from (none: from the start). A checkpoint that cannot be loaded
   * after a few tries, or does not fit, is passed over: reading the partition from its
   * start rebuilds the same state, only more slowly.
   */
  async restore(partition: number): Promise<Record<string, number>> {
    this.#positions.set(partition, new Map());
    this.#takenAt.set(partition, this.#o.now());
    this.#dirty.delete(partition);
    for (let attempt = 1;; attempt++) {
      try {
        const cp = await this.#store.loadCheckpoint(this.#id(partition));
        if (!cp) return {};
        if (cp.partitions !== this.#runtime.partitions) {
          throw new Error(
            `it was taken with ${cp.partitions} partitions, not ${this.#runtime.partitions}`,
          );
        }
        const image = JSON.parse(cp.image) as PartitionImage;
        this.#runtime.importPartition(partition, image);
        this.#positions.set(partition, new Map(Object.entries(cp.offsets)));
        this.#o.events.restored(
          partition,
          image.actors.length,
          cp.offsets,
          this.#o.now() - Date.parse(cp.created_at),
        );
        return { ...cp.offsets };
      } catch (err) {
        this.#runtime.clearPartition(partition);
        if (attempt >= this.#o.restore_attempts) {
          this.#o.events.failed(partition, "restore", err);
          return {};
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  /** Notes a handled batch: its partition's actors now reflect its records. */
  handled(batch: Batch): void {
    const last = batch.records[batch.records.length - 1];
    if (!last) return;
    let positions = this.#positions.get(batch.partition);
    if (!positions) this.#positions.set(batch.partition, positions = new Map());
    positions.set(batch.topic, last.offset + 1);
    this.#dirty.add(batch.partition);
  }

  /**
   * Checkpoints the partitions whose checkpoint is due. Call it only between batches,
   * when every batch handled is durable: an image must match its offsets.
   */
  takeDue(): void {
    const now = this.#o.now();
    for (const p of [...this.#dirty]) {
      if (now - (this.#takenAt.get(p) ?? 0) >= this.#o.interval_ms) this.take(p);
    }
  }

  /**
   * Checkpoints a partition now, if it has new input and no write of it is in flight.
   * The image is taken at once (between two messages of every actor); writing it goes on
   * in the background. Returns the write, or null when none was started.
   */
  take(partition: number): Promise<void> | null {
    if (!this.#dirty.has(partition) || this.#writing.has(partition)) return null;
    const started = this.#o.now();
    const image = this.#runtime.exportPartition(partition);
    if (!image) return null; // an actor is mid-turn: the next batch tries again
    const offsets = Object.fromEntries(this.#positions.get(partition) ?? []);
    this.#dirty.delete(partition);
    this.#takenAt.set(partition, started);
    const text = JSON.stringify(image);
    const write = this.#store.saveCheckpoint({
      id: this.#id(partition),
      offsets,
      partitions: this.#runtime.partitions,
      image: text,
      created_at: new Date(started).toISOString(),
    }).then(
      () =>
        this.#o.events.written(
          partition,
          image.actors.length,
          text.length,
          this.#o.now() - started,
        ),
      (err) => {
        this.#dirty.add(partition); // the old checkpoint stands; try again later
        this.#o.events.failed(partition, "write", err);
      },
    ).finally(() => this.#writing.delete(partition));
    this.#writing.set(partition, write);
    return write;
  }

  /**
   * Checkpoints a partition that is leaving this process (revoked in a rebalance), then
   * forgets it here. The next owner may already have restored an older checkpoint: both
   * are consistent, the newer one only saves it reading.
   */
  release(partition: number): void {
    this.take(partition);
    this.#positions.delete(partition);
    this.#takenAt.delete(partition);
    this.#dirty.delete(partition);
  }

  /** Checkpoints every partition with new input and waits for the writes (at a graceful stop). */
  async flushAll(): Promise<void> {
    await Promise.all(this.#writing.values());
    await Promise.all([...this.#dirty].map((p) => this.take(p)));
  }

  #id(partition: number): string {
    return `${this.#o.group}/${partition}`;
  }
}

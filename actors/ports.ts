/**
 * The narrow interfaces through which the actor runtime reaches the outside world.
 * The embedded defaults implement them in memory; Kafka, MongoDB and ONNX adapters
 * implement the same ones.
 *
 * @module
 */

import type { Alert, DeadLetter } from "../events/types.ts";

/** Where passivated actors' state goes, and comes back from. */
export interface SnapshotStore {
  /** The saved state of actor `id`, if any (may answer asynchronously). */
  load(id: string): unknown | Promise<unknown>;
  /**
   * The saved state of actor `id`, which is coming back into memory: the store may let go
   * of its copy (the actor holds the state now and saves it again when it is passivated).
   * Absent: `load`.
   */
  take?(id: string): unknown | Promise<unknown>;
  /** Saves the state of actor `id` (immutable: the store may keep the reference). */
  save(id: string, state: unknown): void;
  /** Forgets actor `id`. */
  delete(id: string): void;
  /** Forgets every actor whose id matches (when partitions move away). */
  deleteWhere?(match: (id: string) => boolean): void;
  /** The saved states of every actor whose id matches (for partition checkpoints). */
  entriesWhere?(match: (id: string) => boolean): [string, unknown][];
}

/** Where raised alerts go. */
export interface AlertSink {
  publish(alert: Alert): void;
}

/** Where rejected events and failed messages go. */
export interface DeadLetterSink {
  deadLetter(letter: DeadLetter): void;
}

/** Where `persist` effects go. */
export interface PersistSink {
  persist(collection: string, doc: Record<string, unknown>): void;
}

/** Model scoring. */
export interface Inference {
  infer(model: string, features: Float32Array): Promise<Float32Array>;
}

/** What the runtime reports; the metrics adapter implements it, tests may count. */
export interface RuntimeTelemetry {
  activated(type: string): void;
  passivated(type: string): void;
  restarted(type: string): void;
  deadLettered(reason: DeadLetterReason): void;
  /** `decided`: what the alert waited for (`AlertDraft.decided`; absent: its own event). */
  alertRaised(alert: Alert, latency_ms: number, decided?: "watermark"): void;
  gauge(name: string, delta: number): void;
  /** A value of one keyed thing (e.g. a page's views in its last minute), for a top-N metric. */
  observed?(name: string, key: string, value: number): void;
}

/** Why something was dead-lettered, as a bounded metric label. */
export type DeadLetterReason =
  | "invalid"
  | "late"
  | "future"
  | "oversized"
  | "failed"
  | "quarantined"
  | "stopped";

/** A telemetry that records nothing. */
export const noTelemetry: RuntimeTelemetry = {
  activated() {},
  passivated() {},
  restarted() {},
  deadLettered() {},
  alertRaised() {},
  gauge() {},
};

/**
 * Snapshots kept by reference in a Map, in the same heap (for tests; the embedded default
 * is `EncodedSnapshots`, which keeps them encoded, off the heap).
 */
export class MemorySnapshots implements SnapshotStore {
  readonly map = new Map<string, unknown>();
  load(id: string): unknown {
    return this.map.get(id);
  }
  save(id: string, state: unknown): void {
    this.map.set(id, state);
  }
  delete(id: string): void {
    this.map.delete(id);
  }
  deleteWhere(match: (id: string) => boolean): void {
    for (const id of [...this.map.keys()]) if (match(id)) this.map.delete(id);
  }
  entriesWhere(match: (id: string) => boolean): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const entry of this.map) if (match(entry[0])) out.push(entry);
    return out;
  }
}

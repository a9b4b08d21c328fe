/**
 * The messages between a replay's main thread (`replay_parallel.ts`) and its worker
 * threads (`replay_worker.ts`), and which thread runs which group of actor types.
 *
 * @module
 */

import type { Suppression } from "./suppressions.ts";
import type { Config, ModelSettings } from "../config/defaults.ts";
import type { Alert, DeadLetter } from "../events/types.ts";

/** The groups of actor types (`KindRoute.group` in `actors/route.ts`). */
export const GROUPS = 3;

/**
 * The thread a group runs on, of `threads`. With three threads or more, each group has
 * its own; with two, the users and IPs (the most work in a mixed file) have one, the rest
 * the other.
 */
export function threadOf(group: number, threads: number): number {
  if (threads >= GROUPS) return group;
  return threads === 2 ? Math.min(group, 1) : 0;
}

/** What the main thread sends a worker. */
export type ToWorker =
  | {
    t: "start";
    config: Config;
    /** The analysts' suppressions to judge alerts with (`replay --suppressions`). */
    suppressions: Suppression[];
    /** This worker's thread, of `threads` (it runs the groups `threadOf` gives it). */
    thread: number;
    threads: number;
    /** The models to score with (each at the version the main thread serves), or none. */
    models: { settings: ModelSettings; versions: Record<string, string> } | null;
  }
  | { t: "lines"; lines: string[]; nums: Float64Array }
  /** `count` lines of a file, each ending in a newline, in `bytes[0, length)`, and their numbers. */
  | {
    t: "bytes";
    bytes: Uint8Array<ArrayBuffer>;
    length: number;
    numbers: Float64Array<ArrayBuffer>;
    count: number;
  }
  /** No more lines. */
  | { t: "end" }
  /** Where the whole input's event time ended (the latest of every worker's). */
  | { t: "end_at"; ms: number }
  /** After the result: this worker's clock as each of these lines was handled. */
  | { t: "clocks"; lines: number[] };

/** What a worker sends back. */
export type FromWorker =
  | { t: "ready" }
  /** A chunk is handled (the buffers of a chunk of bytes come back, to be filled again). */
  | { t: "ack"; bytes?: Uint8Array<ArrayBuffer>; numbers?: Float64Array<ArrayBuffer> }
  /** Every line dealt is handled; the clock (the latest event time seen). */
  | { t: "drained"; now: number }
  /**
   * The lines cannot be run apart: one is older than the one before it (the input must
   * be sorted), or its kind belongs to another group (it named its kind twice).
   */
  | { t: "redo"; why: string }
  | { t: "error"; message: string }
  | {
    t: "done";
    events: number;
    invalid: number;
    late: number;
    alerts: Alert[];
    dead_letters: DeadLetter[];
    /** The line each dead letter was written at (Infinity: after the last). */
    letter_lines: number[];
  }
  | { t: "clocks"; ms: number[] };

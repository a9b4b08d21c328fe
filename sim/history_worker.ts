/**
 * The simulated history of `deno task start` (`simulator.history_days`) counted on a
 * thread of its own: a simulator from the history's start to the backfill's, every event
 * counted in its hour (`HourCounter`), the rows sent back once all is counted. On its own
 * isolate the main thread's pipeline keeps its core, and the second simulator's state
 * (~50 MB for 50,000 users) and its garbage go when the thread ends.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { HourCounter, type RollupRow } from "../io/rollups.ts";
import { type SimOptions, Simulator } from "./simulator.ts";

/** What the main thread sends: the simulator's options and where to stop. */
export interface HistoryRequest {
  options: SimOptions;
  to_ms: number;
}

/** What the thread sends back. */
export type HistoryResult =
  | { t: "done"; events: number; rows: RollupRow[] }
  | { t: "error"; message: string };

self.onmessage = (e: MessageEvent<HistoryRequest>) => {
  try {
    const counter = new HourCounter();
    let n = 0;
    for (const event of new Simulator(e.data.options).until(e.data.to_ms)) {
      n++;
      counter.event({
        kind: event.kind,
        ts: Date.parse(event.timestamp),
        raw: event,
      });
    }
    self.postMessage({ t: "done", events: n, rows: [...counter.rows.values()] });
  } catch (err) {
    self.postMessage({ t: "error", message: String((err as Error)?.message ?? err) });
  }
};

/**
 * The scheduled roll-up job (issue 17): every `interval_ms` (jittered), the process that
 * holds the store's lease rolls up the hours since its last run (back `lookback_ms` for
 * late events) and the days holding them, and records the run (range, duration, rows,
 * outcome). One run at a time across a cluster; a late or failed run shows in the
 * metrics, which the `VigilRollupLate` and `VigilRollupFailed` rules watch. `deno task
 * aggregate --from --to` runs the same step by hand (`rollupRange`).
 *
 * @module
 */

import type { AggregateSettings } from "../config/defaults.ts";
import type { JobRun, Store } from "../io/store.ts";

/** The job's name (its lease and its runs). */
export const ROLLUP_JOB = "rollup";

/** Told of each run. */
export interface RollupTelemetry {
  rollupRan(run: JobRun, finished_ms: number): void;
}

/**
 * Rolls up [from_ms, to_ms) and records the run, failed or not (its `outcome`); throws
 * only when the run cannot be recorded either.
 */
export async function rollupRange(
  store: Store,
  from_ms: number,
  to_ms: number,
  by: string,
  now: () => number = Date.now,
): Promise<JobRun> {
  const started = now();
  const run: JobRun = {
    job: ROLLUP_JOB,
    from: new Date(from_ms).toISOString(),
    to: new Date(to_ms).toISOString(),
    started_at: new Date(started).toISOString(),
    duration_ms: 0,
    rows: 0,
    outcome: "ok",
    by,
  };
  try {
    run.rows = await store.rollup(from_ms, to_ms);
  } catch (err) {
    run.outcome = "failed";
    run.error = (err as Error).message.slice(0, 500);
  }
  run.duration_ms = now() - started;
  await store.saveJobRun(run);
  return run;
}

/** The job on a timer. */
export class RollupJob {
  #store: Store;
  #o: AggregateSettings;
  #owner: string;
  #telemetry: RollupTelemetry | null;
  #now: () => number;
  #random: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<unknown> | null = null;
  #stopped = false;

  constructor(
    store: Store,
    o: AggregateSettings,
    options: {
      owner: string;
      telemetry?: RollupTelemetry;
      now?: () => number;
      random?: () => number;
    },
  ) {
    this.#store = store;
    this.#o = o;
    this.#owner = options.owner;
    this.#telemetry = options.telemetry ?? null;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
  }

  /** Schedules the first run, and each next one after it. */
  start(): void {
    this.#schedule(this.#o.first_run_delay_ms);
  }

  /** No more runs; resolves once a run under way has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /**
   * One run if this process holds (or takes) the lease: the run, or null when another
   * process holds it. A failed run is recorded and returned with its outcome.
   */
  async runOnce(): Promise<JobRun | null> {
    const now = this.#now();
    let run: JobRun;
    try {
      if (!await this.#store.takeLease(ROLLUP_JOB, this.#owner, now, this.#o.lease_ms)) {
        return null;
      }
      const [last] = (await this.#store.findJobRuns(ROLLUP_JOB, 20))
        .filter((r) => r.outcome === "ok");
      const from = last
        ? Math.min(Date.parse(last.to), now) - this.#o.lookback_ms
        : now - this.#o.first_lookback_ms;
      run = await rollupRange(this.#store, from, now, this.#owner, this.#now);
    } catch (err) {
      // The store could not be asked or told: a failed run all the same.
      run = {
        job: ROLLUP_JOB,
        from: new Date(now).toISOString(),
        to: new Date(now).toISOString(),
        started_at: new Date(now).toISOString(),
        duration_ms: this.#now() - now,
        rows: 0,
        outcome: "failed",
        error: (err as Error).message.slice(0, 500),
        by: this.#owner,
      };
    }
    this.#telemetry?.rollupRan(run, this.#now());
    return run;
  }

  #schedule(delay_ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce().catch(() => {}).finally(() => {
        this.#running = null;
        const spread = this.#o.interval_ms * this.#o.jitter * (2 * this.#random() - 1);
        this.#schedule(Math.max(1_000, this.#o.interval_ms + spread));
      });
    }, delay_ms);
  }
}

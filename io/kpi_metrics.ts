/**
 * The business and service KPIs the earlier pipelines showed (issue 17): transaction
 * amounts, how long after its event each decision came, the HTTP API's requests, and the
 * users with an open session. Registered in the process's one registry (`io/metrics.ts`);
 * every label is a bounded set: transaction types, event kinds, route patterns, methods
 * and status codes. Never a user, account, address or page.
 *
 * @module
 */

import client from "prom-client";
import type { EventKind } from "../events/types.ts";

/**
 * Transaction amount buckets, in the event's currency units: the 1-2-5 steps a payments
 * dashboard uses, from a coffee to a house deposit.
 */
export const AMOUNT_BUCKETS: readonly number[] = [
  1,
  2,
  5,
  10,
  20,
  50,
  100,
  200,
  500,
  1_000,
  2_000,
  5_000,
  10_000,
  20_000,
  50_000,
  100_000,
  250_000,
  1_000_000,
];

/** Decision buckets (seconds): from within a batch to a consumer minutes behind. */
const DECISION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** HTTP duration buckets (seconds). */
const HTTP_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** The route label of a request no route matched (any path: one label). */
export const UNMATCHED_ROUTE = "unmatched";

/** Log levels as counted: each producer's spelling to one of a bounded set. */
const LOG_LEVELS: Readonly<Record<string, string>> = Object.freeze({
  fatal: "error",
  critical: "error",
  crit: "error",
  error: "error",
  err: "error",
  warning: "warn",
  warn: "warn",
  info: "info",
  notice: "info",
  debug: "debug",
  trace: "debug",
});

/** The counted level of a log event's `level` (`other` for anything else). */
export function logLevel(level: unknown): string {
  return typeof level === "string" ? LOG_LEVELS[level.toLowerCase()] ?? "other" : "other";
}

/** HTTP methods counted by name (others are `other`). */
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]);

/** Moves a gauge by `delta`, either way. */
export function moveGauge(g: client.Gauge, delta: number): void {
  if (delta >= 0) g.inc(delta);
  else g.dec(-delta);
}

/** The KPI metrics of one process. */
export class KpiMetrics {
  #amounts: client.Histogram<"type">;
  #decisions: client.Histogram<"kind">;
  #requests: client.Counter<"route" | "method" | "status">;
  #requestSeconds: client.Histogram<"route" | "method">;
  #activeUsers: client.Gauge;
  #logs: client.Counter<"level">;
  #rollupRuns: client.Counter<"outcome">;
  #rollupSeconds: client.Histogram;
  #rollupLastOk: client.Gauge;
  #rollupRows: client.Gauge;
  #amountBound = new Map<string, client.Histogram.Internal<"type">>();
  #decisionBound = new Map<string, client.Histogram.Internal<"kind">>();
  #logBound = new Map<string, client.Counter.Internal>();

  constructor(registry: client.Registry) {
    const registers = [registry];
    this.#amounts = new client.Histogram({
      name: "vigil_transaction_amount",
      help: "Amounts of the transactions taken in, by type, in the event's currency units.",
      labelNames: ["type"],
      buckets: [...AMOUNT_BUCKETS],
      registers,
    });
    this.#decisions = new client.Histogram({
      name: "vigil_event_decision_seconds",
      help: "Event time to its actors' turns being done (its rules run, its alerts raised), " +
        "by kind; not for history played back at start.",
      labelNames: ["kind"],
      buckets: DECISION_BUCKETS,
      registers,
    });
    this.#requests = new client.Counter({
      name: "vigil_http_requests_total",
      help: `HTTP requests answered, by route pattern (${UNMATCHED_ROUTE}: none matched), ` +
        "method and status code.",
      labelNames: ["route", "method", "status"],
      registers,
    });
    this.#requestSeconds = new client.Histogram({
      name: "vigil_http_request_duration_seconds",
      help:
        "Time to answer an HTTP request (until its response began), by route pattern and method.",
      labelNames: ["route", "method"],
      buckets: HTTP_BUCKETS,
      registers,
    });
    this.#logs = new client.Counter({
      name: "vigil_log_events_total",
      help: "Service log events taken in, by level (error, warn, info, debug, other).",
      labelNames: ["level"],
      registers,
    });
    for (const level of ["error", "warn", "info"]) this.#logs.inc({ level }, 0);
    this.#rollupRuns = new client.Counter({
      name: "vigil_rollup_runs_total",
      help: "Roll-up job runs this process made, by outcome (ok, failed).",
      labelNames: ["outcome"],
      registers,
    });
    for (const outcome of ["ok", "failed"]) this.#rollupRuns.inc({ outcome }, 0);
    this.#rollupSeconds = new client.Histogram({
      name: "vigil_rollup_run_seconds",
      help: "Duration of each roll-up run.",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900],
      registers,
    });
    this.#rollupLastOk = new client.Gauge({
      name: "vigil_rollup_last_success_timestamp_seconds",
      help: "When this process's last successful roll-up run ended (Unix seconds); absent " +
        "before its first (the process holding the job's lease runs it).",
      registers,
    });
    this.#rollupRows = new client.Gauge({
      name: "vigil_rollup_rows_written",
      help: "Rows the last successful roll-up run wrote.",
      registers,
    });
    this.#activeUsers = new client.Gauge({
      name: "vigil_active_users",
      help: "Users with at least one open session.",
      registers,
    });
  }

  /** A transaction of `type` for `amount` was taken in. */
  transaction(type: string, amount: number): void {
    let h = this.#amountBound.get(type);
    if (!h) this.#amountBound.set(type, h = this.#amounts.labels(type));
    h.observe(amount);
  }

  /**
   * Events of `kind` decided at `now_ms`, their event times the first `n` of `ts`; those
   * before `from_ms` (history played back) are not observed.
   */
  decided(kind: EventKind, ts: Float64Array, n: number, now_ms: number, from_ms: number): void {
    let h = this.#decisionBound.get(kind);
    if (!h) this.#decisionBound.set(kind, h = this.#decisions.labels(kind));
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      if (t >= from_ms) h.observe(Math.max(0, now_ms - t) / 1000);
    }
  }

  /** An HTTP request was answered. */
  request(route: string, method: string, status: number, seconds: number): void {
    const m = METHODS.has(method) ? method : "other";
    this.#requests.inc({ route, method: m, status: String(status) });
    this.#requestSeconds.observe({ route, method: m }, seconds);
  }

  /** A service log event of this `level` (as it came) was taken in. */
  log(level: unknown): void {
    const l = logLevel(level);
    let c = this.#logBound.get(l);
    if (!c) this.#logBound.set(l, c = this.#logs.labels(l));
    c.inc();
  }

  /** A roll-up run ended at `finished_ms`. */
  rollupRan(
    run: { outcome: "ok" | "failed"; duration_ms: number; rows: number },
    finished_ms: number,
  ) {
    this.#rollupRuns.inc({ outcome: run.outcome });
    this.#rollupSeconds.observe(run.duration_ms / 1000);
    if (run.outcome === "ok") {
      this.#rollupLastOk.set(finished_ms / 1000);
      this.#rollupRows.set(run.rows);
    }
  }

  /** Users with an open session moved by `delta`. */
  activeUsers(delta: number): void {
    moveGauge(this.#activeUsers, delta);
  }
}

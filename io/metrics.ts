/**
 * Prometheus metrics (npm:prom-client). Labels are bounded sets only: event kinds,
 * actor types, rules, severities, modes, reasons. Never a user, IP or flow; pages only as
 * the ten busiest, their names cut to a bounded length.
 * `collectDefaultMetrics()` is not used: it breaks under Deno.
 *
 * @module
 */

import client from "prom-client";
import type { RuntimeStats } from "../actors/runtime.ts";
import type { IntakeTelemetry } from "../engine/intake.ts";
import type { NotifyTelemetry } from "./notify.ts";
import type { Alert, EventKind, VigilEvent } from "../events/types.ts";
import type { DeadLetterReason } from "../actors/ports.ts";
import type { ModelTelemetry } from "../models/service.ts";
import { hash64 } from "../events/hash.ts";
import { KpiMetrics, moveGauge } from "./kpi_metrics.ts";
import type { JobRun } from "./store.ts";

/** Where the metrics read what is sampled at scrape time. */
export interface MetricSources {
  stats(): RuntimeStats;
  lag(): Record<string, number>;
  /** Seconds behind per `topic/partition`, where known. */
  lagSeconds?(): Record<string, number>;
  /** Notifications waiting per target. */
  notificationsQueued?(): Record<string, number>;
  /** Each served model's input drift (PSI per feature against its training data). */
  drift?(): { model: string; rows: number; features: { feature: string; psi: number }[] }[];
}

/** The labels of a `topic/partition` key (partitions are few: a bounded label). */
function topicPartition(tp: string): { topic: string; partition: string } {
  const at = tp.lastIndexOf("/");
  return { topic: tp.slice(0, at), partition: tp.slice(at + 1) };
}

/** Transaction statuses counted by name (any other is `unknown`): a bounded label. */
const TX_STATUSES = new Set(["success", "failed", "declined", "pending", "reversed"]);

/** Latency buckets (seconds) from 1 ms to 2 min. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];

/** Pages the page-views metric shows (the busiest), and pages it follows to find them. */
const TOP_PAGES = 10;
const MAX_PAGES_FOLLOWED = 10_000;
/** Characters of a page name the page-views metric shows (the page is a label of it). */
const MAX_PAGE_LABEL_CHARS = 128;

/**
 * A page as a label: a name longer than `MAX_PAGE_LABEL_CHARS` is cut, with a hash of the
 * whole name so that two long names sharing a start stay apart. The unauthenticated
 * `/metrics` stays small whatever pages arrive (validation bounds them too).
 */
export function pageLabel(page: string): string {
  if (page.length <= MAX_PAGE_LABEL_CHARS) return page;
  return `${page.slice(0, MAX_PAGE_LABEL_CHARS - 18)}…${hash64(page)}`;
}

/** The metrics of one process. */
export class Metrics implements IntakeTelemetry, ModelTelemetry, NotifyTelemetry {
  readonly registry = new client.Registry();
  /** Transaction amounts, decision times, HTTP requests, active users. */
  readonly kpi = new KpiMetrics(this.registry);
  #ingested: client.Counter<"kind">;
  #invalid: client.Counter<"kind">;
  #misplaced: client.Counter<"topic">;
  #dead: client.Counter<"reason">;
  #activations: client.Counter<"type">;
  #passivations: client.Counter<"type">;
  #restarts: client.Counter<"type">;
  #alerts: client.Counter<"rule" | "severity" | "mode">;
  #latency: client.Histogram<"family" | "decided">;
  #inferenceErrors: client.Counter<"model">;
  #ioSeconds: client.Histogram<"target">;
  #ioErrors: client.Counter<"target">;
  #rebalances: client.Counter;
  #commits: client.Counter<"result">;
  #authEvents: client.Counter<"type">;
  #transactions: client.Counter<"type" | "status">;
  #loopLag = 0;
  #sessions: client.Gauge;
  #checkpoints: client.Counter<"result">;
  #checkpointChars: client.Gauge;
  #checkpointSeconds: client.Histogram;
  #inferenceSeconds: client.Histogram<"model">;
  #batchRows: client.Histogram<"model">;
  #predictions: client.Counter<"model" | "class">;
  #modelVersion: client.Gauge<"model" | "version">;
  #shadow: client.Counter<"model" | "version" | "result">;
  #notifications: client.Counter<"target" | "result">;
  /** Each page's views in its last window (most recently reported first out past the bound). */
  #pageViews = new Map<string, number>();
  #active = new Map<string, string>();
  #bound = new Map<string, client.Counter.Internal>();
  #latencyBound = new Map<string, client.Histogram.Internal<"family" | "decided">>();
  /** Alerts on events before this time are history played back: no latency observed. */
  #liveFromMs = -Infinity;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.#ingested = new client.Counter({
      name: "vigil_events_ingested_total",
      help: "Valid events taken in, by kind.",
      labelNames: ["kind"],
      registers,
    });
    this.#invalid = new client.Counter({
      name: "vigil_events_invalid_total",
      help: "Events rejected as invalid or oversized, by the kind their source implies.",
      labelNames: ["kind"],
      registers,
    });
    this.#misplaced = new client.Counter({
      name: "vigil_misplaced_records_total",
      help: "Records that arrived on another partition than their key's (another producer " +
        "partitioner, another key, no key), moved to it through the repartition topic.",
      labelNames: ["topic"],
      registers,
    });
    this.#notifications = new client.Counter({
      name: "vigil_notifications_total",
      help: "Alerts sent to notification targets, retried, given up or dropped (queue full).",
      labelNames: ["target", "result"],
      registers,
    });
    this.#dead = new client.Counter({
      name: "vigil_dead_letters_total",
      help: "Events and messages dead-lettered, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.#activations = new client.Counter({
      name: "vigil_actor_activations_total",
      help: "Actors activated (created or restored from a snapshot), by type.",
      labelNames: ["type"],
      registers,
    });
    this.#passivations = new client.Counter({
      name: "vigil_actor_passivations_total",
      help: "Actors passivated to a snapshot (idle or least recently used), by type.",
      labelNames: ["type"],
      registers,
    });
    this.#restarts = new client.Counter({
      name: "vigil_actor_restarts_total",
      help: "Actor failures handled by a supervisor, by type.",
      labelNames: ["type"],
      registers,
    });
    this.#alerts = new client.Counter({
      name: "vigil_alerts_total",
      help: "Alerts raised, by rule, severity and mode.",
      labelNames: ["rule", "severity", "mode"],
      registers,
    });
    this.#latency = new client.Histogram({
      name: "vigil_alert_latency_seconds",
      help:
        "Event time of the triggering event to the alert being raised, by rule family and by what decided it (event: its own event; watermark: a watermark passing, late by the allowed lateness by design); not for history played back at start.",
      labelNames: ["family", "decided"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const pageViews = this.#pageViews;
    new client.Gauge({
      name: "vigil_page_views_last_window",
      help:
        `Views of the ${TOP_PAGES} busiest pages in their last closed window (1 min): top pages only, bounded.`,
      labelNames: ["page"],
      registers,
      collect() {
        this.reset();
        const top = [...pageViews].sort((a, b) => b[1] - a[1]).slice(0, TOP_PAGES);
        for (const [page, views] of top) this.set({ page: pageLabel(page) }, views);
      },
    });
    this.#sessions = new client.Gauge({
      name: "vigil_active_sessions",
      help: "Open user sessions (closed by logout or idle timeout).",
      registers,
    });
    this.#checkpoints = new client.Counter({
      name: "vigil_checkpoints_total",
      help: "Partition checkpoints written and restored, and failures to do either.",
      labelNames: ["result"],
      registers,
    });
    this.#checkpointChars = new client.Gauge({
      name: "vigil_checkpoint_last_chars",
      help: "Size of the latest partition checkpoint written (characters of JSON).",
      registers,
    });
    this.#checkpointSeconds = new client.Histogram({
      name: "vigil_checkpoint_write_seconds",
      help: "Time to take and write one partition checkpoint.",
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new client.Gauge({
      name: "vigil_actors_resident",
      help: "Actors resident in memory, by type.",
      labelNames: ["type"],
      registers,
      collect() {
        for (const [type, n] of Object.entries(sources.stats().resident)) this.set({ type }, n);
      },
    });
    new client.Gauge({
      name: "vigil_mailbox_depth",
      help: "Messages waiting in actor mailboxes (sum over actors).",
      registers,
      collect() {
        this.set(sources.stats().mailbox_depth);
      },
    });
    new client.Gauge({
      name: "vigil_mailbox_depth_max",
      help: "Deepest actor mailbox now.",
      registers,
      collect() {
        this.set(sources.stats().max_mailbox_depth);
      },
    });
    new client.Gauge({
      name: "vigil_consumer_lag_messages",
      help: "Records not yet consumed, by topic and partition (the partitions this process owns).",
      labelNames: ["topic", "partition"],
      registers,
      collect() {
        this.reset();
        for (const [tp, n] of Object.entries(sources.lag())) this.set(topicPartition(tp), n);
      },
    });
    this.#inferenceSeconds = new client.Histogram({
      name: "vigil_inference_batch_seconds",
      help: "Time of one session.run (a micro-batch), by model.",
      labelNames: ["model"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    });
    this.#batchRows = new client.Histogram({
      name: "vigil_inference_batch_rows",
      help: "Rows scored in one session.run, by model.",
      labelNames: ["model"],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
      registers,
    });
    this.#predictions = new client.Counter({
      name: "vigil_model_predictions_total",
      help: "Rows scored, by model and most likely class.",
      labelNames: ["model", "class"],
      registers,
    });
    this.#shadow = new client.Counter({
      name: "vigil_model_shadow_rows_total",
      help: "Rows a shadow (candidate) version scored beside the active one: agree, disagree " +
        "(most likely class), error.",
      labelNames: ["model", "version", "result"],
      registers,
    });
    this.#modelVersion = new client.Gauge({
      name: "vigil_model_active",
      help: "1 for the version of each model that serves.",
      labelNames: ["model", "version"],
      registers,
    });
    new client.Gauge({
      name: "vigil_model_drift_psi",
      help: "Population stability index of each model feature's live values against training " +
        "(> 0.25: a large shift).",
      labelNames: ["model", "feature"],
      registers,
      collect() {
        this.reset();
        for (const d of sources.drift?.() ?? []) {
          for (const f of d.features) this.set({ model: d.model, feature: f.feature }, f.psi);
        }
      },
    });
    new client.Gauge({
      name: "vigil_model_drift_rows",
      help: "Rows a model's drift figures are computed over (since its version became active).",
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const d of sources.drift?.() ?? []) this.set({ model: d.model }, d.rows);
      },
    });
    new client.Gauge({
      name: "vigil_consumer_lag_seconds",
      help: "How far behind consuming is, by topic and partition: the age of the last record " +
        "handled while records wait after it (0 when none waits).",
      labelNames: ["topic", "partition"],
      registers,
      collect() {
        this.reset();
        for (const [tp, s] of Object.entries(sources.lagSeconds?.() ?? {})) {
          this.set(topicPartition(tp), s);
        }
      },
    });
    this.#rebalances = new client.Counter({
      name: "vigil_kafka_rebalances_total",
      help: "Partition assignments this worker received (each consumer group rebalance).",
      registers,
    });
    this.#commits = new client.Counter({
      name: "vigil_kafka_commits_total",
      help: "Offset commit requests, by result (ok, failed; a failed one is covered by the next).",
      labelNames: ["result"],
      registers,
    });
    for (const result of ["ok", "failed"]) this.#commits.inc({ result }, 0);
    this.#authEvents = new client.Counter({
      name: "vigil_auth_events_total",
      help: "Auth events ingested, by type (login_success, login_failure, logout).",
      labelNames: ["type"],
      registers,
    });
    this.#transactions = new client.Counter({
      name: "vigil_transactions_total",
      help: "Transactions ingested, by type and by the status the producer gave " +
        "(success, failed, declined, pending, reversed; unknown when none or another).",
      labelNames: ["type", "status"],
      registers,
    });
    this.#ioSeconds = new client.Histogram({
      name: "vigil_io_seconds",
      help: "Time of each write that makes a batch durable: to the store (alerts, dead " +
        "letters, archive) and each produce request (alerts, dead letters, re-keyed and " +
        "signal records), by target.",
      labelNames: ["target"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#ioErrors = new client.Counter({
      name: "vigil_io_errors_total",
      help:
        "Writes to the store and produce requests that failed (retried with backoff), by target.",
      labelNames: ["target"],
      registers,
    });
    for (const target of ["store", "produce"]) this.#ioErrors.inc({ target }, 0);
    new client.Gauge({
      name: "vigil_notifications_queued",
      help: "Notifications waiting to be sent, by target (the notifier outbox).",
      labelNames: ["target"],
      registers,
      collect() {
        for (const [target, n] of Object.entries(sources.notificationsQueued?.() ?? {})) {
          this.set({ target }, n);
        }
      },
    });
    this.#inferenceErrors = new client.Counter({
      name: "vigil_inference_errors_total",
      help: "Rows whose model batch failed (each row's turn fails and is retried).",
      labelNames: ["model"],
      registers,
    });
    const takeLag = () => {
      const lag = this.#loopLag;
      this.#loopLag = 0;
      return lag;
    };
    new client.Gauge({
      name: "vigil_event_loop_lag_seconds",
      help: "How late the event loop ran a periodic timer, the worst since the last scrape.",
      registers,
      collect() {
        this.set(takeLag());
      },
    });
    new client.Gauge({
      name: "vigil_process_heap_bytes",
      help: "V8 heap in use.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().heapUsed);
      },
    });
    new client.Gauge({
      name: "vigil_process_resident_memory_bytes",
      help: "Resident set size of the process.",
      registers,
      collect() {
        this.set(Deno.memoryUsage().rss);
      },
    });
  }

  ingestedEvent(e: VigilEvent): void {
    if (e.kind === "auth") this.#child(this.#authEvents, "auth", e.type).inc();
    else if (e.kind === "transaction") {
      const raw = e.raw.status;
      const status = typeof raw === "string" && TX_STATUSES.has(raw) ? raw : "unknown";
      this.#child(this.#transactions, "tx", e.type, status).inc();
      this.kpi.transaction(e.type, e.amount);
    } else if (e.kind === "log") this.kpi.log(e.raw.level);
  }

  rollupRan(run: JobRun, finished_ms: number): void {
    this.kpi.rollupRan(run, finished_ms);
  }

  decided(kind: EventKind, ts: Float64Array, n: number, now_ms: number): void {
    this.kpi.decided(kind, ts, n, now_ms, this.#liveFromMs);
  }

  /** A store write or a produce request ended. */
  io(target: "store" | "produce", seconds: number, ok: boolean): void {
    this.#ioSeconds.observe({ target }, seconds);
    if (!ok) this.#ioErrors.inc({ target });
  }

  /** The consumer group gave this worker its partitions (again). */
  rebalanced(): void {
    this.#rebalances.inc();
  }

  /** An offset commit request ended. */
  committed(ok: boolean): void {
    this.#commits.inc({ result: ok ? "ok" : "failed" });
  }

  ingested(kind: EventKind): void {
    this.#child(this.#ingested, "in", kind).inc();
  }

  invalid(kind: EventKind | "unknown"): void {
    this.#child(this.#invalid, "bad", kind).inc();
  }

  misplaced(topic: string): void {
    this.#child(this.#misplaced, "mis", topic).inc();
  }

  deadLettered(reason: DeadLetterReason): void {
    this.#child(this.#dead, "dl", reason).inc();
  }

  activated(type: string): void {
    this.#child(this.#activations, "act", type).inc();
  }

  passivated(type: string): void {
    this.#child(this.#passivations, "pas", type).inc();
  }

  /** Shows the actor counters of these types at 0 before anything happens to them. */
  actorTypes(types: readonly string[]): void {
    for (const t of types) {
      this.#child(this.#activations, "act", t).inc(0);
      this.#child(this.#passivations, "pas", t).inc(0);
      this.#child(this.#restarts, "rst", t).inc(0);
    }
  }

  restarted(type: string): void {
    this.#child(this.#restarts, "rst", type).inc();
  }

  observed(name: string, key: string, value: number): void {
    if (name !== "page_views") return;
    this.#pageViews.delete(key);
    this.#pageViews.set(key, value);
    if (this.#pageViews.size > MAX_PAGES_FOLLOWED) {
      this.#pageViews.delete(this.#pageViews.keys().next().value!);
    }
  }

  notified(target: string, result: string, n: number): void {
    this.#notifications.inc({ target, result }, n);
  }

  /**
   * From now on, alerts whose triggering event is older than `ms` are counted but their
   * latency is not observed: the simulator's backfill plays the last minutes of traffic
   * back at start, and an alert on that history is late by the history's age, not by
   * anything the pipeline did. (Records a consumer finds late, in Kafka, are observed.)
   * `Infinity`: none observed (while the backfill plays, the live events wait behind it).
   */
  latencyFrom(ms: number): void {
    this.#liveFromMs = ms;
  }

  alertRaised(alert: Alert, latency_ms: number, decided: "watermark" | "event" = "event"): void {
    this.#alerts.inc({ rule: alert.rule, severity: alert.severity, mode: alert.mode });
    if (this.#liveFromMs > -Infinity && Date.parse(alert.timestamp) < this.#liveFromMs) return;
    const family = alert.rule.slice(0, alert.rule.indexOf(".")) || alert.rule;
    const bound = `${family}|${decided}`;
    let h = this.#latencyBound.get(bound);
    if (!h) this.#latencyBound.set(bound, h = this.#latency.labels({ family, decided }));
    h.observe(Math.max(0, latency_ms) / 1000);
  }

  gauge(name: string, delta: number): void {
    if (name === "active_users") this.kpi.activeUsers(delta);
    else if (name === "active_sessions") moveGauge(this.#sessions, delta);
  }

  checkpointWritten(chars: number, ms: number): void {
    this.#checkpoints.inc({ result: "written" });
    this.#checkpointChars.set(chars);
    this.#checkpointSeconds.observe(ms / 1000);
  }

  checkpointRestored(): void {
    this.#checkpoints.inc({ result: "restored" });
  }

  checkpointFailed(what: "write" | "restore"): void {
    this.#checkpoints.inc({ result: `${what}_failed` });
  }

  inferenceBatch(model: string, _version: string, rows: number, seconds: number): void {
    this.#inferenceSeconds.observe({ model }, seconds);
    this.#batchRows.observe({ model }, rows);
  }

  inferenceFailed(model: string, _version: string, rows: number): void {
    this.#inferenceErrors.inc({ model }, rows);
  }

  /** How late the event loop ran a timer (seconds): the worst since the last scrape. */
  eventLoopLag(seconds: number): void {
    this.#loopLag = Math.max(this.#loopLag, seconds);
  }

  modelActivated(model: string, version: string): void {
    this.#inferenceErrors.inc({ model }, 0); // shown at 0 from the start
    this.#modelVersion.reset();
    this.#active.set(model, version);
    for (const [m, v] of this.#active) this.#modelVersion.set({ model: m, version: v }, 1);
  }

  shadowed(
    model: string,
    version: string,
    result: "agree" | "disagree" | "error",
    rows: number,
  ): void {
    this.#shadow.inc({ model, version, result }, rows);
  }

  predictions(model: string, cls: string, rows: number): void {
    this.#predictions.inc({ model, class: cls }, rows);
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of the exposition text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #child(
    // deno-lint-ignore no-explicit-any
    counter: client.Counter<any>,
    prefix: string,
    ...values: string[]
  ): client.Counter.Internal {
    const id = values.length === 1 ? prefix + values[0] : prefix + values.join("|");
    let c = this.#bound.get(id);
    if (!c) this.#bound.set(id, c = counter.labels(...values));
    return c;
  }
}

/**
 * The Grafana dashboards of `deploy/grafana/dashboards/`, written from the compact
 * definitions below (`deno run --allow-write tools/dashboards.ts` rewrites them; a test
 * checks the committed files match, and the e2e test runs every panel's query against a
 * real Prometheus scraping Vigil).
 *
 * @module
 */

/** One query of a panel: PromQL (with Grafana's `$__rate_interval` and `$instance`). */
export interface Target {
  expr: string;
  legend: string;
}

interface Panel {
  title: string;
  type: "timeseries" | "stat" | "bargauge";
  unit: string;
  targets: Target[];
  description?: string;
}

/** A dashboard: its uid, title and rows of panels (each row's panels share its width). */
interface Board {
  uid: string;
  title: string;
  description: string;
  rows: Panel[][];
  /** The time range it opens on (default the last hour). */
  from?: string;
}

const R = "$__rate_interval";
/** A metric selector on the chosen instances, with more matchers if given. */
const m = (name: string, more = "") =>
  `${name}{instance=~"$instance"${more === "" ? "" : ", " + more}}`;
const rate = (name: string, more = "") => `rate(${m(name, more)}[${R}])`;
const q = (expr: string, legend: string): Target => ({ expr, legend });
const quantiles = (name: string, by: string, legend: string) =>
  [0.5, 0.95, 0.99].map((p) =>
    q(
      `histogram_quantile(${p}, sum by (le${by === "" ? "" : ", " + by}) (${
        rate(`${name}_bucket`)
      }))`,
      `p${p * 100}${legend}`,
    )
  );
const FLOWS = 'model="flow_classifier"';

const BOARDS: Board[] = [
  {
    uid: "vigil-overview",
    title: "Vigil / Overview",
    description: "Events in, alerts out, how fast, how many errors; the workers up.",
    rows: [
      [
        {
          title: "Workers up",
          type: "stat",
          unit: "short",
          targets: [q('count(up{job="vigil", instance=~"$instance"} == 1)', "up")],
        },
        {
          title: "Events ingested",
          type: "stat",
          unit: "ops",
          targets: [q(`sum(${rate("vigil_events_ingested_total")})`, "events/s")],
        },
        {
          title: "Alerts raised",
          type: "stat",
          unit: "short",
          targets: [q(`sum(${rate("vigil_alerts_total", 'mode="enforce"')}) * 60`, "alerts/min")],
        },
        {
          title: "Active sessions",
          type: "stat",
          unit: "short",
          targets: [q(`sum(${m("vigil_active_sessions")})`, "sessions")],
        },
      ],
      [
        {
          title: "Events per second by kind",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (kind) (${rate("vigil_events_ingested_total")})`, "{{kind}}")],
        },
        {
          title: "Alerts per second by rule and severity",
          type: "timeseries",
          unit: "ops",
          targets: [
            q(`sum by (rule, severity) (${rate("vigil_alerts_total")})`, "{{rule}} ({{severity}})"),
          ],
        },
      ],
      [
        {
          title: "Event-to-alert latency (pipeline p50 / p95 / p99)",
          type: "timeseries",
          unit: "s",
          description: "Event time of the decisive event to the alert being raised. Per-IP " +
            "rules and traffic spikes wait for the watermark (the allowed lateness) by design.",
          targets: quantiles("vigil_alert_latency_seconds", "", ""),
        },
        {
          title: "Error ratio (dead letters per event ingested)",
          type: "timeseries",
          unit: "percentunit",
          targets: [
            q(
              `(sum(${rate("vigil_dead_letters_total")}) or vector(0)) / sum(${
                rate("vigil_events_ingested_total")
              })`,
              "dead-lettered",
            ),
          ],
        },
      ],
    ],
  },
  {
    uid: "vigil-detections",
    title: "Vigil / Detections",
    description: "Every rule: how often, enforce or shadow, how late; the seed dashboards' " +
      "views of logins, payments, pages and intrusions.",
    rows: [
      [
        {
          title: "Alerts per minute by rule, enforce vs shadow",
          type: "timeseries",
          unit: "short",
          targets: [
            q(`sum by (rule, mode) (${rate("vigil_alerts_total")}) * 60`, "{{rule}} ({{mode}})"),
          ],
        },
        {
          title: "p99 event-to-alert latency by rule family",
          type: "timeseries",
          unit: "s",
          targets: [
            q(
              `histogram_quantile(0.99, sum by (le, family) (${
                rate("vigil_alert_latency_seconds_bucket")
              }))`,
              "{{family}}",
            ),
          ],
        },
      ],
      [
        {
          title: "Logins and logouts (trend)",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (type) (${rate("vigil_auth_events_total")})`, "{{type}}")],
        },
        {
          title: "Active sessions",
          type: "timeseries",
          unit: "short",
          targets: [q(`sum(${m("vigil_active_sessions")})`, "sessions")],
        },
      ],
      [
        {
          title: "Transactions by type",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (type) (${rate("vigil_transactions_total")})`, "{{type}}")],
        },
        {
          title: "Transaction success rate",
          type: "timeseries",
          unit: "percentunit",
          description: "Share of transactions with status success among those with a known status.",
          targets: [
            q(
              `sum(${rate("vigil_transactions_total", 'status="success"')}) / sum(${
                rate("vigil_transactions_total", 'status!="unknown"')
              })`,
              "success",
            ),
          ],
        },
      ],
      [
        {
          title: "Page views in the last 1-minute window (busiest pages)",
          type: "bargauge",
          unit: "short",
          targets: [q(`max by (page) (${m("vigil_page_views_last_window")})`, "{{page}}")],
        },
        {
          title: "Intrusion rate: flows classified as attacks",
          type: "timeseries",
          unit: "ops",
          targets: [
            q(
              `sum by (class) (${
                rate("vigil_model_predictions_total", `${FLOWS}, class!="Normal Traffic"`)
              })`,
              "{{class}}",
            ),
          ],
        },
      ],
    ],
  },
  {
    uid: "vigil-kafka",
    title: "Vigil / Kafka",
    description: "Consumer lag (records and seconds), rebalances and offset commits.",
    rows: [
      [
        {
          title: "Consumer lag (records) by topic",
          type: "timeseries",
          unit: "short",
          targets: [q(`sum by (topic) (${m("vigil_consumer_lag_messages")})`, "{{topic}}")],
        },
        {
          title: "Consumer lag (seconds) by topic",
          type: "timeseries",
          unit: "s",
          targets: [q(`max by (topic) (${m("vigil_consumer_lag_seconds")})`, "{{topic}}")],
        },
      ],
      [
        {
          title: "Rebalances (partition assignments) per worker",
          type: "timeseries",
          unit: "short",
          targets: [
            q(
              `sum by (instance) (increase(${m("vigil_kafka_rebalances_total")}[1h]))`,
              "{{instance}}",
            ),
          ],
        },
        {
          title: "Offset commits per second by result",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (result) (${rate("vigil_kafka_commits_total")})`, "{{result}}")],
        },
      ],
    ],
  },
  {
    uid: "vigil-actors",
    title: "Vigil / Actors",
    description: "Resident actors, their lifecycle and supervision, and mailboxes.",
    rows: [
      [
        {
          title: "Resident actors by type",
          type: "timeseries",
          unit: "short",
          targets: [q(`sum by (type) (${m("vigil_actors_resident")})`, "{{type}}")],
        },
        {
          title: "Activations and passivations per second by type",
          type: "timeseries",
          unit: "ops",
          targets: [
            q(`sum by (type) (${rate("vigil_actor_activations_total")})`, "activated {{type}}"),
            q(`sum by (type) (${rate("vigil_actor_passivations_total")})`, "passivated {{type}}"),
          ],
        },
      ],
      [
        {
          title: "Restarts per second by type (supervision)",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (type) (${rate("vigil_actor_restarts_total")})`, "{{type}}")],
        },
        {
          title: "Mailbox depth",
          type: "timeseries",
          unit: "short",
          targets: [
            q(`sum(${m("vigil_mailbox_depth")})`, "queued"),
            q(`max(${m("vigil_mailbox_depth_max")})`, "deepest mailbox"),
          ],
        },
      ],
    ],
  },
  {
    uid: "vigil-inference",
    title: "Vigil / Inference",
    description: "The ONNX models: batch latency and size, predictions, errors, drift, shadow.",
    rows: [
      [
        {
          title: "Batch latency (session.run) by model",
          type: "timeseries",
          unit: "s",
          targets: quantiles("vigil_inference_batch_seconds", "model", " {{model}}"),
        },
        {
          title: "Rows per batch by model (mean)",
          type: "timeseries",
          unit: "short",
          targets: [
            q(
              `sum by (model) (${rate("vigil_inference_batch_rows_sum")}) / sum by (model) (${
                rate("vigil_inference_batch_rows_count")
              })`,
              "{{model}}",
            ),
          ],
        },
      ],
      [
        {
          title: "Predictions per second by model and class",
          type: "timeseries",
          unit: "ops",
          targets: [
            q(
              `sum by (model, class) (${rate("vigil_model_predictions_total")})`,
              "{{model}} {{class}}",
            ),
          ],
        },
        {
          title: "Inference errors per second by model",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (model) (${rate("vigil_inference_errors_total")})`, "{{model}}")],
        },
      ],
      [
        {
          title: "Drift: the largest feature PSI by model (> 0.25: a large shift)",
          type: "timeseries",
          unit: "short",
          targets: [q(`max by (model) (${m("vigil_model_drift_psi")})`, "{{model}}")],
        },
        {
          title: "Active version by model",
          type: "stat",
          unit: "short",
          targets: [
            q(`max by (model, version) (${m("vigil_model_active")})`, "{{model}} v{{version}}"),
          ],
        },
      ],
    ],
  },
  {
    uid: "vigil-runtime",
    title: "Vigil / Runtime",
    description: "Each process: memory, event loop, checkpoints, store and producer, " +
      "notifications.",
    rows: [
      [
        {
          title: "Resident memory by process",
          type: "timeseries",
          unit: "bytes",
          targets: [q(m("vigil_process_resident_memory_bytes"), "{{instance}}")],
        },
        {
          title: "V8 heap in use by process",
          type: "timeseries",
          unit: "bytes",
          targets: [q(m("vigil_process_heap_bytes"), "{{instance}}")],
        },
      ],
      [
        {
          title: "Event-loop lag by process",
          type: "timeseries",
          unit: "s",
          targets: [q(m("vigil_event_loop_lag_seconds"), "{{instance}}")],
        },
        {
          title: "Checkpoint write time (p99) by process",
          type: "timeseries",
          unit: "s",
          targets: [
            q(
              `histogram_quantile(0.99, sum by (le, instance) (${
                rate("vigil_checkpoint_write_seconds_bucket")
              }))`,
              "{{instance}}",
            ),
          ],
        },
      ],
      [
        {
          title: "Notifications per second by target and result",
          type: "timeseries",
          unit: "ops",
          targets: [
            q(
              `sum by (target, result) (${rate("vigil_notifications_total")})`,
              "{{target}} {{result}}",
            ),
          ],
        },
        {
          title: "Dead letters per second by reason",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (reason) (${rate("vigil_dead_letters_total")})`, "{{reason}}")],
        },
      ],
      [
        {
          title: "Store writes and produce requests (p99)",
          type: "timeseries",
          unit: "s",
          targets: [
            q(
              `histogram_quantile(0.99, sum by (le, target) (${rate("vigil_io_seconds_bucket")}))`,
              "{{target}}",
            ),
          ],
        },
        {
          title: "Store and produce errors per second",
          type: "timeseries",
          unit: "ops",
          targets: [q(`sum by (target) (${rate("vigil_io_errors_total")})`, "{{target}}")],
        },
        {
          title: "Notifications waiting by target",
          type: "timeseries",
          unit: "short",
          targets: [q(`sum by (target) (${m("vigil_notifications_queued")})`, "{{target}}")],
        },
      ],
    ],
  },
  {
    uid: "vigil-kpis",
    title: "Vigil / KPIs",
    description: "The bank's figures over days: logins and payments per hour, the success " +
      "rate against its KPI alert, amounts, decision time, the API's requests.",
    from: "now-7d",
    rows: [
      [
        {
          title: "Transaction success rate (5 min and its last hour)",
          type: "timeseries",
          unit: "percentunit",
          description: "What VigilTransactionSuccessRateLow compares: it fires when the 5-minute " +
            "rate is more than a fifth below the last hour's.",
          targets: [
            q(
              `sum(${rate("vigil_transactions_total", 'status="success"')}) / sum(${
                rate("vigil_transactions_total", 'status=~"success|failed|declined|reversed"')
              })`,
              "success",
            ),
            q(
              `sum(rate(${m("vigil_transactions_total", 'status="success"')}[1h])) / sum(rate(${
                m("vigil_transactions_total", 'status=~"success|failed|declined|reversed"')
              }[1h]))`,
              "success, last hour",
            ),
          ],
        },
        {
          title: "Active users (with an open session)",
          type: "stat",
          unit: "short",
          targets: [q(`sum(${m("vigil_active_users")})`, "users")],
        },
      ],
      [
        {
          title: "Logins and logouts per hour",
          type: "timeseries",
          unit: "short",
          targets: [q(`sum by (type) (increase(${m("vigil_auth_events_total")}[1h]))`, "{{type}}")],
        },
        {
          title: "Transactions per hour by type and status",
          type: "timeseries",
          unit: "short",
          targets: [
            q(
              `sum by (type, status) (increase(${m("vigil_transactions_total")}[1h]))`,
              "{{type}} {{status}}",
            ),
          ],
        },
      ],
      [
        {
          title: "Transactions per day by type",
          type: "timeseries",
          unit: "short",
          targets: [
            q(`sum by (type) (increase(${m("vigil_transactions_total")}[1d]))`, "{{type}}"),
          ],
        },
        {
          title: "Transaction amounts (p50 / p95 / p99, currency units)",
          type: "timeseries",
          unit: "short",
          targets: quantiles("vigil_transaction_amount", "", ""),
        },
        {
          title: "Amount distribution over the last hour",
          type: "bargauge",
          unit: "short",
          description: "Transactions per amount bucket (up to the bucket's bound).",
          targets: [
            q(`sum by (le) (increase(${m("vigil_transaction_amount_bucket")}[1h]))`, "≤ {{le}}"),
          ],
        },
      ],
      [
        {
          title: "Event to decision (p99) by kind",
          type: "timeseries",
          unit: "s",
          targets: [
            q(
              `histogram_quantile(0.99, sum by (le, kind) (${
                rate("vigil_event_decision_seconds_bucket")
              }))`,
              "{{kind}}",
            ),
          ],
        },
        {
          title: "Error and warning logs per minute",
          type: "timeseries",
          unit: "short",
          targets: [
            q(
              `sum by (level) (${rate("vigil_log_events_total", 'level=~"error|warn"')}) * 60`,
              "{{level}}",
            ),
          ],
        },
      ],
      [
        {
          title: "API requests per second by route and status",
          type: "timeseries",
          unit: "ops",
          targets: [
            q(
              `sum by (route, status) (${rate("vigil_http_requests_total")})`,
              "{{route}} {{status}}",
            ),
          ],
        },
        {
          title: "API response time (p99) by route",
          type: "timeseries",
          unit: "s",
          targets: [
            q(
              `histogram_quantile(0.99, sum by (le, route) (${
                rate("vigil_http_request_duration_seconds_bucket")
              }))`,
              "{{route}}",
            ),
          ],
        },
      ],
    ],
  },
];

const DATASOURCE = { type: "prometheus", uid: "prometheus" };

/** A board as Grafana's dashboard JSON. */
function toJson(b: Board): Record<string, unknown> {
  let id = 0;
  const panels = b.rows.flatMap((row, r) =>
    row.map((p, i) => {
      const w = Math.floor(24 / row.length);
      const height = p.type === "stat" ? 4 : 8;
      return {
        id: ++id,
        type: p.type,
        title: p.title,
        ...(p.description ? { description: p.description } : {}),
        datasource: DATASOURCE,
        gridPos: { x: i * w, y: r * 8, w, h: height },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: p.type === "timeseries"
          ? { legend: { displayMode: "list", placement: "bottom", showLegend: true } }
          : {},
        targets: p.targets.map((t, k) => ({
          refId: String.fromCharCode(65 + k),
          datasource: DATASOURCE,
          expr: t.expr,
          legendFormat: t.legend,
        })),
      };
    })
  );
  return {
    uid: b.uid,
    title: b.title,
    description: b.description,
    tags: ["vigil"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh: "30s",
    time: { from: b.from ?? "now-1h", to: "now" },
    templating: {
      list: [{
        name: "instance",
        label: "Worker",
        type: "query",
        datasource: DATASOURCE,
        query: { query: 'label_values(up{job="vigil"}, instance)', refId: "instances" },
        definition: 'label_values(up{job="vigil"}, instance)',
        refresh: 2,
        multi: true,
        includeAll: true,
        allValue: ".+",
        current: { selected: true, text: ["All"], value: ["$__all"] },
      }],
    },
    panels,
  };
}

/** Every dashboard: file name and JSON text. */
export function dashboards(): { file: string; text: string }[] {
  return BOARDS.map((b) => ({
    file: `${b.uid}.json`,
    text: JSON.stringify(toJson(b), null, 2) + "\n",
  }));
}

/** Every panel query of every dashboard, with its dashboard and panel. */
export function panelQueries(): { board: string; panel: string; expr: string }[] {
  return BOARDS.flatMap((b) =>
    b.rows.flat().flatMap((p) =>
      p.targets.map((t) => ({ board: b.uid, panel: p.title, expr: t.expr }))
    )
  );
}

if (import.meta.main) {
  const dir = new URL("../deploy/grafana/dashboards/", import.meta.url);
  for (const d of dashboards()) await Deno.writeTextFile(new URL(d.file, dir), d.text);
  console.log(`wrote ${dashboards().length} dashboards`);
}

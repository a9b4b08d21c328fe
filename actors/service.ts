/**
 * The per-service actor (key `service`: log and metric events, the event platform's
 * seed): `svc.error_burst`, `svc.high_cpu`, `svc.high_latency` and `svc.metric_anomaly`
 * (docs/detections.md). One alert per rule (per metric, for anomalies) and episode, with the
 * cool-down.
 *
 * @module
 */

import type { AlertLimits, ServiceRules } from "../config/defaults.ts";
import type { OtherEvent } from "../events/types.ts";
import { addSample, judge, type MetricBaseline } from "./rules/metric_anomaly.ts";
import type { AlertDraft, Behaviour, Effect, Step } from "./types.ts";
import { NO_EFFECTS } from "./types.ts";
import { addRecent, cooledDown, EMPTY_RECENT, type Recent } from "./window.ts";
import { entryOf, type Keyed, keyedCopy, NO_ENTRIES, withEntry } from "./keyed.ts";

/** The actor type name. */
export const SERVICE = "service";

/** Messages a service actor understands. */
export type ServiceMessage = { kind: "event"; event: OtherEvent };

/** A service's state. Never mutated: each turn returns a new one. */
export interface ServiceState {
  readonly logs: number;
  readonly metrics: number;
  /** Recent ERROR and FATAL logs (time, id, message). */
  readonly errors: Recent;
  /** The current run of samples above the limit (event ids), per sustained rule. */
  readonly cpu_run: readonly string[];
  readonly latency_run: readonly string[];
  /** Per metric (numeric field of metric events, any name): its baseline. */
  readonly baselines: Keyed<MetricBaseline>;
  /** Event time of the last alert per rule (and metric). */
  readonly cooldowns: Keyed<number>;
}

const NONE: readonly string[] = Object.freeze([]);

const INITIAL: ServiceState = Object.freeze({
  logs: 0,
  metrics: 0,
  errors: EMPTY_RECENT,
  cpu_run: NONE,
  latency_run: NONE,
  baselines: NO_ENTRIES,
  cooldowns: NO_ENTRIES,
});

/** The parameters a service actor reads on every turn. */
export interface ServiceParams {
  svc: ServiceRules;
  alerts: AlertLimits;
}

/** Fields of a metric event that are not metrics. */
const NOT_METRICS = new Set(["timestamp", "event_id", "kind", "service"]);

/** The service behaviour. */
export function serviceBehaviour(params: ServiceParams): Behaviour<ServiceState, ServiceMessage> {
  return {
    type: SERVICE,
    initial: () => INITIAL,
    receive: (state, message, ctx) => receive(state, message.event, ctx.self.key, params),
    view,
  };
}

function receive(
  s: ServiceState,
  e: OtherEvent,
  key: string,
  p: ServiceParams,
): Step<ServiceState> {
  const effects: Effect[] = [];
  let cooldowns = s.cooldowns;
  const raise = (alert: AlertDraft | null, slot = alert?.rule ?? "") => {
    if (!alert) return;
    if (!cooledDown(entryOf(cooldowns, slot), alert.ts, p.alerts.cooldown_ms)) return;
    cooldowns = withEntry(cooldowns, slot, alert.ts);
    effects.push({ kind: "alert", alert });
  };
  let next: ServiceState;
  if (e.kind === "log") {
    next = { ...s, logs: s.logs + 1 };
    const level = e.raw.level;
    if (level === "ERROR" || level === "FATAL") {
      const r = p.svc;
      const message = String(e.raw.message).slice(0, 200);
      next = {
        ...next,
        errors: addRecent(
          s.errors,
          e.ts,
          e.event_id,
          message,
          r.error_burst_window_ms,
          r.error_burst_max + 1,
        ),
      };
      if (next.errors.ts.length > r.error_burst_max) raise(errorBurst(next.errors, key, e.ts, r));
    }
  } else {
    next = { ...s, metrics: s.metrics + 1 };
    const r = p.svc;
    const cpu = e.raw.cpu, latency = e.raw.latency_ms;
    if (typeof cpu === "number") {
      next = { ...next, cpu_run: run(s.cpu_run, cpu > r.high_cpu_percent, e.event_id, r) };
      if (next.cpu_run.length === r.sustained_samples && cpu > r.high_cpu_percent) {
        raise(
          sustained("svc.high_cpu", key, e.ts, cpu, r.high_cpu_percent, "percent", next.cpu_run),
        );
      }
    }
    if (typeof latency === "number") {
      next = {
        ...next,
        latency_run: run(s.latency_run, latency > r.high_latency_ms, e.event_id, r),
      };
      if (next.latency_run.length === r.sustained_samples && latency > r.high_latency_ms) {
        raise(
          sustained(
            "svc.high_latency",
            key,
            e.ts,
            latency,
            r.high_latency_ms,
            "ms",
            next.latency_run,
          ),
        );
      }
    }
    // One copy of the baselines per event, however many metrics it carries. Metric names
    // are the event's field names: any name, `constructor` and `__proto__` too.
    const baselines = keyedCopy(s.baselines);
    let followed = Object.keys(baselines).length;
    for (const [name, v] of Object.entries(e.raw)) {
      if (typeof v !== "number" || !Number.isFinite(v) || NOT_METRICS.has(name)) continue;
      const b = entryOf(baselines, name) ?? null;
      if (!b && followed >= r.max_metrics) continue;
      if (!b) followed++;
      const j = judge(b, v, e.ts, r);
      const anomalous = Object.keys(j.flagged).length >= r.anomaly_min_methods;
      // Sustained, as the CPU and latency limits: a deploy's brief blip is not an anomaly.
      if (anomalous && b !== null && b.anomalous + 1 === r.sustained_samples) {
        raise(
          {
            rule: "svc.metric_anomaly",
            severity: "medium",
            entity: { type: SERVICE, key },
            ts: e.ts,
            evidence: { metric: name, value: v, methods: j.flagged, judged_by: j.judged },
            event_ids: [e.event_id],
            dedup: `${name}>${e.event_id}`,
          },
          `svc.metric_anomaly:${name}`,
        );
      }
      baselines[name] = addSample(b, v, e.ts, anomalous);
    }
    next = { ...next, baselines };
  }
  next = { ...next, cooldowns };
  return { state: next, effects: effects.length > 0 ? effects : NO_EFFECTS };
}

/** The run of samples above a limit after one more (reset by one at or below it). */
function run(
  ids: readonly string[],
  above: boolean,
  id: string,
  r: ServiceRules,
): readonly string[] {
  if (!above) return NONE;
  const next = [...ids, id];
  return next.length > r.sustained_samples ? next.slice(next.length - r.sustained_samples) : next;
}

function sustained(
  rule: string,
  key: string,
  ts: number,
  value: number,
  limit: number,
  unit: string,
  ids: readonly string[],
): AlertDraft {
  return {
    rule,
    severity: "medium",
    entity: { type: SERVICE, key },
    ts,
    evidence: { value, limit, unit, samples_in_a_row: ids.length },
    event_ids: [...ids],
    dedup: ids[0]!,
  };
}

function errorBurst(w: Recent, key: string, ts: number, r: ServiceRules): AlertDraft {
  return {
    rule: "svc.error_burst",
    severity: "medium",
    entity: { type: SERVICE, key },
    ts,
    evidence: {
      errors: w.ts.length,
      max: r.error_burst_max,
      window_s: r.error_burst_window_ms / 1000,
      first: new Date(w.ts[0]!).toISOString(),
      messages: [...new Set(w.tags)].slice(0, 3),
    },
    event_ids: [...w.ids],
    dedup: w.ids[0]!,
  };
}

function view(s: ServiceState): unknown {
  return {
    logs: s.logs,
    metrics: s.metrics,
    recent_errors: s.errors.ts.length,
    cpu_samples_above_limit: s.cpu_run.length,
    latency_samples_above_limit: s.latency_run.length,
    baselines: Object.fromEntries(
      Object.entries(s.baselines).map(([name, b]) => [name, {
        samples: b.n,
        mean: Math.round(b.mean * 1000) / 1000,
        std: Math.round(Math.sqrt(b.variance) * 1000) / 1000,
      }]),
    ),
  };
}

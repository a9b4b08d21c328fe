/**
 * `svc.metric_anomaly` (docs/detections.md, the seed's methods): a metric of a service departs
 * from its own baseline. Four methods, each with its own view of "normal":
 *
 * - `zscore`: |x − mean| / σ of an exponential average over about the last 100 samples;
 * - `iqr`: outside [Q1 − k·IQR, Q3 + k·IQR] of the last 60 samples;
 * - `ewma`: off the short exponential average (weight 0.3) by more than z times its
 *   average absolute deviation (a moving-average band);
 * - `hour_of_day`: |z| against the same hour's own average, once a day of history exists.
 *
 * The rule fires when at least `anomaly_min_methods` of the methods that can judge agree,
 * and the alert says which. Pure functions in event time.
 *
 * @module
 */

import type { ServiceRules } from "../../config/defaults.ts";

/** What a service remembers of one metric. */
export interface MetricBaseline {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
  readonly short: number;
  readonly short_dev: number;
  /** The last samples, oldest first (at most `RECENT`). */
  readonly recent: readonly number[];
  readonly first_ms: number;
  /** Per hour of day (UTC): samples, mean, variance, as 72 numbers. */
  readonly hours: readonly number[];
  /** Samples in a row, up to the last, that enough methods found anomalous. */
  readonly anomalous: number;
}

/** The methods' names. */
export type Method = "zscore" | "iqr" | "ewma" | "hour_of_day";

/** What each method that could judge a sample found. */
export interface Judgement {
  /** The methods that could judge (enough history). */
  judged: Method[];
  /** The methods that found the sample anomalous, with what they saw. */
  flagged: Partial<Record<Method, Record<string, number>>>;
}

const RECENT = 60;
const LONG_WEIGHT = 2 / 101;
const SHORT_WEIGHT = 0.3;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Judges sample `x` at `ts` against the baseline before it. */
export function judge(b: MetricBaseline | null, x: number, ts: number, r: ServiceRules): Judgement {
  const out: Judgement = { judged: [], flagged: {} };
  if (!b || b.n < r.anomaly_min_samples) return out;
  const std = Math.sqrt(b.variance);
  out.judged.push("zscore");
  if (std > 0 && Math.abs(x - b.mean) / std > r.anomaly_z) {
    out.flagged.zscore = { z: round((x - b.mean) / std), mean: round(b.mean), std: round(std) };
  }
  const sorted = [...b.recent].sort((p, q) => p - q);
  const q1 = quantile(sorted, 0.25), q3 = quantile(sorted, 0.75), iqr = q3 - q1;
  if (iqr > 0) {
    out.judged.push("iqr");
    const lo = q1 - r.anomaly_iqr * iqr, hi = q3 + r.anomaly_iqr * iqr;
    if (x < lo || x > hi) {
      out.flagged.iqr = { q1: round(q1), q3: round(q3), low: round(lo), high: round(hi) };
    }
  }
  if (b.short_dev > 0) {
    out.judged.push("ewma");
    const band = r.anomaly_z * b.short_dev;
    if (Math.abs(x - b.short) > band) {
      out.flagged.ewma = { average: round(b.short), band: round(band) };
    }
  }
  const h = hourOf(ts);
  const [hn, hmean, hvar] = [b.hours[3 * h]!, b.hours[3 * h + 1]!, b.hours[3 * h + 2]!];
  if (ts - b.first_ms >= DAY_MS && hn >= 3 && hvar > 0) {
    out.judged.push("hour_of_day");
    const z = (x - hmean) / Math.sqrt(hvar);
    if (Math.abs(z) > r.anomaly_z) {
      out.flagged.hour_of_day = { hour: h, z: round(z), mean: round(hmean) };
    }
  }
  return out;
}

/** The baseline after sample `x` at `ts`. */
export function addSample(
  b: MetricBaseline | null,
  x: number,
  ts: number,
  anomalous = false,
): MetricBaseline {
  if (!b) {
    const hours = new Array<number>(72).fill(0);
    hours[3 * hourOf(ts)] = 1;
    hours[3 * hourOf(ts) + 1] = x;
    return {
      n: 1,
      mean: x,
      variance: 0,
      short: x,
      short_dev: 0,
      recent: [x],
      first_ms: ts,
      hours,
      anomalous: 0,
    };
  }
  const n = b.n + 1;
  const [mean, variance] = ewm(b.mean, b.variance, x, Math.max(1 / n, LONG_WEIGHT));
  const dev = Math.abs(x - b.short);
  const short = b.short + SHORT_WEIGHT * (x - b.short);
  const short_dev = b.short_dev + SHORT_WEIGHT * (dev - b.short_dev);
  const recent = b.recent.length >= RECENT ? [...b.recent.slice(1), x] : [...b.recent, x];
  const hours = b.hours.slice();
  const h = hourOf(ts);
  const hn = hours[3 * h]! + 1;
  const [hm, hv] = hn === 1
    ? [x, 0]
    : ewm(hours[3 * h + 1]!, hours[3 * h + 2]!, x, Math.max(1 / hn, 0.1));
  hours[3 * h] = Math.min(hn, 1_000_000);
  hours[3 * h + 1] = hm;
  hours[3 * h + 2] = hv;
  return {
    n: Math.min(n, 1_000_000),
    mean,
    variance,
    short,
    short_dev,
    recent,
    first_ms: Math.min(b.first_ms, ts),
    hours,
    anomalous: anomalous ? b.anomalous + 1 : 0,
  };
}

/** An exponentially weighted mean and variance after `x` with weight `w`. */
function ewm(mean: number, variance: number, x: number, w: number): [number, number] {
  const diff = x - mean;
  return [mean + w * diff, (1 - w) * (variance + w * diff * diff)];
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function hourOf(ts: number): number {
  return Math.floor((((ts % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

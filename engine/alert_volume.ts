/**
 * Alert volume per rule over event time, for the console's charts: the alerts this
 * process published, counted in bars of `volume_bucket_s`, the newest `volume_buckets`
 * bars of at most `volume_max_rules` rules. Alerts older than the oldest bar kept are
 * not counted. Pure bookkeeping: the outbox's listener feeds it.
 *
 * @module
 */

import type { ConsoleLimits } from "../config/defaults.ts";
import type { Alert } from "../events/types.ts";

/** The limits of the counts. */
export type VolumeLimits = Pick<
  ConsoleLimits,
  "volume_bucket_s" | "volume_buckets" | "volume_max_rules"
>;

/** Counts per bar for some rules, on one time line. */
export interface VolumeSeries {
  bucket_s: number;
  /** Start of the first bar (ISO-8601, event time), or null when nothing was counted. */
  from: string | null;
  /** Bars on the time line. */
  buckets: number;
  /** Each rule's counts, one a bar, oldest first. */
  series: { rule: string; counts: number[]; total: number }[];
}

/** Alert counts per rule and bar of event time. */
export class AlertVolume {
  /** rule → bar index (start ms / bucket ms) → count. */
  #counts = new Map<string, Map<number, number>>();
  /** Index of the newest bar seen. */
  #newest = -Infinity;
  readonly #bucketMs: number;

  constructor(readonly limits: VolumeLimits) {
    this.#bucketMs = limits.volume_bucket_s * 1000;
  }

  /** Counts alerts by their rule and event time. */
  add(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      const ms = Date.parse(a.timestamp);
      if (!Number.isFinite(ms)) continue;
      const bar = Math.floor(ms / this.#bucketMs);
      if (bar <= this.#newest - this.limits.volume_buckets) continue;
      let bars = this.#counts.get(a.rule);
      if (!bars) {
        if (this.#counts.size >= this.limits.volume_max_rules) continue;
        this.#counts.set(a.rule, bars = new Map());
      }
      bars.set(bar, (bars.get(bar) ?? 0) + 1);
      if (bar > this.#newest) {
        this.#newest = bar;
        this.#forgetBefore(bar - this.limits.volume_buckets + 1);
      }
    }
  }

  #forgetBefore(oldest: number): void {
    for (const bars of this.#counts.values()) {
      for (const bar of bars.keys()) if (bar < oldest) bars.delete(bar);
    }
  }

  /** The last `buckets` bars (at most those kept) of `rule`, or of every rule counted. */
  series(buckets: number, rule?: string): VolumeSeries {
    const n = Math.max(1, Math.min(buckets, this.limits.volume_buckets));
    const bucket_s = this.limits.volume_bucket_s;
    if (!Number.isFinite(this.#newest)) return { bucket_s, from: null, buckets: n, series: [] };
    const first = this.#newest - n + 1;
    const rules = rule === undefined ? [...this.#counts.keys()].sort() : [rule];
    const series = rules.map((r) => {
      const bars = this.#counts.get(r);
      const counts = Array.from({ length: n }, (_, i) => bars?.get(first + i) ?? 0);
      return { rule: r, counts, total: counts.reduce((s, c) => s + c, 0) };
    });
    return { bucket_s, from: new Date(first * this.#bucketMs).toISOString(), buckets: n, series };
  }
}

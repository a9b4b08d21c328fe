/**
 * `GET /api/v1/stats`: the roll-ups of a range summed for a reader: events per kind,
 * alerts per rule and per severity, and per transaction type and status their count, sum
 * and amount percentiles (from the roll-ups' amount buckets).
 *
 * @module
 */

import { amountQuantile, type RollupRow } from "../io/rollups.ts";
import { AMOUNT_BUCKETS } from "../io/kpi_metrics.ts";

/** One transaction type and status over the range. */
export interface AmountSummary {
  type: string;
  status: string;
  count: number;
  sum: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

/** The totals of roll-up rows. */
export interface Totals {
  events: Record<string, number>;
  alerts_by_rule: Record<string, number>;
  alerts_by_severity: Record<string, number>;
  amounts: AmountSummary[];
}

/** Sums rows into their totals. */
export function totalsOf(rows: readonly RollupRow[]): Totals {
  const events: Record<string, number> = {};
  const byRule: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  const amounts = new Map<
    string,
    { type: string; status: string; n: number; sum: number; b: number[] }
  >();
  const add = (m: Record<string, number>, k: string, n: number) => m[k] = (m[k] ?? 0) + n;
  for (const r of rows) {
    if (r.kind === "alert") {
      add(byRule, r.type, r.count);
      add(bySeverity, r.status, r.count);
      continue;
    }
    add(events, r.kind, r.count);
    if (r.kind !== "transaction") continue;
    const id = `${r.type}|${r.status}`;
    let a = amounts.get(id);
    if (!a) {
      amounts.set(id, a = { type: r.type, status: r.status, n: 0, sum: 0, b: [] });
      a.b = new Array(AMOUNT_BUCKETS.length + 1).fill(0);
    }
    a.n += r.count;
    a.sum += r.amount_sum;
    r.amount_buckets.forEach((n, i) => a.b[i] = (a.b[i] ?? 0) + n);
  }
  const round = (x: number | null) => x === null ? null : Math.round(x * 100) / 100;
  return {
    events,
    alerts_by_rule: byRule,
    alerts_by_severity: bySeverity,
    amounts: [...amounts.values()].sort((x, y) => y.n - x.n).map((a) => ({
      type: a.type,
      status: a.status,
      count: a.n,
      sum: Math.round(a.sum * 100) / 100,
      p50: round(amountQuantile(a.b, 0.5)),
      p95: round(amountQuantile(a.b, 0.95)),
      p99: round(amountQuantile(a.b, 0.99)),
    })),
  };
}

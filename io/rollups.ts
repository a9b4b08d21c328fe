/**
 * Roll-ups: the archive and the alerts counted per hour and per day (issue 17), the
 * earlier pipelines' batch trend jobs. One row per period, kind and its two keys:
 *
 * | kind          | `type`                          | `status`               |
 * | ------------- | ------------------------------- | ---------------------- |
 * | `auth`        | login_success, login_failure, … | ""                     |
 * | `transaction` | transfer, payment, …            | the producer's status  |
 * | `click`       | the page                        | ""                     |
 * | `log`         | the level                       | the service            |
 * | `flow`, `metric` | ""                           | ""                     |
 * | `alert`       | the rule                        | the severity           |
 *
 * Transactions carry their amounts' sum and counts per amount bucket
 * (`AMOUNT_BUCKETS`, the last one above every bound), so percentiles come from the
 * buckets as Prometheus's `histogram_quantile` does. MongoDB computes them with
 * aggregation pipelines (`io/mongo_rollups.ts`); the in-memory store by the same rule
 * over what it holds (`rollupEvents` below).
 *
 * @module
 */

import { AMOUNT_BUCKETS } from "./kpi_metrics.ts";
import type { Alert } from "../events/types.ts";

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** A roll-up period. */
export type Period = "hour" | "day";

/** The length of a period. */
export const PERIOD_MS: Readonly<Record<Period, number>> = Object.freeze({
  hour: HOUR_MS,
  day: DAY_MS,
});

/** One roll-up row (see the module's table). */
export interface RollupRow {
  period: Period;
  /** The period's start (ms, UTC). */
  start_ms: number;
  kind: string;
  type: string;
  status: string;
  count: number;
  /** Transactions: the sum of their amounts (else 0). */
  amount_sum: number;
  /** Transactions: how many in each amount bucket (`AMOUNT_BUCKETS`, then above all). */
  amount_buckets: number[];
}

/** Which roll-up rows a query wants: a period, a range of starts, a kind. */
export interface RollupQuery {
  period: Period;
  from_ms: number;
  to_ms: number;
  kind?: string;
}

/** The start of the period holding `ms`. */
export function periodStart(ms: number, period: Period): number {
  return ms - (((ms % PERIOD_MS[period]) + PERIOD_MS[period]) % PERIOD_MS[period]);
}

/** The bucket of an amount: the first bound at or above it (the last: above every bound). */
export function amountBucket(amount: number): number {
  for (let i = 0; i < AMOUNT_BUCKETS.length; i++) if (amount <= AMOUNT_BUCKETS[i]!) return i;
  return AMOUNT_BUCKETS.length;
}

/** The keys of an archived event's row: its `type` and `status` (the module's table). */
export function rowKeys(kind: string, raw: Record<string, unknown>): [string, string] {
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  switch (kind) {
    case "click":
      return [text(raw.page), ""];
    case "log":
      return [text(raw.level), text(raw.service)];
    case "auth":
      return [text(raw.type), ""];
    case "transaction":
      return [text(raw.type), text(raw.status)];
    default:
      return ["", ""];
  }
}

/** A row's identity: its period, start, kind and keys. */
export function rowId(r: Pick<RollupRow, "period" | "start_ms" | "kind" | "type" | "status">) {
  return `${r.period}|${r.start_ms}|${r.kind}|${r.type}|${r.status}`;
}

/** Adds a row's count, sum and buckets to another's. */
function sumInto(into: RollupRow, r: RollupRow): void {
  into.count += r.count;
  into.amount_sum += r.amount_sum;
  for (let i = 0; i < into.amount_buckets.length; i++) {
    into.amount_buckets[i]! += r.amount_buckets[i] ?? 0;
  }
}

/** An empty row. */
function row(period: Period, start_ms: number, kind: string, type: string, status: string) {
  return {
    period,
    start_ms,
    kind,
    type,
    status,
    count: 0,
    amount_sum: 0,
    amount_buckets: new Array<number>(AMOUNT_BUCKETS.length + 1).fill(0),
  };
}

/** What the roll-ups read of an archived event (`ArchivedEvent` in `store.ts`). */
export interface CountedEvent {
  kind: string;
  ts: number;
  raw: Record<string, unknown>;
}

/**
 * Hourly rows counted as events and alerts come: what `rollupEvents` gives at once, kept
 * up to date one event at a time (the in-memory store counts its archive this way, so its
 * roll-ups outlive the bounded raw archive).
 */
export class HourCounter {
  readonly rows = new Map<string, RollupRow>();

  #row(kind: string, ts: number, type: string, status: string): RollupRow {
    const start = periodStart(ts, "hour");
    const id = rowId({ period: "hour", start_ms: start, kind, type, status });
    let r = this.rows.get(id);
    if (!r) this.rows.set(id, r = row("hour", start, kind, type, status));
    r.count++;
    return r;
  }

  /** Counts an archived event in its hour. */
  event(e: CountedEvent): void {
    const [type, status] = rowKeys(e.kind, e.raw);
    const r = this.#row(e.kind, e.ts, type, status);
    const amount = e.raw.amount;
    if (e.kind === "transaction" && typeof amount === "number") {
      r.amount_sum += amount;
      r.amount_buckets[amountBucket(amount)]!++;
    }
  }

  /** Counts an alert in its hour (its rule and severity). */
  alert(a: Alert): void {
    this.#row("alert", Date.parse(a.timestamp), a.rule, a.severity);
  }

  /** Adds hourly rows (counted elsewhere by the same rule) to these. */
  add(rows: Iterable<RollupRow>): void {
    for (const h of rows) {
      const id = rowId(h);
      let r = this.rows.get(id);
      if (!r) this.rows.set(id, r = row("hour", h.start_ms, h.kind, h.type, h.status));
      sumInto(r, h);
    }
  }

  /** Copies of the rows starting in [from_ms, to_ms). */
  within(from_ms: number, to_ms: number): RollupRow[] {
    const out: RollupRow[] = [];
    for (const r of this.rows.values()) {
      if (r.start_ms >= from_ms && r.start_ms < to_ms) {
        out.push({ ...r, amount_buckets: [...r.amount_buckets] });
      }
    }
    return out;
  }
}

/**
 * The hourly rows of these events and alerts, in a stable order (by start, kind, type,
 * status): what the MongoDB pipelines compute, by the same rule.
 */
export function rollupEvents(
  events: Iterable<CountedEvent>,
  alerts: Iterable<Alert>,
  range: { from_ms: number; to_ms: number },
): RollupRow[] {
  const counter = new HourCounter();
  for (const e of events) {
    if (e.ts >= range.from_ms && e.ts < range.to_ms) counter.event(e);
  }
  for (const a of alerts) {
    const ts = Date.parse(a.timestamp);
    if (ts >= range.from_ms && ts < range.to_ms) counter.alert(a);
  }
  return finishRows([...counter.rows.values()]);
}

/** The daily rows of hourly rows (their sums per day). */
export function daysOf(hours: Iterable<RollupRow>): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const h of hours) {
    const start = periodStart(h.start_ms, "day");
    const id = rowId({ ...h, period: "day", start_ms: start });
    let d = rows.get(id);
    if (!d) rows.set(id, d = row("day", start, h.kind, h.type, h.status));
    sumInto(d, h);
  }
  return finishRows([...rows.values()]);
}

/**
 * Rows as both stores give them: amount sums to a millionth (the order a database adds in
 * moves the last bits), in their stable order.
 */
export function finishRows(rows: RollupRow[]): RollupRow[] {
  for (const r of rows) r.amount_sum = Math.round(r.amount_sum * 1e6) / 1e6;
  return rows.sort((a, b) =>
    a.start_ms - b.start_ms || cmp(a.kind, b.kind) || cmp(a.type, b.type) ||
    cmp(a.status, b.status)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The `q` quantile (0–1) of amounts counted per bucket, interpolated within its bucket
 * as `histogram_quantile` does (the first bucket from 0; above the last bound, that
 * bound); null with no amounts.
 */
export function amountQuantile(buckets: readonly number[], q: number): number | null {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < buckets.length; i++) {
    const n = buckets[i]!;
    if (below + n >= rank && n > 0) {
      if (i >= AMOUNT_BUCKETS.length) return AMOUNT_BUCKETS.at(-1)!;
      const lo = i === 0 ? 0 : AMOUNT_BUCKETS[i - 1]!, hi = AMOUNT_BUCKETS[i]!;
      return lo + (hi - lo) * ((rank - below) / n);
    }
    below += n;
  }
  return AMOUNT_BUCKETS.at(-1)!;
}

/**
 * The roll-ups on MongoDB (`io/rollups.ts`): aggregation pipelines over the raw archive
 * (`raw_events`) and the alerts, grouped per hour and merged into `rollups` (one document
 * per period, kind and keys, its `_id` those five: re-running an hour replaces its rows),
 * then the days from the hours. The database does the counting; this module only builds
 * the pipelines and reads the rows back.
 *
 * @module
 */

import type { Collection, Db, Document } from "mongodb";
import { AMOUNT_BUCKETS } from "./kpi_metrics.ts";
import {
  DAY_MS,
  finishRows,
  HOUR_MS,
  type Period,
  periodStart,
  type RollupQuery,
  type RollupRow,
} from "./rollups.ts";

/** A roll-up document: its identity as `_id`, its sums, its amount buckets `b0`… */
type RollupDoc = {
  _id: { p: Period; s: number; k: string; t: string; st: string };
  count: number;
  amount_sum: number;
} & Record<string, unknown>;

const BUCKETS = AMOUNT_BUCKETS.length + 1;

/** The pipeline stage fields of the amount buckets of a transaction (`amount` an expression). */
function bucketSums(isTransaction: unknown, amount: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < BUCKETS; i++) {
    const conds: unknown[] = [isTransaction];
    if (i > 0) conds.push({ $gt: [amount, AMOUNT_BUCKETS[i - 1]!] });
    if (i < AMOUNT_BUCKETS.length) conds.push({ $lte: [amount, AMOUNT_BUCKETS[i]!] });
    out[`b${i}`] = { $sum: { $cond: [{ $and: conds }, 1, 0] } };
  }
  return out;
}

/** `$ts` floored to its hour. */
const hourOf = (field: string) => ({ $subtract: [field, { $mod: [field, HOUR_MS] }] });

const text = (field: string) => ({ $ifNull: [field, ""] });
const isKind = (kind: string) => ({ $eq: ["$kind", kind] });

/** The roll-ups of one database. */
export class MongoRollups {
  #db: Db;
  #rows: Collection<RollupDoc>;

  constructor(db: Db) {
    this.#db = db;
    this.#rows = db.collection<RollupDoc>("rollups");
  }

  /**
   * Rolls up the hours that hold [from_ms, to_ms) (whole hours: each is recomputed from
   * everything the archive and the alerts hold of it), then the days that hold them.
   * Returns the rows written.
   */
  async rollup(from_ms: number, to_ms: number): Promise<number> {
    const from = periodStart(from_ms, "hour");
    const to = periodStart(to_ms - 1, "hour") + HOUR_MS;
    const into = { $merge: { into: "rollups", whenMatched: "replace", whenNotMatched: "insert" } };
    // Hours first: the hours' rows of the range are replaced (an hour that lost all its
    // events to the archive's retention keeps its rows).
    await this.#db.collection("raw_events").aggregate([
      { $match: { ts: { $gte: from, $lt: to } } },
      {
        $group: {
          _id: {
            p: "hour",
            s: hourOf("$ts"),
            k: "$kind",
            t: {
              $cond: [
                isKind("click"),
                text("$raw.page"),
                {
                  $cond: [
                    isKind("log"),
                    text("$raw.level"),
                    {
                      $cond: [
                        { $or: [isKind("auth"), isKind("transaction")] },
                        text("$raw.type"),
                        "",
                      ],
                    },
                  ],
                },
              ],
            },
            st: {
              $cond: [
                isKind("log"),
                text("$raw.service"),
                { $cond: [isKind("transaction"), text("$raw.status"), ""] },
              ],
            },
          },
          count: { $sum: 1 },
          amount_sum: { $sum: { $cond: [isKind("transaction"), "$raw.amount", 0] } },
          ...bucketSums(isKind("transaction"), "$raw.amount"),
        },
      },
      into,
    ]).toArray();
    await this.#db.collection("alerts").aggregate([
      { $match: { ts_ms: { $gte: from, $lt: to } } },
      {
        $group: {
          _id: { p: "hour", s: hourOf("$ts_ms"), k: "alert", t: "$rule", st: "$severity" },
          count: { $sum: 1 },
          amount_sum: { $sum: 0 },
          ...bucketSums(false, 0),
        },
      },
      into,
    ]).toArray();
    // Then the days holding those hours, from all of their hours.
    const dayFrom = periodStart(from, "day");
    const dayTo = periodStart(to - 1, "day") + DAY_MS;
    const sums: Record<string, unknown> = { count: { $sum: "$count" } };
    sums.amount_sum = { $sum: "$amount_sum" };
    for (let i = 0; i < BUCKETS; i++) sums[`b${i}`] = { $sum: `$b${i}` };
    await this.#rows.aggregate([
      { $match: { "_id.p": "hour", "_id.s": { $gte: dayFrom, $lt: dayTo } } },
      {
        $group: {
          _id: {
            p: "day",
            s: { $subtract: ["$_id.s", { $mod: ["$_id.s", DAY_MS] }] },
            k: "$_id.k",
            t: "$_id.t",
            st: "$_id.st",
          },
          ...sums,
        },
      },
      into,
    ]).toArray();
    return await this.#rows.countDocuments({
      $or: [
        { "_id.p": "hour", "_id.s": { $gte: from, $lt: to } },
        { "_id.p": "day", "_id.s": { $gte: dayFrom, $lt: dayTo } },
      ],
    });
  }

  /** The rows of a period whose start is in [from_ms, to_ms), in their stable order. */
  async find(q: RollupQuery, limit: number): Promise<RollupRow[]> {
    const filter: Document = { "_id.p": q.period, "_id.s": { $gte: q.from_ms, $lt: q.to_ms } };
    if (q.kind !== undefined) filter["_id.k"] = q.kind;
    const docs = await this.#rows.find(filter).sort({ "_id.s": 1 }).limit(limit).toArray();
    return finishRows(docs.map((d) => ({
      period: d._id.p,
      start_ms: d._id.s,
      kind: d._id.k,
      type: d._id.t,
      status: d._id.st,
      count: d.count,
      amount_sum: d.amount_sum,
      amount_buckets: Array.from({ length: BUCKETS }, (_, i) => Number(d[`b${i}`] ?? 0)),
    })));
  }
}

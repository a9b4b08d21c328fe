/**
 * `net.flood` (docs/detections.md, after Suricata's rate filters): the flows per minute from a
 * source to one destination far above that pair's own baseline. Minutes of event time are
 * counted per destination; when a destination's minute is over (a flow of a later minute
 * arrives), its count is judged against an exponential average of the earlier minutes
 * (quiet minutes as zeros) and joins it.
 *
 * @module
 */

import type { NetRules } from "../../config/defaults.ts";
import type { AlertDraft } from "../types.ts";

/** One destination of a source: its minute being counted and its baseline. */
export interface Pair {
  readonly dst: string;
  readonly minute: number;
  readonly flows: number;
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
}

const MINUTE = 60_000;
/** Quiet minutes counted into a baseline at most, between two flows. */
const MAX_QUIET = 1_440;

/** The pairs after a flow to `dst` at `ts`, and the flood alert if its last minute was one. */
export function onFlow(
  pairs: readonly Pair[],
  src: string,
  dst: string,
  ts: number,
  id: string,
  r: NetRules,
): { pairs: readonly Pair[]; alert: AlertDraft | null } {
  const minute = Math.floor(ts / MINUTE) * MINUTE;
  let i = pairs.length - 1;
  while (i >= 0 && pairs[i]!.dst !== dst) i--;
  const p = i >= 0 ? pairs[i]! : null;
  let alert: AlertDraft | null = null;
  let next: Pair;
  if (!p) {
    next = { dst, minute, flows: 1, n: 0, mean: 0, variance: 0 };
  } else if (minute <= p.minute) {
    // This minute (or a late flow of an earlier one, counted in the current): one more.
    next = { ...p, flows: p.flows + 1 };
  } else {
    // The pair's minute is over: judge it, then add it and the quiet minutes since.
    const std = Math.sqrt(p.variance);
    if (
      p.n >= r.flood_min_windows && p.flows >= r.flood_min_flows &&
      p.flows > p.mean + r.flood_z * std
    ) {
      alert = {
        rule: "net.flood",
        severity: "high",
        entity: { type: "src", key: src },
        ts,
        evidence: {
          dst_ip: dst,
          minute: new Date(p.minute).toISOString(),
          flows_per_minute: p.flows,
          baseline_mean: Math.round(p.mean * 100) / 100,
          baseline_std: Math.round(std * 100) / 100,
          z: std > 0 ? Math.round((p.flows - p.mean) / std * 100) / 100 : null,
          minutes_of_history: p.n,
        },
        event_ids: [id],
        dedup: `${dst}@${p.minute}`,
      };
    }
    // The minute's count, then a zero for each quiet minute since (exact at first, then
    // over about 60 minutes), in scalars: up to 1,440 steps.
    let n = p.n, mean = p.mean, variance = p.variance;
    const quiet = Math.min(MAX_QUIET, (minute - p.minute) / MINUTE - 1);
    for (let k = -1; k < quiet; k++) {
      const x = k < 0 ? p.flows : 0;
      const count = n + 1;
      const w = Math.max(1 / count, 2 / 61);
      const diff = x - mean;
      n = Math.min(count, 1_000_000);
      mean = mean + w * diff;
      variance = (1 - w) * (variance + w * diff * diff);
    }
    next = { dst, minute, flows: 1, n, mean, variance };
  }
  let out = i >= 0 ? pairs.map((x, j) => j === i ? next : x) : [...pairs, next];
  if (out.length > r.max_flood_destinations) {
    // Keep the busiest destinations (by baseline), the new one included.
    out = [...out].sort((a, b) => b.mean - a.mean || b.flows - a.flows).slice(
      0,
      r.max_flood_destinations,
    );
    if (!out.includes(next)) out[out.length - 1] = next;
  }
  return { pairs: out, alert };
}

/**
 * Detection quality: simulated traffic with its ground truth, through replay, measured per
 * rule. For each rule: recall over the attacks that must fire it, precision (alerts that
 * are true), false alerts per 100,000 benign events, and the detection delay (event time
 * from the attack's decisive event to the event time the alert was raised at), p50 and p99.
 *
 * Strictly, an alert is true when it names what was attacked: its entity is the attacked
 * user, host or address, a user the attack broke into (not merely tried), or the attack's
 * source; it was raised between the attack's start and 3 hours after its end (the longest
 * chain window; for an incident of a network source, a service or a page, 15 minutes after
 * its end, a cool-down); and, when it names the events it came from, one of them is the
 * attack's. So an alert on an owner's ordinary login is false, even on an attacked account,
 * and so is one on a user a campaign only tried.
 *
 * The lenient figure is kept beside it, as it was measured before: any entity the attack
 * touched (a user it tried too) within the window, whatever the events, and the owner's
 * first login after an intruder's (the way back looks like the intrusion).
 *
 * @module
 */

import type { Alert } from "../events/types.ts";
import type { SimEvent, Truth } from "./simulator.ts";

/** One rule's figures. */
export interface RuleQuality {
  rule: string;
  /** Attacks that must fire the rule, and how many did. */
  expected: number;
  detected: number;
  recall: number | null;
  alerts: number;
  /** Strict: alerts that do not name what was attacked with the attack's events. */
  false_alerts: number;
  precision: number | null;
  /** Lenient: alerts on no entity an attack touched, in its window. */
  lenient_false_alerts: number;
  lenient_precision: number | null;
  false_per_100k_benign: number;
  delay_p50_ms: number | null;
  delay_p99_ms: number | null;
}

/** The report: per rule, and the totals it was measured on. */
export interface QualityReport {
  events: number;
  benign_events: number;
  attacks: number;
  rules: RuleQuality[];
}

const AFTER_MS = 3 * 3_600_000;
const AFTER_INCIDENT_MS = 15 * 60_000;
const DETECT_WITHIN_MS = 10 * 60_000;

/** Measures alerts against the ground truth of the events they came from. */
export function quality(
  events: readonly SimEvent[],
  truths: readonly (Truth & { complete?: boolean })[],
  alerts: readonly Alert[],
): QualityReport {
  const userOf = new Map<string, string>();
  const attackIds = new Set<string>();
  const timeOf = new Map<string, number>();
  for (const e of events) {
    const id = String(e.event_id);
    if (typeof e.user_id === "string") userOf.set(id, e.user_id);
    timeOf.set(id, Date.parse(e.timestamp));
  }
  for (const t of truths) {
    for (const id of t.event_ids) attackIds.add(id);
    for (const l of t.risky_logins ?? []) attackIds.add(l.event_id);
  }
  const touched = truths.map((t) => {
    // Strictly: the attacked entity, the source, the users broken into.
    const named = new Set([t.entity.key, t.attacker_ip]);
    for (const l of t.risky_logins ?? []) named.add(l.user_id);
    const ids = new Set(t.event_ids);
    for (const l of t.risky_logins ?? []) ids.add(l.event_id);
    const keys = new Set(named);
    for (const id of t.event_ids) {
      const u = userOf.get(id);
      if (u) keys.add(u);
    }
    const after = t.entity.type === "user" || t.entity.type === "ip" ? AFTER_MS : AFTER_INCIDENT_MS;
    return { t, named, ids, keys, from: Date.parse(t.start), to: Date.parse(t.end) + after };
  });
  // The owner's first successful login after each of an intruder's.
  const intruded = new Set<string>();
  for (const t of truths) for (const l of t.risky_logins ?? []) intruded.add(l.event_id);
  const returns = new Set<string>();
  const waiting = new Set<string>();
  for (const e of events) {
    if (e.type !== "login_success" || typeof e.user_id !== "string") continue;
    const id = String(e.event_id);
    if (intruded.has(id)) waiting.add(e.user_id);
    else if (waiting.delete(e.user_id)) returns.add(id);
  }
  const lenient = (a: Alert) => {
    if (a.event_ids.some((id) => returns.has(id))) return true;
    const ts = Date.parse(a.timestamp);
    return touched.some((x) => x.keys.has(a.entity.key) && ts >= x.from && ts <= x.to);
  };
  const strict = (a: Alert) => {
    const ts = Date.parse(a.timestamp);
    return touched.some((x) =>
      x.named.has(a.entity.key) && ts >= x.from && ts <= x.to &&
      (a.event_ids.length === 0 || a.event_ids.some((id) => x.ids.has(id)))
    );
  };
  const rules = new Set<string>(alerts.map((a) => a.rule));
  for (const t of truths) for (const r of t.rules) rules.add(r);
  const benign = events.length - [...attackIds].filter((id) => timeOf.has(id)).length;
  const out: RuleQuality[] = [];
  for (const rule of [...rules].sort()) {
    const mine = alerts.filter((a) => a.rule === rule);
    const falses = mine.filter((a) => !strict(a)).length;
    const lenientFalses = mine.filter((a) => !lenient(a)).length;
    let expected = 0, detected = 0;
    const delays: number[] = [];
    for (const t of truths) {
      if (!t.rules.includes(rule) || t.complete === false) continue;
      expected++;
      const from = Date.parse(t.start), to = Date.parse(t.end) + DETECT_WITHIN_MS;
      const hit = mine.find((a) => {
        const ts = Date.parse(a.timestamp);
        return a.entity.key === t.entity.key && ts >= from && ts <= to;
      });
      if (!hit) continue;
      detected++;
      const decisive = timeOf.get(t.decisive_event_id);
      // Raised when event time had come this far (a replay's clock is event time).
      if (decisive !== undefined) delays.push(Math.max(0, Date.parse(hit.detected_at) - decisive));
    }
    delays.sort((a, b) => a - b);
    out.push({
      rule,
      expected,
      detected,
      recall: expected > 0 ? detected / expected : null,
      alerts: mine.length,
      false_alerts: falses,
      precision: mine.length > 0 ? (mine.length - falses) / mine.length : null,
      lenient_false_alerts: lenientFalses,
      lenient_precision: mine.length > 0 ? (mine.length - lenientFalses) / mine.length : null,
      false_per_100k_benign: benign > 0 ? falses / benign * 100_000 : 0,
      delay_p50_ms: percentile(delays, 0.5),
      delay_p99_ms: percentile(delays, 0.99),
    });
  }
  return { events: events.length, benign_events: benign, attacks: truths.length, rules: out };
}

function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/** The report as a table for a terminal. */
export function formatQuality(r: QualityReport): string {
  const pct = (x: number | null) => x === null ? "–" : `${(100 * x).toFixed(1)} %`;
  const ms = (x: number | null) => x === null ? "–" : `${(x / 1000).toFixed(1)} s`;
  const rows = r.rules.map((q) => [
    q.rule,
    `${q.detected}/${q.expected}`,
    pct(q.recall),
    String(q.alerts),
    pct(q.precision),
    pct(q.lenient_precision),
    q.false_per_100k_benign.toFixed(2),
    ms(q.delay_p50_ms),
    ms(q.delay_p99_ms),
  ]);
  const head = [
    "rule",
    "detected",
    "recall",
    "alerts",
    "precision",
    "lenient",
    "false/100k",
    "p50",
    "p99",
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  return [
    `${r.events.toLocaleString("en")} events (${r.benign_events.toLocaleString("en")} benign), ` +
    `${r.attacks} attacks`,
    line(head),
    ...rows.map(line),
  ].join("\n");
}

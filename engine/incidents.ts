/**
 * Incidents: related alerts folded into one case. The fold is a pure function of the set
 * of alerts, so a live run (alerts stored by several workers in any order, some sent twice
 * after a crash) and a replay of the same events give the same incidents; the stores and
 * `deno task replay --incidents` all use it.
 *
 * Which incident an alert joins is decided when it is raised (`actors/incident.ts`); here
 * the incident's entities, rules, times, highest severity and summary are gathered.
 *
 * @module
 */

import {
  type Alert,
  type Entity,
  type Incident,
  type Severity,
  SEVERITY_RANK,
} from "../events/types.ts";
import type { IncidentQuery } from "../io/store.ts";

/** The bounds of one incident. */
export interface IncidentLimits {
  /** Alert ids and entities kept on one incident (the smallest ids and entities). */
  max_incident_members: number;
}

const entityId = (e: Entity) => `${e.type}\u0000${e.key}`;

function compareEntities(a: Entity, b: Entity): number {
  const x = entityId(a);
  const y = entityId(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Sorted union of two sorted lists, cut at `max` (the smallest kept). */
function unionSorted<T>(
  a: readonly T[],
  b: readonly T[],
  cmp: (x: T, y: T) => number,
  max: number,
): T[] {
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (out.length < max && (i < a.length || j < b.length)) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : cmp(a[i]!, b[j]!);
    if (c <= 0) out.push(a[i++]!);
    if (c >= 0) out.push(b[j++]!);
    if (c === 0) out.pop();
  }
  return out;
}

const compareText = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** The entities an alert brings to its incident: its own, and the users a campaign tried. */
function entitiesOf(alert: Alert): Entity[] {
  const out: Entity[] = [alert.entity];
  const tried = alert.evidence["most_tried_users"];
  if (tried !== null && typeof tried === "object" && !Array.isArray(tried)) {
    for (const user of Object.keys(tried)) out.push({ type: "user", key: user });
  }
  return out;
}

/** The one-line summary of an incident, from its fields only. */
export function summaryOf(i: Omit<Incident, "summary" | "version">): string {
  const users = i.entities.filter((e) => e.type === "user").length;
  const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const parts = [
    `${i.severity}: ${i.rules.join(", ")} on ${i.anchor.type} ${i.anchor.key}`,
    plural(i.alert_count, "alert"),
  ];
  if (i.anchor.type !== "user" && users > 0) parts.push(`${plural(users, "user")} named`);
  const when = i.first_seen === i.last_seen ? i.first_seen : `${i.first_seen} to ${i.last_seen}`;
  return `${parts.join("; ")} (${when})`;
}

/**
 * Folds alerts of one incident into it (`prev` absent: a new one). Shadow alerts and
 * alerts of other incidents are left out. Idempotent and order-free: folding the same set
 * of alerts in any order, in any number of calls, gives the same incident (its `version`
 * apart, which counts the stored changes).
 */
export function foldIncident(
  prev: Incident | null,
  alerts: readonly Alert[],
  limits: IncidentLimits,
): Incident | null {
  const mine = alerts.filter((a) =>
    a.mode === "enforce" && a.incident !== undefined &&
    (prev === null || a.incident.id === prev.incident_id)
  );
  if (mine.length === 0) return prev;
  const first = mine[0]!.incident!;
  const id = prev?.incident_id ?? first.id;
  const max = limits.max_incident_members;
  let severity: Severity = prev?.severity ?? "info";
  let firstSeen = prev?.first_seen ?? mine[0]!.timestamp;
  let lastSeen = prev?.last_seen ?? mine[0]!.timestamp;
  let alertIds = prev?.alert_ids ?? [];
  let count = prev?.alert_count ?? 0;
  const rules = new Set(prev?.rules ?? []);
  let entities = prev?.entities ?? [first.anchor];
  for (const a of mine) {
    if (a.incident!.id !== id) continue;
    if (SEVERITY_RANK[a.severity] > SEVERITY_RANK[severity]) severity = a.severity;
    if (a.timestamp < firstSeen) firstSeen = a.timestamp;
    if (a.timestamp > lastSeen) lastSeen = a.timestamp;
    rules.add(a.rule);
    // The smallest ids of all seen are kept, so one not kept is new, except past the
    // bound, where an id larger than every kept one sent twice is counted twice.
    if (!alertIds.includes(a.alert_id)) {
      count++;
      alertIds = unionSorted(alertIds, [a.alert_id], compareText, max);
    }
    entities = unionSorted(entities, entitiesOf(a).sort(compareEntities), compareEntities, max);
  }
  const folded = {
    incident_id: id,
    anchor: prev?.anchor ?? first.anchor,
    episode: prev?.episode ?? first.episode,
    severity,
    rules: [...rules].sort(),
    entities,
    alert_ids: alertIds,
    alert_count: count,
    first_seen: firstSeen,
    last_seen: lastSeen,
  };
  return { ...folded, summary: summaryOf(folded), version: (prev?.version ?? 0) + 1 };
}

/** Alerts grouped by the incident they join (enforce alerts with an incident only). */
export function byIncident(alerts: readonly Alert[]): Map<string, Alert[]> {
  const out = new Map<string, Alert[]>();
  for (const a of alerts) {
    if (a.mode !== "enforce" || a.incident === undefined) continue;
    let list = out.get(a.incident.id);
    if (!list) out.set(a.incident.id, list = []);
    list.push(a);
  }
  return out;
}

/** Whether two incidents say the same (their `version` apart). */
export function sameIncident(a: Incident, b: Incident): boolean {
  return JSON.stringify({ ...a, version: 0 }) === JSON.stringify({ ...b, version: 0 });
}

/**
 * Every incident of a list of alerts, sorted by id (the replay's `--incidents` output,
 * and what a test compares a store's incidents with).
 */
export function incidentsOf(alerts: readonly Alert[], limits: IncidentLimits): Incident[] {
  const out: Incident[] = [];
  for (const list of byIncident(alerts).values()) {
    const i = foldIncident(null, list, limits);
    if (i) out.push({ ...i, version: 1 });
  }
  return out.sort((a, b) => compareText(a.incident_id, b.incident_id));
}

/** Whether an incident matches a query's filters (its paging apart). */
export function incidentMatches(i: Incident, q: Omit<IncidentQuery, "limit" | "before">): boolean {
  if (q.min_severity !== undefined && SEVERITY_RANK[i.severity] < SEVERITY_RANK[q.min_severity]) {
    return false;
  }
  if (q.rule !== undefined && !i.rules.includes(q.rule)) return false;
  if (q.since_ms !== undefined && Date.parse(i.last_seen) < q.since_ms) return false;
  if (q.entity_type !== undefined || q.entity_key !== undefined) {
    const named = (e: Entity) => e.type === q.entity_type && e.key === q.entity_key;
    if (!named(i.anchor) && !i.entities.some(named)) return false;
  }
  return true;
}

/** The order incidents are listed in: newest first seen first, then the larger id. */
export function newestFirst(a: Incident, b: Incident): number {
  if (a.first_seen !== b.first_seen) return a.first_seen < b.first_seen ? 1 : -1;
  return compareText(b.incident_id, a.incident_id);
}

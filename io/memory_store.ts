/**
 * The embedded store: alerts and dead letters in memory, bounded (oldest dropped
 * first), with the same uniqueness on `alert_id` as the MongoDB collection.
 *
 * @module
 */

import { type AuditEntry, auditMatches, type AuditQuery } from "../engine/audit.ts";
import type { Alert, DeadLetter, Incident } from "../events/types.ts";
import type { Triage, TriageKind } from "../engine/triage.ts";
import type { Suppression } from "../engine/suppressions.ts";
import { defaults } from "../config/defaults.ts";
import {
  byIncident,
  foldIncident,
  type IncidentLimits,
  incidentMatches,
  newestFirst,
  sameIncident,
} from "../engine/incidents.ts";
import {
  type AlertQuery,
  type ArchivedEvent,
  type ArchiveFilter,
  archiveMatches,
  eventMatches,
  type EventQuery,
  type IncidentQuery,
  type JobRun,
  type PendingNotification,
  type Store,
  type StoredCheckpoint,
  StoreQueryError,
  type TriagedCase,
} from "./store.ts";
import {
  DAY_MS,
  daysOf,
  finishRows,
  HOUR_MS,
  HourCounter,
  periodStart,
  rollupEvents,
  type RollupQuery,
  type RollupRow,
  rowId,
} from "./rollups.ts";

/** An in-memory store. */
/** Roll-up rows the in-memory store keeps (a few hundred an hour), at most. */
const MAX_ROLLUP_ROWS = 200_000;
/** Job runs it keeps, at most. */
const MAX_JOB_RUNS = 1_000;

export class MemoryStore implements Store {
  #alerts = new Map<string, { alert: Alert; ts: number }>();
  #dead: DeadLetter[] = [];
  #archive = new Map<string, ArchivedEvent>();
  #checkpoints = new Map<string, StoredCheckpoint>();
  #notifications = new Map<string, { item: PendingNotification; lease_until: number }>();
  #incidents = new Map<string, Incident>();
  #triage = new Map<string, Triage>();
  #suppressions = new Map<string, Suppression>();
  /** Oldest first; the newest `#maxAudit` kept. */
  #audit: AuditEntry[] = [];
  /** Roll-up rows by `rowId`, oldest written first (the newest `MAX_ROLLUP_ROWS` kept). */
  #rollups = new Map<string, RollupRow>();
  /**
   * Every archived event counted in its hour as it came (the roll-ups' source here: the raw
   * archive keeps only the newest `#maxArchived`).
   */
  #counted = new HourCounter();
  #leases = new Map<string, { owner: string; until: number }>();
  /** Job runs, oldest first (the newest `MAX_JOB_RUNS` kept). */
  #runs: JobRun[] = [];
  #maxAudit: number;
  #maxAlerts: number;
  #maxDead: number;
  #maxArchived: number;
  #maxIncidents: number;
  #incidentLimits: IncidentLimits;

  constructor(limits: {
    max_alerts: number;
    max_dead_letters: number;
    max_incidents?: number;
    max_incident_members?: number;
    max_audit?: number;
    /** Raw archived events kept (all are counted in the roll-ups); the default: `max_dead_letters`. */
    max_archived_events?: number;
  }) {
    this.#maxAudit = limits.max_audit ?? defaults.api.memory_store_max_audit;
    this.#maxAlerts = limits.max_alerts;
    this.#maxDead = limits.max_dead_letters;
    this.#maxArchived = limits.max_archived_events ?? limits.max_dead_letters;
    this.#maxIncidents = limits.max_incidents ?? defaults.alerts.memory_store_max_incidents;
    this.#incidentLimits = {
      max_incident_members: limits.max_incident_members ??
        defaults.alerts.max_incident_members,
    };
  }

  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void> {
    this.#checkpoints.set(checkpoint.id, { ...checkpoint, offsets: { ...checkpoint.offsets } });
    return Promise.resolve();
  }

  loadCheckpoint(id: string): Promise<StoredCheckpoint | null> {
    return Promise.resolve(this.#checkpoints.get(id) ?? null);
  }

  saveAlerts(alerts: readonly Alert[]): Promise<Alert[]> {
    const stored: Alert[] = [];
    for (const a of alerts) {
      const before = this.#alerts.get(a.alert_id);
      if (before) {
        stored.push(before.alert);
        continue;
      }
      stored.push(a);
      this.#alerts.set(a.alert_id, { alert: a, ts: Date.parse(a.timestamp) });
      if (this.#alerts.size > this.#maxAlerts) {
        this.#alerts.delete(this.#alerts.keys().next().value!);
      }
    }
    return Promise.resolve(stored);
  }

  findAlerts(q: AlertQuery): Promise<Alert[]> {
    const out: Alert[] = [];
    const all = [...this.#alerts.values()];
    let from = all.length - 1;
    if (q.before !== undefined) {
      from = all.findIndex((x) => x.alert.alert_id === q.before) - 1;
      if (from < -1) {
        return Promise.reject(new StoreQueryError(`No alert ${q.before} is held (paging cursor)`));
      }
    }
    for (let i = from; i >= 0 && out.length < q.limit; i--) {
      const { alert: a, ts } = all[i]!;
      if (q.rule !== undefined && a.rule !== q.rule) continue;
      if (q.entity_type !== undefined && a.entity.type !== q.entity_type) continue;
      if (q.entity_key !== undefined && a.entity.key !== q.entity_key) continue;
      if (q.since_ms !== undefined && ts < q.since_ms) continue;
      if (q.incident_id !== undefined && a.incident?.id !== q.incident_id) continue;
      out.push(a);
    }
    return Promise.resolve(out);
  }

  saveIncidents(alerts: readonly Alert[]): Promise<Incident[]> {
    const changed: Incident[] = [];
    for (const [id, list] of byIncident(alerts)) {
      const before = this.#incidents.get(id) ?? null;
      const after = foldIncident(before, list, this.#incidentLimits)!;
      if (before !== null && sameIncident(before, after)) continue;
      this.#incidents.delete(id); // re-inserted last: the oldest changed is dropped first
      this.#incidents.set(id, after);
      changed.push(after);
      if (this.#incidents.size > this.#maxIncidents) {
        this.#incidents.delete(this.#incidents.keys().next().value!);
      }
    }
    return Promise.resolve(changed);
  }

  findIncidents(q: IncidentQuery): Promise<Incident[]> {
    const all = [...this.#incidents.values()].filter((i) => incidentMatches(i, q));
    all.sort(newestFirst);
    let from = 0;
    if (q.before !== undefined) {
      const cursor = this.#incidents.get(q.before);
      if (!cursor) {
        return Promise.reject(
          new StoreQueryError(`No incident ${q.before} is held (paging cursor)`),
        );
      }
      from = all.findIndex((i) => newestFirst(i, cursor) > 0);
      if (from < 0) from = all.length;
    }
    return Promise.resolve(all.slice(from, from + q.limit));
  }

  getIncident(id: string): Promise<Incident | null> {
    return Promise.resolve(this.#incidents.get(id) ?? null);
  }

  getAlert(id: string): Promise<Alert | null> {
    return Promise.resolve(this.#alerts.get(id)?.alert ?? null);
  }

  getTriages(kind: TriageKind, ids: readonly string[]): Promise<Map<string, Triage>> {
    const out = new Map<string, Triage>();
    for (const id of ids) {
      const t = this.#triage.get(`${kind}:${id}`);
      if (t) out.set(id, t);
    }
    return Promise.resolve(out);
  }

  appendAudit(entry: AuditEntry): Promise<void> {
    this.#audit.push(structuredClone(entry));
    if (this.#audit.length > this.#maxAudit) {
      this.#audit.splice(0, this.#audit.length - this.#maxAudit);
    }
    return Promise.resolve();
  }

  findAudit(query: AuditQuery): Promise<AuditEntry[]> {
    const out: AuditEntry[] = [];
    // Appended in time order, nearly: sorted by id so two processes' clocks do not matter.
    const all = [...this.#audit].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
    for (const e of all) {
      if (out.length >= query.limit) break;
      if (auditMatches(e, query)) out.push(structuredClone(e));
    }
    return Promise.resolve(out);
  }

  saveSuppression(s: Suppression): Promise<void> {
    this.#suppressions.set(s.id, s);
    // Bounded like the process's own list: the oldest created dropped first.
    if (this.#suppressions.size > defaults.alerts.max_suppressions) {
      const oldest = [...this.#suppressions.values()].sort((a, b) =>
        a.created_at < b.created_at ? -1 : 1
      )[0]!;
      this.#suppressions.delete(oldest.id);
    }
    return Promise.resolve();
  }

  findSuppressions(limit: number): Promise<Suppression[]> {
    const all = [...this.#suppressions.values()].sort((a, b) =>
      a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0
    );
    return Promise.resolve(all.slice(0, limit));
  }

  saveTriage(kind: TriageKind, id: string, after: Triage): Promise<boolean> {
    const key = `${kind}:${id}`;
    if ((this.#triage.get(key)?.revision ?? 0) !== after.revision - 1) {
      return Promise.resolve(false);
    }
    // Bounded with what it is about: a case the store dropped takes its triage along.
    this.#triage.set(key, after);
    if (this.#triage.size > this.#maxAlerts + this.#maxIncidents) {
      this.#triage.delete(this.#triage.keys().next().value!);
    }
    return Promise.resolve(true);
  }

  findTriaged(since: string, limit: number): Promise<TriagedCase[]> {
    const out: TriagedCase[] = [];
    for (const [key, t] of this.#triage) {
      if (t.updated_at === null || t.updated_at < since) continue;
      const at = key.indexOf(":");
      out.push(triagedCase(key.slice(0, at) as TriageKind, key.slice(at + 1), t));
    }
    out.sort((a, b) => a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0);
    return Promise.resolve(out.slice(0, limit));
  }

  countAlertsByRule(since_ms: number): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const { alert, ts } of this.#alerts.values()) {
      if (ts < since_ms || alert.mode === "suppressed") continue;
      out.set(alert.rule, (out.get(alert.rule) ?? 0) + 1);
    }
    return Promise.resolve(out);
  }

  /** Alerts held. */
  get alertCount(): number {
    return this.#alerts.size;
  }

  saveDeadLetters(letters: readonly DeadLetter[]): Promise<void> {
    this.#dead.push(...letters);
    if (this.#dead.length > this.#maxDead) this.#dead.splice(0, this.#dead.length - this.#maxDead);
    return Promise.resolve();
  }

  findDeadLetters(limit: number): Promise<DeadLetter[]> {
    return Promise.resolve(this.#dead.slice(-limit).reverse());
  }

  takeDeadLetters(limit: number, category?: string): Promise<DeadLetter[]> {
    const taken: DeadLetter[] = [];
    for (let i = this.#dead.length - 1; i >= 0 && taken.length < limit; i--) {
      if (category !== undefined && this.#dead[i]!.category !== category) continue;
      taken.push(this.#dead.splice(i, 1)[0]!);
    }
    return Promise.resolve(taken);
  }

  archiveEvents(events: readonly ArchivedEvent[]): Promise<void> {
    for (const e of events) {
      if (this.#archive.has(e.event_id)) continue;
      this.#count(e);
      if (this.#maxArchived === 0) continue;
      this.#archive.set(e.event_id, e);
      if (this.#archive.size > this.#maxArchived) {
        this.#archive.delete(this.#archive.keys().next().value!);
      }
    }
    return Promise.resolve();
  }

  /**
   * Adds hourly rows counted elsewhere (the simulated history of `deno task start`) to the
   * counts: the next `rollup` over their hours shows them.
   */
  countRows(rows: Iterable<RollupRow>): void {
    this.#counted.add(rows);
    this.#bound();
  }

  #count(e: ArchivedEvent): void {
    this.#counted.event(e);
    this.#bound();
  }

  #bound(): void {
    const rows = this.#counted.rows;
    while (rows.size > MAX_ROLLUP_ROWS) rows.delete(rows.keys().next().value!);
  }

  findArchived(limit: number, filter?: ArchiveFilter): Promise<ArchivedEvent[]> {
    if (!filter) return Promise.resolve([...this.#archive.values()].slice(-limit).reverse());
    const found: ArchivedEvent[] = [];
    if (filter.event_ids && !filter.fields) {
      for (const id of filter.event_ids) {
        const e = this.#archive.get(id);
        if (e) found.push(e);
      }
      return Promise.resolve(found.sort((a, b) => b.ts - a.ts).slice(0, limit));
    }
    const all = [...this.#archive.values()];
    for (let i = all.length - 1; i >= 0 && found.length < limit; i--) {
      if (archiveMatches(all[i]!, filter)) found.push(all[i]!);
    }
    return Promise.resolve(found);
  }

  rollup(from_ms: number, to_ms: number): Promise<number> {
    const from = periodStart(from_ms, "hour");
    const to = periodStart(to_ms - 1, "hour") + HOUR_MS;
    const hours = finishRows([
      ...this.#counted.within(from, to),
      ...rollupEvents([], [...this.#alerts.values()].map((a) => a.alert), {
        from_ms: from,
        to_ms: to,
      }),
    ]);
    for (const [id, r] of this.#rollups) {
      if (r.period === "hour" && r.start_ms >= from && r.start_ms < to) this.#rollups.delete(id);
    }
    const dayFrom = periodStart(from, "day"), dayTo = periodStart(to - 1, "day") + DAY_MS;
    const kept = [...this.#rollups.values()].filter((r) =>
      r.period === "hour" && r.start_ms >= dayFrom && r.start_ms < dayTo
    );
    const days = daysOf([...kept, ...hours]);
    for (const r of [...hours, ...days]) {
      const id = rowId(r);
      this.#rollups.delete(id);
      this.#rollups.set(id, r);
    }
    while (this.#rollups.size > MAX_ROLLUP_ROWS) {
      this.#rollups.delete(this.#rollups.keys().next().value!);
    }
    return Promise.resolve(hours.length + days.length);
  }

  findRollups(q: RollupQuery, limit: number): Promise<RollupRow[]> {
    const rows = [...this.#rollups.values()].filter((r) =>
      r.period === q.period && r.start_ms >= q.from_ms && r.start_ms < q.to_ms &&
      (q.kind === undefined || r.kind === q.kind)
    );
    return Promise.resolve(structuredClone(finishRows(rows).slice(0, limit)));
  }

  takeLease(name: string, owner: string, now_ms: number, lease_ms: number): Promise<boolean> {
    const held = this.#leases.get(name);
    if (held && held.owner !== owner && held.until > now_ms) return Promise.resolve(false);
    this.#leases.set(name, { owner, until: now_ms + lease_ms });
    return Promise.resolve(true);
  }

  saveJobRun(run: JobRun): Promise<void> {
    this.#runs.push({ ...run });
    if (this.#runs.length > MAX_JOB_RUNS) this.#runs.splice(0, this.#runs.length - MAX_JOB_RUNS);
    return Promise.resolve();
  }

  findJobRuns(job: string, limit: number): Promise<JobRun[]> {
    return Promise.resolve(this.#runs.filter((r) => r.job === job).reverse().slice(0, limit));
  }

  findEvents(q: EventQuery): Promise<ArchivedEvent[]> {
    const found: ArchivedEvent[] = [];
    for (const e of this.#archive.values()) if (eventMatches(e, q)) found.push(e);
    found.sort((a, b) => b.ts - a.ts || (a.event_id < b.event_id ? 1 : -1));
    return Promise.resolve(found.slice(0, q.limit));
  }

  queueNotifications(items: readonly PendingNotification[]): Promise<void> {
    for (const item of items) {
      if (!this.#notifications.has(item.id)) {
        this.#notifications.set(item.id, { item, lease_until: 0 });
      }
    }
    return Promise.resolve();
  }

  claimNotifications(
    target: string,
    now_ms: number,
    lease_ms: number,
    limit: number,
  ): Promise<PendingNotification[]> {
    const out: PendingNotification[] = [];
    for (const n of this.#notifications.values()) {
      if (out.length >= limit) break;
      if (n.item.target !== target || n.lease_until > now_ms) continue;
      n.lease_until = now_ms + lease_ms;
      out.push(n.item);
    }
    return Promise.resolve(out);
  }

  doneNotifications(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.#notifications.delete(id);
    return Promise.resolve();
  }

  ping(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** What `findTriaged` answers for a stored triage. */
export function triagedCase(kind: TriageKind, id: string, t: Triage): TriagedCase {
  return {
    kind,
    id,
    label: t.label,
    labelled_at: t.label === null ? null : t.labelled_at ?? t.updated_at,
    updated_at: t.updated_at ?? "",
    revision: t.revision,
  };
}

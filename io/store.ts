/**
 * The store port: alerts (unique on `alert_id`, so saving twice is harmless) and dead
 * letters. The in-memory store and the MongoDB adapter implement it.
 *
 * @module
 */

import type { AuditEntry, AuditQuery } from "../engine/audit.ts";
import type { Alert, DeadLetter, Incident, Severity } from "../events/types.ts";
import type { Triage, TriageKind, TriageLabel } from "../engine/triage.ts";
import type { Suppression } from "../engine/suppressions.ts";
import type { RollupQuery, RollupRow } from "./rollups.ts";

/** Filters of an alert query (docs/api.md). */
export interface AlertQuery {
  rule?: string;
  entity_type?: string;
  entity_key?: string;
  /** Only alerts whose event time is at or after this (ms). */
  since_ms?: number;
  /**
   * Paging: only alerts stored before the one with this id (the next page after a page
   * that ended with it). An id the store does not hold gives a StoreQueryError.
   */
  before?: string;
  /** Only the alerts of this incident. */
  incident_id?: string;
  limit: number;
}

/** Filters of an incident query, newest first (by first seen, then id). */
export interface IncidentQuery {
  /** Only incidents at or above this severity. */
  min_severity?: Severity;
  /** Only incidents with an alert of this rule. */
  rule?: string;
  /** Only incidents naming this entity (its anchor or a member); both or neither. */
  entity_type?: string;
  entity_key?: string;
  /** Only incidents last seen at or after this event time (ms). */
  since_ms?: number;
  /** Paging: only incidents after the one with this id in the order above. */
  before?: string;
  limit: number;
}

/** A query the store cannot answer as asked (e.g. a paging cursor it does not know). */
export class StoreQueryError extends Error {}

/** An event kept in the raw archive, as it arrived. */
export interface ArchivedEvent {
  event_id: string;
  kind: string;
  ts: number;
  raw: Record<string, unknown>;
}

/**
 * Which archived events a query wants (all of them when absent): those with these ids,
 * or those whose raw value of one of `fields` is `value` (an entity's events).
 */
export interface ArchiveFilter {
  event_ids?: readonly string[];
  fields?: readonly string[];
  value?: string;
}

/**
 * The raw fields that name an entity of each type, for finding its archived events
 * (docs/events-and-alerts.md: a user's events carry `user_id`, an address is any of a login's or a
 * flow's addresses, a source is a flow's `src_ip`).
 */
export const ENTITY_FIELDS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  user: ["user_id"],
  ip: ["ip", "src_ip", "dst_ip"],
  src: ["src_ip"],
  service: ["service"],
  page: ["page"],
});

/**
 * The filters of an event query and the raw fields each one matches (an address is any of
 * a login's or a flow's addresses).
 */
export const EVENT_FILTERS = Object.freeze(
  {
    user_id: ["user_id"],
    ip: ["ip", "src_ip", "dst_ip"],
    account_id: ["account_id"],
    service: ["service"],
    page: ["page"],
  } as const,
);

/** A filter of an event query. */
export type EventFilter = keyof typeof EVENT_FILTERS;

/** Where a page of archived events ended: the next page goes on after it. */
export interface EventCursor {
  ts: number;
  event_id: string;
}

/**
 * An event query (`GET /api/v1/events`): archived events of a kind, of an entity and of a
 * time range, newest first (by event time, then id), a page at a time.
 */
export interface EventQuery {
  kind?: string;
  /** Each filter given: the event's raw fields of that filter (any of them) hold the value. */
  match?: Partial<Record<EventFilter, string>>;
  /** Event time at or after (ms). */
  from_ms?: number;
  /** Event time before (ms). */
  to_ms?: number;
  /** Only events after this one in the order above. */
  after?: EventCursor;
  limit: number;
}

/** Whether an archived event is one `q` asks for (all but its limit). */
export function eventMatches(e: ArchivedEvent, q: EventQuery): boolean {
  if (q.kind !== undefined && e.kind !== q.kind) return false;
  if (q.from_ms !== undefined && e.ts < q.from_ms) return false;
  if (q.to_ms !== undefined && e.ts >= q.to_ms) return false;
  if (q.after && !afterCursor(q.after, e)) return false;
  for (const [name, value] of Object.entries(q.match ?? {})) {
    if (!EVENT_FILTERS[name as EventFilter].some((f) => e.raw[f] === value)) return false;
  }
  return true;
}

/** Whether `b` comes after `a` newest first (by event time, then id, both descending). */
export function afterCursor(a: EventCursor, b: EventCursor): boolean {
  return b.ts < a.ts || (b.ts === a.ts && b.event_id < a.event_id);
}

/** Whether an archived event is one `filter` asks for. */
export function archiveMatches(e: ArchivedEvent, filter: ArchiveFilter): boolean {
  if (filter.event_ids && !filter.event_ids.includes(e.event_id)) return false;
  if (filter.fields && !filter.fields.some((f) => e.raw[f] === filter.value)) return false;
  return true;
}

/**
 * A partition checkpoint: the image of its actors (JSON text, as the runtime exports it)
 * and the input offsets it reflects, so a new owner restores the image and reads on from
 * those offsets instead of from the start of the partition.
 */
export interface StoredCheckpoint {
  /** `group/partition`. */
  id: string;
  /** The next offset to read, per input topic. */
  offsets: Record<string, number>;
  /** Partition count of the topics when it was taken (a checkpoint of another layout is useless). */
  partitions: number;
  image: string;
  created_at: string;
}

/** A case whose triage changed (`Store.findTriaged`): what the rules' precision reads. */
export interface TriagedCase {
  kind: TriageKind;
  id: string;
  /** Its label now (null: none, e.g. reopened). */
  label: TriageLabel | null;
  /** When the label was given (a triage stored before this was kept: its last change). */
  labelled_at: string | null;
  updated_at: string;
  revision: number;
}

/** A notification waiting to be sent to one target (the notifications outbox). */
export interface PendingNotification {
  /** `<target>:<alert_id>`: queueing the same twice keeps one. */
  id: string;
  target: string;
  alert: Alert;
}

/** One run of a scheduled job (a roll-up): what it covered, how long, how it ended. */
export interface JobRun {
  job: string;
  /** The range it covered (ISO-8601). */
  from: string;
  to: string;
  started_at: string;
  duration_ms: number;
  /** Rows it wrote. */
  rows: number;
  outcome: "ok" | "failed";
  error?: string;
  /** The process that ran it. */
  by: string;
}

/** Durable storage. */
export interface Store {
  /**
   * Rolls up the hours holding [from_ms, to_ms) and the days holding them
   * (`io/rollups.ts`): each hour's rows recomputed from what the store holds of it.
   * Returns the rows written.
   */
  rollup(from_ms: number, to_ms: number): Promise<number>;
  /** Roll-up rows of a period whose start is in the query's range, oldest first, at most `limit`. */
  findRollups(q: RollupQuery, limit: number): Promise<RollupRow[]>;
  /**
   * Takes (or renews) the lease `name` for `owner` until `now_ms + lease_ms`: true when
   * it is now this owner's (it was free, ran out, or was its own), false while another
   * holds it. One run of a job at a time across a cluster.
   */
  takeLease(name: string, owner: string, now_ms: number, lease_ms: number): Promise<boolean>;
  /** Records a job run. */
  saveJobRun(run: JobRun): Promise<void>;
  /** A job's runs, the newest first, at most `limit`. */
  findJobRuns(job: string, limit: number): Promise<JobRun[]>;
  /** Keeps events as they arrived (idempotent on `event_id`). */
  archiveEvents(events: readonly ArchivedEvent[]): Promise<void>;
  /** The newest archived events (those `filter` asks for), newest first. */
  findArchived(limit: number, filter?: ArchiveFilter): Promise<ArchivedEvent[]>;
  /** A page of archived events (`EventQuery`), newest first by event time, then id. */
  findEvents(q: EventQuery): Promise<ArchivedEvent[]>;
  /**
   * Stores alerts, each once (unique on `alert_id`), and returns them as stored: an alert
   * raised again (after a crash or handover) comes back with the content first stored,
   * so every copy published anywhere is identical.
   */
  saveAlerts(alerts: readonly Alert[]): Promise<Alert[]>;
  /** Newest first. */
  findAlerts(query: AlertQuery): Promise<Alert[]>;
  /**
   * Folds stored alerts into their incidents (`engine/incidents.ts`; the same alerts give
   * the same incidents, whichever process saves them, in any order, more than once) and
   * returns the incidents they changed, as stored.
   */
  saveIncidents(alerts: readonly Alert[]): Promise<Incident[]>;
  /** Incidents matching the query, newest first (by first seen, then id). */
  findIncidents(query: IncidentQuery): Promise<Incident[]>;
  getIncident(id: string): Promise<Incident | null>;
  /** One stored alert by its id. */
  getAlert(id: string): Promise<Alert | null>;
  /** The triage of each case of these ids that has one (untouched ones are absent). */
  getTriages(kind: TriageKind, ids: readonly string[]): Promise<Map<string, Triage>>;
  /**
   * Keeps a case's new triage if its stored revision is still the one before
   * (`after.revision - 1`; 0: none stored); false when another change came first.
   */
  saveTriage(kind: TriageKind, id: string, after: Triage): Promise<boolean>;
  /**
   * The cases (alerts and incidents) whose triage changed at or after `since` (ISO-8601,
   * wall clock), labelled or not, the newest change first, at most `limit`.
   */
  findTriaged(since: string, limit: number): Promise<TriagedCase[]>;
  /**
   * Alerts per rule whose event time is at or after `since_ms`, suppressed ones left out
   * (the rules' alert budgets); rules without any are absent.
   */
  countAlertsByRule(since_ms: number): Promise<Map<string, number>>;
  /** Keeps a suppression, or replaces the one of its id (ended early, it is kept ended). */
  saveSuppression(s: Suppression): Promise<void>;
  /** Up to `limit` suppressions, the newest created first. */
  findSuppressions(limit: number): Promise<Suppression[]>;
  /** Appends a change to the audit log (`engine/audit.ts`); nothing changes or removes one. */
  appendAudit(entry: AuditEntry): Promise<void>;
  /** A page of the audit log, the newest first. */
  findAudit(query: AuditQuery): Promise<AuditEntry[]>;
  saveDeadLetters(letters: readonly DeadLetter[]): Promise<void>;
  /** Newest first. */
  findDeadLetters(limit: number): Promise<DeadLetter[]>;
  /**
   * Removes and returns up to `limit` dead letters, newest first (only those of
   * `category`, when given): to re-drive them after a fix.
   */
  takeDeadLetters(limit: number, category?: string): Promise<DeadLetter[]>;
  /**
   * Replaces a partition's checkpoint. The replacement is atomic: a reader sees the old
   * checkpoint or the new one whole, even if the writer dies half-way.
   */
  saveCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  /** A partition's latest checkpoint, if any. */
  loadCheckpoint(id: string): Promise<StoredCheckpoint | null>;
  /**
   * The notifications outbox, so what waits to be sent survives a restart (stores without
   * it: notifications wait in memory). Queueing is idempotent on `id`. A claim leases up to
   * `limit` of a target's waiting notifications (oldest first) until `now_ms + lease_ms`;
   * one whose lease ran out (its process died) can be claimed again.
   */
  queueNotifications?(items: readonly PendingNotification[]): Promise<void>;
  claimNotifications?(
    target: string,
    now_ms: number,
    lease_ms: number,
    limit: number,
  ): Promise<PendingNotification[]>;
  doneNotifications?(ids: readonly string[]): Promise<void>;
  /** Resolves when the store answers; rejects when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Events in and alerts out, as docs/events-and-alerts.md defines them.
 *
 * @module
 */

import type { FlowRow } from "./flow_features.ts";

/** The six kinds of event Vigil accepts. */
export type EventKind = "auth" | "transaction" | "flow" | "click" | "log" | "metric";

/** Every event kind. */
export const EVENT_KINDS: readonly [EventKind, ...EventKind[]] = Object.freeze([
  "auth",
  "transaction",
  "flow",
  "click",
  "log",
  "metric",
]) as unknown as readonly [EventKind, ...EventKind[]];

/** Fields every validated event has, whatever its kind. */
export interface EventBase {
  kind: EventKind;
  event_id: string;
  /** Event time in epoch milliseconds (parsed from `timestamp`). */
  ts: number;
  /** The object as it arrived, unknown fields included (for the archive). */
  raw: Record<string, unknown>;
}

/** A login, a failed login or a logout. */
export interface AuthEvent extends EventBase {
  kind: "auth";
  type: "login_success" | "login_failure" | "logout";
  user_id: string;
  ip: string | undefined;
  country: string | undefined;
  city: string | undefined;
  lat: number | undefined;
  lon: number | undefined;
  device_id: string | undefined;
  session_id: string | undefined;
  /** The autonomous system announcing `ip` (from the event, or the IP database). */
  asn?: number | undefined;
  /**
   * The IP database (`name@version` of its packages) that filled in the place and AS of
   * an event that came with an address and no location; absent when none did.
   */
  located_by?: string | undefined;
}

/** A banking transaction. */
export interface TransactionEvent extends EventBase {
  kind: "transaction";
  user_id: string;
  account_id: string;
  type: "transfer" | "payment" | "withdrawal" | "deposit";
  amount: number;
  currency: string;
  counterparty: string | undefined;
}

/** Any other kind, validated but not yet given its own typed fields. */
export interface OtherEvent extends EventBase {
  kind: "flow" | "click" | "log" | "metric";
  /** A flow's features in the flow model's order, built as they were validated. */
  row?: FlowRow;
}

/** A validated event. */
export type VigilEvent = AuthEvent | TransactionEvent | OtherEvent;

/** Severity levels of an alert, lowest first. */
export type Severity = "info" | "low" | "medium" | "high" | "critical";

/** Each severity's rank, lowest first (for comparing them). */
export const SEVERITY_RANK: Readonly<Record<Severity, number>> = Object.freeze({
  info: 0,
  low: 1,
  medium: 2,
  high: 3,
  critical: 4,
});

/** What an alert is about. */
export interface Entity {
  type: string;
  key: string;
}

/** An alert as it leaves Vigil (docs/events-and-alerts.md). */
export interface Alert {
  alert_id: string;
  rule: string;
  severity: Severity;
  entity: Entity;
  /** ISO-8601 event time of the event that triggered it. */
  timestamp: string;
  /** ISO-8601 wall-clock time when raised. */
  detected_at: string;
  score?: number;
  model?: string;
  evidence: Record<string, unknown>;
  event_ids: string[];
  /**
   * `shadow`: its rule is under evaluation; `suppressed`: an analyst's suppression covers it
   * (`suppressed_by`). Neither notifies anyone nor joins an incident.
   */
  mode: "enforce" | "shadow" | "suppressed";
  /** The suppression that covers it (with `mode: "suppressed"`). */
  suppressed_by?: string;
  /** The incident the alert belongs to (absent on alerts raised before incidents existed). */
  incident?: AlertIncident;
}

/**
 * The incident an alert joins: the entity the incident is about (the anchor: an address
 * for its campaign, a user for their chain, a source, a service, a page) and the episode
 * of it. The id is a hash of both, so every process gives the same alert the same one.
 */
export interface AlertIncident {
  id: string;
  anchor: Entity;
  episode: string;
}

/**
 * Related alerts as one case for an analyst: folded from its alerts (the same alerts give
 * the same incident in whatever order and however often they arrive, up to its bounds).
 */
export interface Incident {
  incident_id: string;
  anchor: Entity;
  episode: string;
  /** The highest severity of its alerts. */
  severity: Severity;
  /** Its alerts' rules, sorted. */
  rules: string[];
  /** The entities its alerts name (their own, and the anchor), sorted; bounded. */
  entities: Entity[];
  /** Its alerts' ids, sorted; bounded (the smallest kept). */
  alert_ids: string[];
  /** Its alerts, counted even past the bound of `alert_ids`. */
  alert_count: number;
  /** Event time of its earliest and latest alert (ISO-8601). */
  first_seen: string;
  last_seen: string;
  /** One line for a person: what, against whom, how bad. */
  summary: string;
  /** Bumped by each change of the stored incident (for optimistic writes). */
  version: number;
}

/** An event that could not be accepted, kept with its raw bytes and the reason. */
export interface DeadLetter {
  /** Where it came from: `topic/partition/offset`, `http`, or `file:line`. */
  source: string;
  reason: string;
  /** The raw value as text (cut at a bound so a huge value cannot exhaust memory). */
  raw: string;
  /** Length of the raw value in bytes. */
  raw_bytes: number;
  at: string;
  /**
   * The kind of refusal, as `vigil_dead_letters_total` counts it: invalid, oversized,
   * late, future, failed, quarantined, stopped (absent in letters kept before it existed).
   */
  category?: string;
}

/**
 * Events in and alerts out, as CONTRACT.md §1 and §2 define them.
 *
 * @module
 */

import type { FlowRow } from "./flow_features.ts";

/** The six kinds of event Vigil accepts. */
export type EventKind = "auth" | "transaction" | "flow" | "click" | "log" | "metric";

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

/** What an alert is about. */
export interface Entity {
  type: string;
  key: string;
}

/** An alert as it leaves Vigil (CONTRACT.md §2). */
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
  mode: "enforce" | "shadow";
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

/**
 * The store port: alerts (unique on `alert_id`, so saving twice is harmless) and dead
 * letters. The in-memory store and the MongoDB adapter implement it.
 *
 * @module
 */

import type { Alert, DeadLetter } from "../events/types.ts";

/** Filters of an alert query (CONTRACT.md §4). */
export interface AlertQuery {
  rule?: string;
  entity_type?: string;
  entity_key?: string;
  /** Only alerts whose event time is at or after this (ms). */
  since_ms?: number;
  limit: number;
}

/** Durable storage. */
export interface Store {
  saveAlerts(alerts: readonly Alert[]): Promise<void>;
  /** Newest first. */
  findAlerts(query: AlertQuery): Promise<Alert[]>;
  saveDeadLetters(letters: readonly DeadLetter[]): Promise<void>;
  /** Newest first. */
  findDeadLetters(limit: number): Promise<DeadLetter[]>;
  /** Resolves when the store answers; rejects when it does not. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

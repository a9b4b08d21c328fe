/**
 * The audit log (issue 15, roles): every change a person or the system makes to a case,
 * a suppression, a rule, a model or the cluster, with who, when, and the thing before and
 * after. Stores only append to it; nothing changes or removes an entry (the embedded store
 * keeps the newest, bounded).
 *
 * @module
 */

import type { Role } from "./roles.ts";

/** What was changed. */
export const AUDIT_ACTIONS = [
  "alert.triage",
  "incident.triage",
  "suppression.create",
  "suppression.end",
  "rule.change",
  "rule.auto_shadow",
  "model.activate",
  "model.shadow",
  "model.unshadow",
  "dead_letters.redrive",
  "cluster.scale",
] as const;
export type AuditAction = typeof AUDIT_ACTIONS[number];

/** One change. */
export interface AuditEntry {
  /** Sortable by time: the newest has the greatest id. */
  id: string;
  /** When it was made (ISO-8601, wall clock). */
  at: string;
  /** Who made it: a principal's name, or `system` for a change Vigil made itself. */
  principal: string;
  role: Role | "system";
  action: AuditAction;
  /** What it changed: a kind (`alert`, `incident`, `suppression`, `rule`, …) and an id. */
  target: { kind: string; id: string };
  /** The thing before (null: it did not exist) and after (null: it is gone). */
  before: unknown;
  after: unknown;
}

/** A page of the log. */
export interface AuditQuery {
  limit: number;
  /** Entries older than this id (the `next` of the page before). */
  before?: string;
  /** Made at or after this time (ms). */
  since_ms?: number;
  principal?: string;
  action?: string;
  /** Of this target id. */
  target_id?: string;
}

let last = 0;
let seq = 0;

/** A new entry's id: its time in ms (12 base-36 digits), a counter, and randomness. */
export function auditId(at_ms: number): string {
  if (at_ms === last) seq++;
  else {
    last = at_ms;
    seq = 0;
  }
  const random = [...crypto.getRandomValues(new Uint8Array(6))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${Math.max(0, Math.floor(at_ms)).toString(36).padStart(12, "0")}-` +
    `${seq.toString(36).padStart(4, "0")}-${random}`;
}

/** An entry made now by `who`. */
export function auditEntry(
  who: { name: string; role: Role | "system" },
  action: AuditAction,
  target: { kind: string; id: string },
  before: unknown,
  after: unknown,
  now_ms: number = Date.now(),
): AuditEntry {
  return {
    id: auditId(now_ms),
    at: new Date(now_ms).toISOString(),
    principal: who.name,
    role: who.role,
    action,
    target,
    before: before ?? null,
    after: after ?? null,
  };
}

/** Whether an entry is on a query's page (apart from its limit). */
export function auditMatches(e: AuditEntry, q: AuditQuery): boolean {
  return (q.before === undefined || e.id < q.before) &&
    (q.since_ms === undefined || Date.parse(e.at) >= q.since_ms) &&
    (q.principal === undefined || e.principal === q.principal) &&
    (q.action === undefined || e.action === q.action) &&
    (q.target_id === undefined || e.target.id === q.target_id);
}

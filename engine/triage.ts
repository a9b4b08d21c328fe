/**
 * The analyst's side of an alert or an incident (issue 15, lifecycle): its status, who has
 * it, notes, and on resolution a label. Kept apart from what detection wrote (an alert is
 * immutable, an incident is re-folded as alerts come), so neither overwrites the other.
 *
 * A change is checked and applied by one pure function; the stores keep the result with
 * an optimistic revision (a stale write is refused, the API answers 409).
 *
 * @module
 */

import type { ApiLimits } from "../config/defaults.ts";

/** Where a case is. */
export const TRIAGE_STATUSES = ["open", "acknowledged", "resolved"] as const;
export type TriageStatus = typeof TRIAGE_STATUSES[number];

/** What a resolved case turned out to be (the feedback rules' precision is counted from). */
export const TRIAGE_LABELS = ["true_positive", "false_positive", "benign"] as const;
export type TriageLabel = typeof TRIAGE_LABELS[number];

/** A person's note on a case. */
export interface TriageNote {
  at: string;
  by: string;
  text: string;
}

/** The triage of one alert or incident. */
export interface Triage {
  status: TriageStatus;
  assignee: string | null;
  /** Set when resolved (required then), cleared when reopened. */
  label: TriageLabel | null;
  /**
   * When the label was given (wall clock): kept by later notes or reassignments, renewed
   * when the label changes, null without one. The rules' precision counts labels by it.
   * Absent from triages stored before it existed (their `updated_at` stands in).
   */
  labelled_at?: string | null;
  /** Oldest first; the newest kept (`max_triage_notes`). */
  notes: TriageNote[];
  /** Bumped by every change: the ETag a change must name (`If-Match`). 0: never changed. */
  revision: number;
  updated_at: string | null;
  updated_by: string | null;
}

/** What kind of case a triage belongs to. */
export type TriageKind = "alert" | "incident";

/** A requested change (the body of a PATCH). */
export interface TriageChange {
  status?: TriageStatus;
  assignee?: string | null;
  label?: TriageLabel;
  note?: string;
}

/** The bounds of triage. */
export type TriageLimits = Pick<
  ApiLimits,
  "max_triage_notes" | "max_note_chars" | "max_assignee_chars"
>;

/** The triage of a case nobody has touched. */
export const UNTOUCHED: Readonly<Triage> = Object.freeze({
  status: "open",
  assignee: null,
  label: null,
  labelled_at: null,
  notes: Object.freeze([]) as unknown as TriageNote[],
  revision: 0,
  updated_at: null,
  updated_by: null,
});

/** A change that cannot be applied; the message says why (the API's 400). */
export class TriageError extends Error {}

const FIELDS = new Set(["status", "assignee", "label", "note"]);

/** Reads a PATCH body into a change, or throws a TriageError naming what is wrong. */
export function triageChangeOf(body: unknown, limits: TriageLimits): TriageChange {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new TriageError(
      'Cannot use the body: send an object with "status", "assignee", "label" and/or "note"',
    );
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw new TriageError(`Cannot use field(s) ${unknown.join(", ")}`);
  if (Object.keys(b).length === 0) throw new TriageError("Nothing to change: the body is empty");
  const out: TriageChange = {};
  if ("status" in b) {
    if (!TRIAGE_STATUSES.includes(b.status as TriageStatus)) {
      throw new TriageError(`status must be one of ${TRIAGE_STATUSES.join(", ")}`);
    }
    out.status = b.status as TriageStatus;
  }
  if ("label" in b) {
    if (!TRIAGE_LABELS.includes(b.label as TriageLabel)) {
      throw new TriageError(`label must be one of ${TRIAGE_LABELS.join(", ")}`);
    }
    out.label = b.label as TriageLabel;
  }
  if ("assignee" in b) {
    const a = b.assignee;
    if (a !== null && (typeof a !== "string" || a.trim() === "")) {
      throw new TriageError("assignee must be a name, or null to unassign");
    }
    if (typeof a === "string" && a.length > limits.max_assignee_chars) {
      throw new TriageError(`assignee is longer than ${limits.max_assignee_chars} characters`);
    }
    out.assignee = a === null ? null : (a as string).trim();
  }
  if ("note" in b) {
    if (typeof b.note !== "string" || b.note.trim() === "") {
      throw new TriageError("note must be some text");
    }
    if (b.note.length > limits.max_note_chars) {
      throw new TriageError(`note is longer than ${limits.max_note_chars} characters`);
    }
    out.note = b.note;
  }
  return out;
}

/**
 * The triage after a change by `by` at `at`. A label goes with resolving (or on a case
 * already resolved); resolving needs one; reopening or acknowledging clears it.
 */
export function applyTriage(
  prev: Triage,
  change: TriageChange,
  by: string,
  at: string,
  limits: TriageLimits,
): Triage {
  const status = change.status ?? prev.status;
  let label = status === "resolved" ? change.label ?? prev.label : null;
  if (change.label !== undefined && status !== "resolved") {
    throw new TriageError('A label goes with resolving: send "status": "resolved" with it');
  }
  if (status === "resolved" && label === null) {
    throw new TriageError(`Resolving needs a label: one of ${TRIAGE_LABELS.join(", ")}`);
  }
  if (status !== "resolved") label = null;
  let notes = prev.notes;
  if (change.note !== undefined) {
    notes = notes.concat({ at, by, text: change.note });
    if (notes.length > limits.max_triage_notes) notes = notes.slice(-limits.max_triage_notes);
  }
  const kept = label !== null && label === prev.label;
  return {
    status,
    assignee: change.assignee !== undefined ? change.assignee : prev.assignee,
    label,
    labelled_at: label === null ? null : kept ? prev.labelled_at ?? prev.updated_at ?? at : at,
    notes,
    revision: prev.revision + 1,
    updated_at: at,
    updated_by: by,
  };
}

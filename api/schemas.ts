/**
 * The shapes of the HTTP API as zod schemas (issue 15, item 6): what requests may carry and
 * what answers hold. `api/routes.ts` declares each route with them through
 * `@hono/zod-openapi`, which validates requests by them and writes the OpenAPI document
 * from them: one source for both.
 *
 * The meaning of a change (a label only when resolving, a suppression naming something)
 * is still judged by the engine's own functions (`engine/triage.ts`,
 * `engine/suppressions.ts`, `engine/rules.ts`), which replays use too; the schemas judge
 * the shape.
 *
 * @module
 */

import { z } from "@hono/zod-openapi";
import { defaults } from "../config/defaults.ts";
import { TRIAGE_LABELS, TRIAGE_STATUSES } from "../engine/triage.ts";
import { AUDIT_ACTIONS } from "../engine/audit.ts";
import { INGEST_VERDICTS } from "../engine/ingest_verdicts.ts";
import { ROLES } from "./roles.ts";

/** Every error answer. */
export const ErrorBody = z.object({ error: z.string() }).openapi("Error");

/** A whole-number query parameter from `min` to `max` (absent: undefined). */
export const intQuery = (name: string, min: number, max: number, fallback?: number) =>
  z.string().optional().transform((text, ctx) => {
    if (text === undefined || text === "") return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max) {
      ctx.addIssue({
        code: "custom",
        message: `Query parameter "${name}" must be a whole number from ${min} to ${max}, ` +
          `got "${text}"`,
      });
      return z.NEVER;
    }
    return n;
  }).openapi({
    type: "integer",
    minimum: min,
    maximum: max,
    ...(fallback !== undefined ? { default: fallback } : {}),
  });

/** A time query parameter: ISO-8601 or epoch milliseconds, as ms. */
export const timeQuery = (name: string) =>
  z.string().optional().transform((text, ctx) => {
    if (text === undefined || text === "") return undefined;
    // Only what the document says: `Date.parse` alone also reads "0.5" (as May 2000).
    const ms = /^\d+$/.test(text) ? Number(text) : TIME_RE.test(text) ? Date.parse(text) : NaN;
    if (!Number.isFinite(ms)) {
      ctx.addIssue({
        code: "custom",
        message: `Query parameter "${name}" must be ISO-8601 or epoch milliseconds, got "${text}"`,
      });
      return z.NEVER;
    }
    return ms;
  }).openapi({
    type: "string",
    description: "ISO-8601, or epoch milliseconds",
    pattern: TIME_PATTERN,
  });

/** What a time parameter is documented to be (the parser takes more: what `Date.parse` reads). */
const TIME_PATTERN = "^(\\d{1,15}|\\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])" +
  "(T([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,3})?)?(Z|[+-]([01]\\d|2[0-3]):[0-5]\\d)?)?)?$";
const TIME_RE = new RegExp(TIME_PATTERN);

/** A text query parameter (empty: absent). */
export const textQuery = (description: string) =>
  z.string().optional().transform((t) => (t === "" ? undefined : t)).openapi({
    type: "string",
    description,
  });

/** The paging cursor of a listing. */
export const beforeQuery = textQuery("The `next` of the page before: the listing goes on from it");

/** A path parameter. */
export const pathText = (description: string) => z.string().openapi({ description });

export const Entity = z.object({ type: z.string(), key: z.string() }).openapi("Entity");

export const Severity = z.enum(["info", "low", "medium", "high", "critical"]).openapi("Severity");

export const TriageNote = z.object({ at: z.string(), by: z.string(), text: z.string() });

/** The analyst's side of a case (`engine/triage.ts`). */
export const Triage = z.object({
  status: z.enum(TRIAGE_STATUSES),
  assignee: z.string().nullable(),
  label: z.enum(TRIAGE_LABELS).nullable(),
  notes: z.array(TriageNote),
  revision: z.number().int().openapi({ description: "The ETag a change names in If-Match" }),
  updated_at: z.string().nullable(),
  updated_by: z.string().nullable(),
}).openapi("Triage");

/** An alert as it leaves Vigil (docs/events-and-alerts.md), with its triage. */
export const Alert = z.object({
  alert_id: z.string(),
  rule: z.string(),
  severity: Severity,
  entity: Entity,
  timestamp: z.string().openapi({ description: "Event time of the event that triggered it" }),
  detected_at: z.string().openapi({ description: "Wall-clock time when raised" }),
  score: z.number().optional(),
  model: z.string().optional(),
  evidence: z.record(z.string(), z.unknown()),
  event_ids: z.array(z.string()),
  mode: z.enum(["enforce", "shadow", "suppressed"]),
  suppressed_by: z.string().optional(),
  incident: z.object({ id: z.string(), anchor: Entity, episode: z.string() }).optional(),
  triage: Triage,
}).openapi("Alert");

/** Related alerts as one case (`engine/incidents.ts`), with its triage. */
export const Incident = z.object({
  incident_id: z.string(),
  anchor: Entity,
  episode: z.string(),
  severity: Severity,
  rules: z.array(z.string()),
  entities: z.array(Entity),
  alert_ids: z.array(z.string()),
  alert_count: z.number().int(),
  first_seen: z.string(),
  last_seen: z.string(),
  summary: z.string(),
  version: z.number().int(),
  triage: Triage,
}).openapi("Incident");

/** A page of a listing: `next` is the cursor for `before` (null: the last page). */
const page = <T extends z.ZodType>(name: string, item: T) =>
  z.object({ count: z.number().int(), [name]: z.array(item), next: z.string().nullable() });

export const AlertPage = page("alerts", Alert).openapi("AlertPage");
export const IncidentPage = page("incidents", Incident).openapi("IncidentPage");
export const IncidentWithAlerts = Incident.extend({ alerts: z.array(Alert) })
  .openapi("IncidentWithAlerts");

/** A PATCH of a case's triage. */
export const TriageChange = z.strictObject({
  status: z.enum(TRIAGE_STATUSES, {
    error: `status must be one of ${TRIAGE_STATUSES.join(", ")}`,
  }).optional(),
  assignee: z.string({ error: "assignee must be a name, or null to unassign" }).nullable()
    .optional(),
  label: z.enum(TRIAGE_LABELS, { error: `label must be one of ${TRIAGE_LABELS.join(", ")}` })
    .optional().openapi({ description: "With status resolved, which needs one" }),
  note: z.string({ error: "note must be some text" }).optional(),
}).openapi("TriageChange");

export const TriageAnswer = z.object({ id: z.string(), triage: Triage });

/** An analyst's suppression (`engine/suppressions.ts`). */
export const Suppression = z.object({
  id: z.string(),
  rule: z.string().nullable(),
  entity_type: z.string().nullable(),
  entity_key: z.string().nullable(),
  cidr: z.string().nullable(),
  reason: z.string(),
  author: z.string(),
  starts_at: z.string().openapi({ description: "Event time it applies from" }),
  expires_at: z.string().openapi({ description: "Event time it applies until (exclusive)" }),
  created_at: z.string(),
  incident_id: z.string().nullable(),
}).openapi("Suppression");

const when = z.union([z.string(), z.number()]).openapi({
  description: "ISO-8601 or epoch milliseconds (event time)",
});

/** What a suppression is made from. */
export const SuppressionRequest = z.strictObject({
  rule: z.string().nullable().optional(),
  entity_type: z.string().nullable().optional(),
  entity_key: z.string().nullable().optional(),
  cidr: z.string().nullable().optional().openapi({ example: "203.0.113.0/24" }),
  reason: z.string({ error: "reason must say why (some text)" }).openapi({
    minLength: 1,
    pattern: "\\S",
    description: "Why: some text",
  }),
  starts_at: when.optional(),
  expires_at: when.optional(),
  duration_s: z.number().optional().openapi({ exclusiveMinimum: 0 }),
}).openapi("SuppressionRequest");

/** What a suppression made from an incident takes: the incident names its entity. */
export const IncidentSuppressionRequest = SuppressionRequest.omit({
  entity_type: true,
  entity_key: true,
  cidr: true,
}).openapi("IncidentSuppressionRequest");

export const SuppressionList = z.object({
  count: z.number().int(),
  suppressions: z.array(Suppression),
});

/** A change in the audit log (`engine/audit.ts`). */
export const AuditEntry = z.object({
  id: z.string(),
  at: z.string(),
  principal: z.string(),
  role: z.enum([...ROLES, "system"]),
  action: z.enum(AUDIT_ACTIONS),
  target: z.object({ kind: z.string(), id: z.string() }),
  before: z.unknown(),
  after: z.unknown(),
}).openapi("AuditEntry");

export const AuditPage = page("entries", AuditEntry).openapi("AuditPage");

/** A signed-in session, as the console reads it. */
export const SessionBody = z.object({
  principal: z.string(),
  role: z.enum(ROLES),
  csrf_token: z.string().openapi({ description: "Send it as X-CSRF-Token with every change" }),
  expires_at: z.string(),
}).openapi("Session");

export const SignIn = z.object({ token: z.string({ error: 'Send {"token": "<token>"}' }) });

/** A rule as it runs now (`engine/rules.ts`), its precision and its alert budget. */
export const Rule = z.object({
  rule: z.string().openapi({ description: "Its dotted name, e.g. auth.brute_force" }),
  entity: z.string().openapi({ description: "The actor type it runs in" }),
  mode: z.enum(["enforce", "shadow"]),
  params: z.record(z.string(), z.number()),
  feedback: z.object({
    precision: z.number().nullable().openapi({
      description: "true_positive / (true_positive + false_positive); null without either",
    }),
    true_positive: z.number().int(),
    false_positive: z.number().int(),
    benign: z.number().int().openapi({ description: "Counted apart: not in the precision" }),
    window_days: z.number(),
  }).openapi({
    description: "The analysts' resolution labels of its alerts given in the last " +
      "window_days (VIGIL_RULES_PRECISION_WINDOW_DAYS, wall clock); an incident's label counts " +
      "for each of its alerts without a label of their own (docs/feedback.md)",
  }),
  budget: z.object({
    per_hour: z.number().int().nullable().openapi({ description: "null: no budget" }),
    last_hour: z.number().int().openapi({ description: "Suppressed alerts left out" }),
    over: z.boolean().openapi({ description: "last_hour > per_hour" }),
    auto_shadow: z.boolean().openapi({
      description: "Going over moves it from enforce to shadow mode (VIGIL_RULES_AUTO_SHADOW)",
    }),
  }).openapi({
    description: "Its alert budget (VIGIL_RULES_BUDGET_PER_HOUR, VIGIL_RULES_BUDGETS) against " +
      "its alerts of the last hour of event time, every process together",
  }),
}).openapi("Rule");

export const RuleChange = z.strictObject({
  mode: z.unknown().optional().openapi({ type: "string", enum: ["enforce", "shadow"] }),
  params: z.unknown().optional().openapi({
    type: "object",
    additionalProperties: { type: "number" },
    description: "Parameter name → value",
  }),
}).openapi("RuleChange");

/** A model as the API lists it. */
export const Model = z.object({
  name: z.string(),
  active: z.string().nullable(),
  shadow: z.object({
    version: z.string(),
    agree: z.number(),
    disagree: z.number(),
    error: z.number(),
  }).nullable(),
  versions: z.array(z.string()),
  manifest: z.record(z.string(), z.unknown()).nullable(),
}).openapi("Model");

export const VersionBody = z.object({
  version: z.string({ error: '"version" must be a version name such as "2"' })
    .regex(/^[A-Za-z0-9._-]{1,64}$/, '"version" must be a version name such as "2"'),
});

/** The categories of dead letters. */
export const DEAD_LETTER_CATEGORIES = [
  "invalid",
  "oversized",
  "late",
  "future",
  "failed",
  "quarantined",
  "stopped",
] as const;

export const DeadLetter = z.object({
  source: z.string(),
  reason: z.string(),
  raw: z.string(),
  raw_bytes: z.number().int(),
  at: z.string(),
  category: z.string().optional(),
}).openapi("DeadLetter");

export const ArchivedEvent = z.object({
  event_id: z.string(),
  kind: z.string(),
  ts: z.number(),
  raw: z.record(z.string(), z.unknown()),
}).openapi("ArchivedEvent");

/** A page's views per window (`GET /api/v1/pages/{page}/counts`). */
export const PageCounts = z.object({
  page: z.string(),
  window_ms: z.number().int(),
  counts: z.array(z.object({
    start: z.string(),
    start_ms: z.number(),
    views: z.number().int(),
    closed: z.boolean(),
  })),
}).openapi("PageCounts");

/** One roll-up row (`io/rollups.ts`). */
export const RollupRow = z.object({
  period: z.enum(["hour", "day"]),
  start_ms: z.number(),
  kind: z.string(),
  type: z.string(),
  status: z.string(),
  count: z.number().int(),
  amount_sum: z.number(),
  amount_buckets: z.array(z.number().int()),
}).openapi("RollupRow");

const counts = z.record(z.string(), z.number().int());

/** `GET /api/v1/stats`. */
export const Stats = z.object({
  period: z.enum(["hour", "day"]),
  from: z.string(),
  to: z.string(),
  amount_bounds: z.array(z.number()),
  last_run: z.object({
    outcome: z.enum(["ok", "failed"]),
    from: z.string(),
    to: z.string(),
    started_at: z.string(),
    duration_ms: z.number(),
    rows: z.number().int(),
    error: z.string().optional(),
  }).nullable(),
  totals: z.object({
    events: counts,
    alerts_by_rule: counts,
    alerts_by_severity: counts,
    amounts: z.array(z.object({
      type: z.string(),
      status: z.string(),
      count: z.number().int(),
      sum: z.number(),
      p50: z.number().nullable(),
      p95: z.number().nullable(),
      p99: z.number().nullable(),
    })),
  }),
  rows: z.array(RollupRow),
  truncated: z.boolean(),
}).openapi("Stats");

/** A page of archived events (`GET /api/v1/events`). */
export const EventPage = page("events", ArchivedEvent).openapi("EventPage");

/** The answer to `POST /api/v1/events`. */
export const IngestResult = z.object({
  accepted: z.number().int().openapi({
    description: "Events taken in: accepted here, or forwarded to the worker owning their " +
      "partition",
  }),
  rejected: z.number().int().openapi({
    description: "Events refused (invalid, oversized, late, future), each dead-lettered with " +
      "its reason",
  }),
  errors: z.array(z.object({ index: z.number().int(), reason: z.string() })).openapi({
    description: "The first 20 refusals",
  }),
  forwarded: z.number().int().openapi({
    description: "Of the accepted, those another worker judges (its watermark is not known here)",
  }),
  items: z.array(z.object({
    index: z.number().int().openapi({ description: "The item's place in the request, from 0" }),
    verdict: z.enum(INGEST_VERDICTS).openapi({
      description: "accepted: taken in, its lanes held until the intake takes it, so it is " +
        "not found late after; invalid, oversized: refused as today; late: older than its " +
        "lane's watermark past the allowed lateness; future: too far ahead of the clock; " +
        "forwarded: taken in for a partition another worker owns",
    }),
    event_id: z.string().optional().openapi({ description: "The event's id, given or derived" }),
    reason: z.string().optional().openapi({ description: "Why, for every verdict but accepted" }),
  })).openapi({
    description: "Every item's verdict, in the request's order (one per item, at most " +
      "VIGIL_API_MAX_EVENTS_PER_REQUEST; reasons cut at VIGIL_API_MAX_ITEM_REASON_CHARS)",
  }),
}).openapi("IngestResult");

export const RedriveBody = z.strictObject({
  category: z.enum(DEAD_LETTER_CATEGORIES, {
    error: `"category" must be one of ${DEAD_LETTER_CATEGORIES.join(", ")}`,
  }).optional(),
  limit: z.number({ error: '"limit" must be a whole number' }).optional().openapi({
    type: "integer",
    minimum: 1,
    maximum: defaults.api.max_events_per_request,
    description: "At most VIGIL_API_MAX_EVENTS_PER_REQUEST; default 100",
  }),
}, {
  error: (issue) =>
    issue.code === "invalid_type"
      ? 'Cannot use the body: it must be an object such as {"category": "future", ' +
        `"limit": 100}, got ${typeName(issue.input)}`
      : undefined,
}).openapi("Redrive");

export const RedriveResult = IngestResult.extend({
  taken: z.number().int(),
  redriven: z.number().int(),
  kept_cut: z.number().int(),
});

export const ClusterScale = z.object({
  workers: z.number({ error: 'Field "workers" must be a number' }),
});

/** A value's kind, as a person says it (`an array`, `null`, `string`). */
function typeName(v: unknown): string {
  return Array.isArray(v) ? "an array" : v === null ? "null" : typeof v;
}

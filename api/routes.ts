/**
 * Every route of the HTTP API, declared once with its zod schemas (`api/schemas.ts`):
 * `@hono/zod-openapi` validates requests by these declarations and writes the OpenAPI
 * document (`/openapi.json`) from them. The handlers are in `api/app.ts`; each route's role
 * is in `api/roles.ts`, written into the document beside these.
 *
 * @module
 */

import { createRoute, z } from "@hono/zod-openapi";
import type { ApiLimits } from "../config/defaults.ts";
import { ENTITY_FIELDS } from "../io/store.ts";
import { EVENT_KINDS } from "../events/types.ts";

/** A model's name in a path: one plain segment. */
const modelName = pathText("The model").openapi({ pattern: "^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$" });
import {
  Alert,
  AlertPage,
  ArchivedEvent,
  AuditPage,
  beforeQuery,
  ClusterScale,
  DeadLetter,
  ErrorBody,
  EventPage,
  IncidentPage,
  IncidentSuppressionRequest,
  IncidentWithAlerts,
  IngestResult,
  intQuery,
  Model,
  PageCounts,
  pathText,
  RedriveBody,
  RedriveResult,
  Rule,
  RuleChange,
  SessionBody,
  SignIn,
  Stats,
  Suppression,
  SuppressionList,
  SuppressionRequest,
  textQuery,
  timeQuery,
  TriageAnswer,
  TriageChange,
  VersionBody,
} from "./schemas.ts";

const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});
const error = (description: string) => json(ErrorBody, description);
const jsonBody = <T extends z.ZodType>(schema: T, required = true) => ({
  body: { content: { "application/json": { schema } }, required },
});
const bad = { 400: error("Invalid request: the message says what is wrong") };
const tooLarge = { 413: error("Body too large") };
const unsupported = { 415: error("A body that is not Content-Type: application/json") };
const Readiness = z.object({ ready: z.boolean(), reasons: z.array(z.string()) });
const id = (what: string) => z.object({ id: pathText(`The ${what}'s id`) });

/** The routes, for these limits (the largest page, the ingest's bounds). */
export function routesOf(limits: ApiLimits) {
  const limit = intQuery("limit", 1, limits.max_alerts_page, 100);
  const listing = {
    rule: textQuery("Only this rule's"),
    entity_type: textQuery("With entity_key: about this entity"),
    entity_key: textQuery("With entity_type: about this entity"),
    since: timeQuery("since"),
    limit,
    before: beforeQuery,
  };
  const triagePatch = (kind: "alert" | "incident") =>
    createRoute({
      method: "patch",
      path: `/api/v1/${kind}s/{id}`,
      summary: `Change the ${kind}'s triage: status, assignee, a note, a label on resolving`,
      description: "Any of `status` (open, acknowledged, resolved), `assignee` (a name, or " +
        "null), `note` (text), `label` (true_positive, false_positive, benign; with status " +
        "resolved, which needs one). `If-Match` must carry the ETag of the triage as read.",
      request: {
        params: id(kind),
        headers: z.object({
          "if-match": z.string().optional().openapi({
            description: "The ETag of the triage as read (required: 428 without)",
          }),
        }),
        ...jsonBody(TriageChange),
      },
      responses: {
        200: json(TriageAnswer, "The new triage (ETag: its revision)"),
        ...bad,
        404: error(`No such ${kind}`),
        409: json(
          ErrorBody.extend({ triage: TriageAnswer.shape.triage }),
          "The triage changed since it was read: the stored one, to read again",
        ),
        ...tooLarge,
        ...unsupported,
        428: error("No If-Match"),
      },
    });

  return {
    health: createRoute({
      method: "get",
      path: "/health",
      summary: "Process alive",
      responses: { 200: json(z.object({ status: z.literal("ok") }), "Alive") },
    }),
    ready: createRoute({
      method: "get",
      path: "/ready",
      summary: "Consuming and able to persist",
      responses: {
        200: json(Readiness, "Ready"),
        503: json(Readiness, "Not ready, with reasons"),
      },
    }),
    metrics: createRoute({
      method: "get",
      path: "/metrics",
      summary: "Prometheus metrics (text format)",
      responses: { 200: { description: "Prometheus text format" } },
    }),
    document: createRoute({
      method: "get",
      path: "/openapi.json",
      summary: "This document",
      responses: { 200: { description: "OpenAPI 3.1" } },
    }),
    docs: createRoute({
      method: "get",
      path: "/docs",
      summary: "This document to browse and try (Swagger UI, served by Vigil itself)",
      responses: { 200: { description: "HTML" } },
    }),
    signIn: createRoute({
      method: "post",
      path: "/auth/session",
      summary: "Sign in with a token: a session cookie (HttpOnly, SameSite=Strict) and the " +
        "CSRF token its changes must carry (X-CSRF-Token)",
      request: jsonBody(SignIn),
      responses: {
        200: json(SessionBody, "Signed in; Set-Cookie: vigil_session"),
        ...bad,
        401: error("Wrong token"),
        404: error("This process has no sessions"),
        ...tooLarge,
        ...unsupported,
      },
    }),
    session: createRoute({
      method: "get",
      path: "/auth/session",
      summary: "The session of the cookie",
      responses: {
        200: json(SessionBody, "The session"),
        401: error("Not signed in, or the session expired"),
      },
    }),
    signOut: createRoute({
      method: "delete",
      path: "/auth/session",
      summary: "Sign out: the session ends and the cookie is cleared",
      responses: { 204: { description: "Signed out" } },
    }),
    audit: createRoute({
      method: "get",
      path: "/api/v1/audit",
      summary: "The audit log, newest first: every change (triage, suppression, rule, model, " +
        "cluster, re-drive) with principal, time, before and after",
      request: {
        query: z.object({
          principal: textQuery("Made by this principal"),
          action: textQuery("Of this action (rule.change, incident.triage, …)"),
          target_id: textQuery("Of this target's id"),
          since: timeQuery("since"),
          limit,
          before: beforeQuery,
        }),
      },
      responses: { 200: json(AuditPage, "Entries, and the cursor of the next page"), ...bad },
    }),
    events: createRoute({
      method: "post",
      path: "/api/v1/events",
      summary: "Ingest events: one JSON object, an array, or NDJSON",
      description:
        "Each item is judged on its own (docs/events-and-alerts.md): an invalid one is " +
        "dead-lettered with its reason and the others go in. The body is read as JSON, or as " +
        "NDJSON (one object a line) when it says so or does not parse as one value.",
      request: {
        body: {
          required: true,
          content: {
            // Not validated here: each item is judged and dead-lettered by the intake, so any
            // JSON value is taken (an item that is not an event object gets its verdict).
            "application/json": {
              schema: {
                description: "An event object, an array of them, or any JSON value: each item " +
                  "that is not an event is refused with its reason in `items`",
              },
            },
            "application/x-ndjson": { schema: { type: "string" } },
          },
        },
      },
      responses: {
        202: json(IngestResult, "Each item's verdict and the counts"),
        ...bad,
        ...tooLarge,
        429: error("Past the ingest rate (VIGIL_API_INGEST_EVENTS_PER_S); see Retry-After"),
        503: error(
          "Too many accepted events still waiting for the intake " +
            "(VIGIL_API_MAX_WATERMARK_HOLDS); nothing taken in; see Retry-After",
        ),
      },
    }),
    alerts: createRoute({
      method: "get",
      path: "/api/v1/alerts",
      summary: "Alerts, newest first",
      description: "A full page comes with `next`: pass it as `before` for the next page.",
      request: {
        query: z.object({ ...listing, incident_id: textQuery("Of this incident") }),
      },
      responses: { 200: json(AlertPage, "Alerts, and the cursor of the next page"), ...bad },
    }),
    alert: createRoute({
      method: "get",
      path: "/api/v1/alerts/{id}",
      summary: "One alert, with its triage",
      request: { params: id("alert") },
      responses: {
        200: json(Alert, "The alert and its triage (ETag: its revision)"),
        404: error("No such alert"),
      },
    }),
    alertTriage: triagePatch("alert"),
    incidents: createRoute({
      method: "get",
      path: "/api/v1/incidents",
      summary: "Incidents (related alerts as one case), newest first seen first",
      description: "`severity`: the lowest severity listed. `entity_type` with `entity_key`: " +
        "incidents about or naming that entity. `since`: last seen at or after. A full page " +
        "comes with `next`: pass it as `before` for the next page.",
      request: {
        query: z.object({
          severity: textQuery("The lowest severity listed: info, low, medium, high, critical")
            .openapi({ enum: ["", "info", "low", "medium", "high", "critical"] }),
          ...listing,
        }),
      },
      responses: {
        200: json(IncidentPage, "Incidents, and the cursor of the next page"),
        ...bad,
      },
    }),
    incident: createRoute({
      method: "get",
      path: "/api/v1/incidents/{id}",
      summary: "One incident, with its triage and its alerts",
      request: { params: id("incident") },
      responses: {
        200: json(
          IncidentWithAlerts,
          "The incident, its triage (ETag: its revision) and its alerts (newest first, up to a page)",
        ),
        404: error("No such incident"),
      },
    }),
    incidentTriage: triagePatch("incident"),
    suppressions: createRoute({
      method: "get",
      path: "/api/v1/suppressions",
      summary: "The suppressions, newest first (ended ones too)",
      request: {
        query: z.object({
          active: z.enum(["true", "false"], { error: "active must be true or false" })
            .optional().openapi({ description: "Only those in force now (true) or not (false)" }),
        }),
      },
      responses: { 200: json(SuppressionList, "The suppressions"), ...bad },
    }),
    suppress: createRoute({
      method: "post",
      path: "/api/v1/suppressions",
      summary: "Suppress a rule, an entity or a network (CIDR), for a while, with a reason",
      description: "`reason`, `duration_s` or `expires_at` (and `starts_at`), and any of " +
        "`rule`, `entity_type` with `entity_key`, `cidr`. Alerts it covers (judged at their " +
        'event time) are kept with `mode: "suppressed"` and notify no one.',
      request: jsonBody(SuppressionRequest),
      responses: {
        201: json(Suppression, "The suppression"),
        ...bad,
        ...tooLarge,
        ...unsupported,
      },
    }),
    endSuppression: createRoute({
      method: "delete",
      path: "/api/v1/suppressions/{id}",
      summary: "End a suppression now (it stays listed, ended)",
      request: { params: id("suppression") },
      responses: {
        200: json(Suppression, "The suppression, ended"),
        404: error("No such suppression"),
      },
    }),
    suppressIncident: createRoute({
      method: "post",
      path: "/api/v1/incidents/{id}/suppress",
      summary: "Suppress what the incident is about (its anchor), in one action",
      description: "`reason`, `duration_s` or `expires_at`, and `rule` to suppress only one " +
        "rule; the incident names the entity.",
      request: { params: id("incident"), ...jsonBody(IncidentSuppressionRequest) },
      responses: {
        201: json(Suppression, "The suppression"),
        ...bad,
        404: error("No such incident"),
        ...tooLarge,
        ...unsupported,
      },
    }),
    actors: createRoute({
      method: "get",
      path: "/api/v1/actors",
      summary: "Actor counts by type, mailboxes, and the partitions this process owns",
      responses: {
        200: json(
          z.object({
            types: z.record(z.string(), z.object({ resident: z.number().int() })),
            mailbox_depth: z.number().int(),
            max_mailbox_depth: z.number().int(),
            busy: z.number().int(),
            timers: z.number().int(),
            quarantined: z.number().int(),
            partition_restarts: z.number().int(),
            partitions: z.array(z.number().int()).nullable(),
          }),
          "Counts",
        ),
      },
    }),
    actor: createRoute({
      method: "get",
      path: "/api/v1/actors/{type}/{key}",
      summary: "One actor's state (resident or passivated)",
      request: {
        params: z.object({
          type: pathText("user, ip, source, service, page, …"),
          key: pathText("Its key"),
        }),
      },
      responses: {
        200: json(
          z.object({
            type: z.string(),
            key: z.string(),
            resident: z.boolean(),
            state: z.unknown(),
          }),
          "Its state",
        ),
        404: error("No such actor type, or no such actor seen"),
      },
    }),
    cluster: createRoute({
      method: "get",
      path: "/api/v1/cluster",
      summary: "The workers and the partitions each owns (a worker or start: itself)",
      responses: {
        200: json(
          z.looseObject({ size: z.number().int(), workers: z.array(z.looseObject({})) }),
          "Size and workers",
        ),
      },
    }),
    scale: createRoute({
      method: "post",
      path: "/api/v1/cluster",
      summary: 'Scale the workers to {"workers": N} (the cluster supervisor only)',
      request: jsonBody(ClusterScale),
      responses: {
        202: json(z.looseObject({ size: z.number().int() }), "Scaling"),
        ...bad,
        409: error("This process does not supervise workers"),
        ...tooLarge,
        ...unsupported,
      },
    }),
    archive: createRoute({
      method: "get",
      path: "/api/v1/archive",
      summary: "The newest events of the raw archive (when VIGIL_IO_ARCHIVE_RAW_EVENTS is on): " +
        "all, those of `event_ids`, or an entity's (a user's by `user_id`, an address's by " +
        "`ip`, `src_ip` or `dst_ip`, a source's by `src_ip`, a service's, a page's)",
      request: {
        query: z.object({
          limit,
          event_ids: textQuery("Comma-separated event ids (at most a page)"),
          entity_type: z.enum(Object.keys(ENTITY_FIELDS) as [string, ...string[]]).optional()
            .openapi({ description: "With entity_key: this entity's events" }),
          entity_key: textQuery("With entity_type: this entity's events"),
        }),
      },
      responses: {
        200: json(
          z.object({ count: z.number().int(), events: z.array(ArchivedEvent) }),
          "Archived events",
        ),
        ...bad,
      },
    }),
    stats: createRoute({
      method: "get",
      path: "/api/v1/stats",
      summary: "Counts over a range from the hourly or daily roll-ups: events per kind, alerts " +
        "per rule and severity, transactions per type and status with amount percentiles, " +
        "and every row",
      description: "The roll-ups cover what their job has rolled up (`last_run`: every " +
        "VIGIL_AGGREGATE_INTERVAL_MS, or `deno task aggregate --from --to`). Default range: " +
        "the last 7 days; `period` hour (default) or day; a row's start in [from, to).",
      request: {
        query: z.object({
          period: z.enum(["hour", "day"]).optional().openapi({ description: "hour or day" }),
          kind: z.enum([...EVENT_KINDS, "alert"]).optional().openapi({
            description: "Only this kind's rows (alert: the alerts')",
          }),
          from: timeQuery("from"),
          to: timeQuery("to"),
        }),
      },
      responses: { 200: json(Stats, "The totals and rows"), ...bad },
    }),
    pageCounts: createRoute({
      method: "get",
      path: "/api/v1/pages/{page}/counts",
      summary: "A page's views per window (1 min by default) in [from, to): the closed windows " +
        "its actor keeps (VIGIL_PAGE_HISTORY_WINDOWS) and the open ones",
      description: "The clickstream feature other services read (the seed's " +
        "`click_count:<page>`): a window without views is not listed. `page` is the path " +
        "URL-encoded (`%2Ftransfer`).",
      request: {
        params: z.object({ page: pathText("The page, URL-encoded") }),
        query: z.object({ from: timeQuery("from"), to: timeQuery("to") }),
      },
      responses: {
        200: json(PageCounts, "Its windows, oldest first"),
        ...bad,
        404: error("No views of this page have been seen"),
      },
    }),
    eventQuery: createRoute({
      method: "get",
      path: "/api/v1/events",
      summary: "Archived events, newest first (by event time, then id): of a kind, a user, an " +
        "address (a login's `ip`, a flow's `src_ip` or `dst_ip`), an account, a service, a page, " +
        "and a time range",
      description: "Over the raw archive (VIGIL_IO_ARCHIVE_RAW_EVENTS: on by default with " +
        "MongoDB, kept VIGIL_IO_ARCHIVE_RETENTION_S; in memory the newest " +
        "VIGIL_MEMORY_STORE_MAX_DEAD_LETTERS). A full page comes with `next`: pass it as " +
        "`after` for the next page.",
      request: {
        query: z.object({
          kind: z.enum(EVENT_KINDS).optional().openapi({ description: "Only this kind" }),
          user_id: textQuery("Only this user's"),
          ip: textQuery("Only those with this address (ip, src_ip or dst_ip)"),
          account_id: textQuery("Only this account's"),
          service: textQuery("Only this service's"),
          page: textQuery("Only this page's"),
          from: timeQuery("from"),
          to: timeQuery("to"),
          limit,
          after: textQuery("The `next` of the page before: the listing goes on after it"),
        }),
      },
      responses: { 200: json(EventPage, "Events, and the cursor of the next page"), ...bad },
    }),
    deadLetters: createRoute({
      method: "get",
      path: "/api/v1/dead-letters",
      summary: "Dead letters, newest first",
      request: { query: z.object({ limit }) },
      responses: {
        200: json(
          z.object({ count: z.number().int(), dead_letters: z.array(DeadLetter) }),
          "Dead letters",
        ),
        ...bad,
      },
    }),
    redrive: createRoute({
      method: "post",
      path: "/api/v1/dead-letters/redrive",
      summary: "Re-drive dead letters after a fix: the newest `limit` (of `category`, if " +
        "given) are taken out and ingested again; those still invalid are dead-lettered anew",
      request: jsonBody(RedriveBody, false),
      responses: {
        202: json(RedriveResult, "Taken, re-driven, and the ingest counts"),
        ...bad,
        ...tooLarge,
        ...unsupported,
        503: error("No room to hold them now; they are kept; see Retry-After"),
      },
    }),
    models: createRoute({
      method: "get",
      path: "/api/v1/models",
      summary: "The models: the active version, the versions present, the active manifest",
      responses: {
        200: json(z.object({ count: z.number().int(), models: z.array(Model) }), "Models"),
        404: error("No models served"),
      },
    }),
    activate: createRoute({
      method: "post",
      path: "/api/v1/models/{name}/activate",
      summary: 'Hot reload: load, check and swap in a version (body {"version": "2"})',
      request: { params: z.object({ name: modelName }), ...jsonBody(VersionBody) },
      responses: {
        200: json(
          z.object({ name: z.string(), version: z.string(), previous: z.string().nullable() }),
          "Active version and the previous one",
        ),
        ...bad,
        404: error("No such model or version"),
        ...tooLarge,
        ...unsupported,
        422: json(
          ErrorBody.extend({ active: z.literal("unchanged") }),
          "The version failed its checks; the active one keeps serving",
        ),
      },
    }),
    shadow: createRoute({
      method: "post",
      path: "/api/v1/models/{name}/shadow",
      summary:
        'Shadow scoring: score a candidate version beside the active one (body {"version": "3"})',
      request: { params: z.object({ name: modelName }), ...jsonBody(VersionBody) },
      responses: {
        200: json(z.object({ name: z.string(), shadow: z.string() }), "The shadow version"),
        ...bad,
        404: error("No such model or version"),
        ...tooLarge,
        ...unsupported,
        422: error("The candidate failed its checks"),
      },
    }),
    unshadow: createRoute({
      method: "delete",
      path: "/api/v1/models/{name}/shadow",
      summary: "Stop shadow scoring",
      request: { params: z.object({ name: modelName }) },
      responses: {
        200: json(z.object({ name: z.string(), shadow: z.null() }), "No shadow"),
        ...bad,
        404: error("No shadow to stop"),
      },
    }),
    rules: createRoute({
      method: "get",
      path: "/api/v1/rules",
      summary: "Every rule: its entity, mode (enforce or shadow) and parameters now, its " +
        "precision from the analysts' labels and its alert budget",
      responses: {
        200: json(z.object({ count: z.number().int(), rules: z.array(Rule) }), "Rules"),
        404: error("No rules served"),
      },
    }),
    rule: createRoute({
      method: "get",
      path: "/api/v1/rules/{rule}",
      summary: "One rule",
      request: { params: z.object({ rule: pathText("The rule") }) },
      responses: { 200: json(Rule, "The rule"), 404: error("No such rule") },
    }),
    changeRule: createRoute({
      method: "patch",
      path: "/api/v1/rules/{rule}",
      summary:
        'Change a rule at run time: {"mode": "enforce" | "shadow", "params": {"name": number}}; ' +
        "all or nothing, from the next event on",
      request: { params: z.object({ rule: pathText("The rule") }), ...jsonBody(RuleChange) },
      responses: {
        200: json(Rule, "The rule as it is now"),
        400: error("A parameter the rule does not read, or a value it cannot take"),
        404: error("No such rule"),
        ...tooLarge,
        ...unsupported,
      },
    }),
  };
}

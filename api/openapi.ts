/**
 * The OpenAPI 3.1 description of the HTTP API, served at `/openapi.json`.
 *
 * @module
 */

import { SESSION_COOKIE } from "./auth.ts";
import { openapiPath, ROUTE_ROLES } from "./roles.ts";

const bearer = [{ bearer: [] }];
const json = (description: string) => ({ description, content: { "application/json": {} } });
/** Every /api/v1 route: no or a wrong token. */
const unauthorized = { "401": json("No principal: a missing or wrong token, or no session") };
/** Routes that validate their query or body. */
const errors = {
  "400": json("Invalid request (the message says what is wrong)"),
  ...unauthorized,
};
const tooLarge = { "413": json("Body too large") };

/** What each item of an ingest request became (`engine/ingest_verdicts.ts`). */
export const INGEST_VERDICTS = [
  "accepted",
  "invalid",
  "oversized",
  "late",
  "future",
  "forwarded",
] as const;

/** The answer to `POST /api/v1/events`. */
const ingestResult = {
  type: "object",
  required: ["accepted", "rejected", "errors", "forwarded", "items"],
  properties: {
    accepted: {
      type: "integer",
      description:
        "Events taken in: accepted here, or forwarded to the worker owning their partition",
    },
    rejected: {
      type: "integer",
      description:
        "Events refused (invalid, oversized, late, future), each dead-lettered with its reason",
    },
    errors: {
      type: "array",
      description: "The first 20 refusals",
      items: {
        type: "object",
        properties: { index: { type: "integer" }, reason: { type: "string" } },
      },
    },
    forwarded: {
      type: "integer",
      description: "Of the accepted, those another worker judges (its watermark is not known here)",
    },
    items: {
      type: "array",
      description: "Every item's verdict, in the request's order (one per item, at most " +
        "VIGIL_API_MAX_EVENTS_PER_REQUEST; reasons cut at VIGIL_API_MAX_ITEM_REASON_CHARS)",
      items: {
        type: "object",
        required: ["index", "verdict"],
        properties: {
          index: { type: "integer", description: "The item's place in the request, from 0" },
          verdict: {
            type: "string",
            enum: INGEST_VERDICTS,
            description: "accepted: taken in, its lanes held until the intake takes it, so it " +
              "is not found late after; invalid, oversized: refused as today; late: older " +
              "than its lane's watermark past the allowed lateness; future: too far ahead of " +
              "the clock; forwarded: taken in for a partition another worker owns",
          },
          event_id: { type: "string", description: "The event's id, given or derived" },
          reason: { type: "string", description: "Why, for every verdict but accepted" },
        },
      },
    },
  },
};

/** Optional query parameters (`limit` an integer, the others strings). */
const queryParams = (names: string[]) =>
  names.map((name) => ({
    name,
    in: "query",
    required: false,
    schema: { type: name === "limit" ? "integer" : "string" },
  }));

const idParam = { name: "id", in: "path", required: true, schema: { type: "string" } };

/** Changing an alert's or an incident's triage (`engine/triage.ts`). */
const triagePatch = (kind: string) => ({
  summary: `Change the ${kind}'s triage: status, assignee, a note, a label on resolving`,
  security: bearer,
  description: "Body: any of `status` (open, acknowledged, resolved), `assignee` (a name, " +
    "or null), `note` (text), `label` (true_positive, false_positive, benign; with status " +
    "resolved, which needs one). `If-Match` must carry the ETag of the triage as read.",
  parameters: [
    idParam,
    { name: "If-Match", in: "header", required: true, schema: { type: "string" } },
  ],
  requestBody: { content: { "application/json": {} } },
  responses: {
    "200": json("The new triage (ETag: its revision)"),
    ...errors,
    "404": json(`No such ${kind}`),
    "409": json("The triage changed since it was read: the stored one, to read again"),
    ...tooLarge,
    "428": json("No If-Match"),
  },
});

/** The filters and paging of the alert and incident listings. */
const LISTING = ["rule", "entity_type", "entity_key", "since", "limit", "before"];

/** The document, before each route's role is written in (`withRoles`). */
const document = {
  openapi: "3.1.0",
  info: {
    title: "Vigil API",
    version: "1.0.0",
    description: "Control and query API of the Vigil detection engine. Everything under " +
      "/api/v1 needs a principal: `Authorization: Bearer <token>` (ADMIN_TOKEN, ANALYST_TOKEN, " +
      "VIEWER_TOKEN or a users-file token), or the console's session cookie with " +
      "`X-CSRF-Token` on a change. Each operation's `x-required-role` is the least role it " +
      "needs: viewer reads; analyst also triages, suppresses and reads the audit log; admin " +
      "also ingests and changes rules, models, the cluster and re-drives.",
  },
  components: {
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer" },
      session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE },
    },
  },
  paths: {
    "/health": { get: { summary: "Process alive", responses: { "200": json("Alive") } } },
    "/ready": {
      get: {
        summary: "Consuming and able to persist",
        responses: { "200": json("Ready"), "503": json("Not ready, with reasons") },
      },
    },
    "/metrics": {
      get: { summary: "Prometheus metrics", responses: { "200": { description: "Text format" } } },
    },
    "/openapi.json": {
      get: { summary: "This document", responses: { "200": json("OpenAPI 3.1") } },
    },
    "/": {
      get: {
        summary: 'The analyst console (sign in with a token; see the README, "Console")',
        responses: { "200": { description: "HTML", content: { "text/html": {} } } },
      },
    },
    "/console/{file}": {
      get: {
        summary: "The console's scripts and styles",
        parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "JavaScript or CSS" }, "404": json("No such file") },
      },
    },
    "/console/vendor/{file}": {
      get: {
        summary: "The libraries the console uses (Preact, htm, uPlot), from their npm packages",
        parameters: [{ name: "file", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": { description: "JavaScript or CSS" }, "404": json("No such file") },
      },
    },
    "/docs": {
      get: {
        summary: "This document as a page to browse",
        responses: { "200": { description: "HTML", content: { "text/html": {} } } },
      },
    },
    "/auth/session": {
      post: {
        summary: "Sign in with a token: a session cookie (HttpOnly, SameSite=Strict) and " +
          "the CSRF token its changes must carry (X-CSRF-Token)",
        requestBody: { content: { "application/json": {} } },
        responses: {
          "200": json("principal, role, csrf_token, expires_at; Set-Cookie: vigil_session"),
          "400": json("No token in the body"),
          "401": json("Wrong token"),
          ...tooLarge,
        },
      },
      get: {
        summary: "The session of the cookie",
        responses: {
          "200": json("principal, role, csrf_token, expires_at"),
          "401": json("Not signed in, or the session expired"),
        },
      },
      delete: {
        summary: "Sign out: the session ends and the cookie is cleared",
        responses: { "204": { description: "Signed out" } },
      },
    },
    "/api/v1/audit": {
      get: {
        summary: "The audit log, newest first: every change (triage, suppression, rule, " +
          "model, cluster, re-drive) with principal, time, before and after",
        parameters: queryParams(["principal", "action", "target_id", "since", "limit", "before"]),
        responses: { "200": json("count, entries, next (the cursor for before)"), ...errors },
      },
    },
    "/api/v1/events": {
      post: {
        summary: "Ingest events: one JSON object, an array, or NDJSON",
        security: bearer,
        requestBody: {
          content: { "application/json": {}, "application/x-ndjson": {} },
        },
        responses: {
          "202": {
            description: "Each item's verdict and the counts; rejected ones are dead-lettered",
            content: { "application/json": { schema: ingestResult } },
          },
          ...errors,
          "413": json("Body too large"),
          "429": json("Past the ingest rate (VIGIL_API_INGEST_EVENTS_PER_S); see Retry-After"),
          "503": json(
            "Too many accepted events still waiting for the intake " +
              "(VIGIL_API_MAX_WATERMARK_HOLDS); nothing taken in; see Retry-After",
          ),
        },
      },
    },
    "/api/v1/alerts": {
      get: {
        summary: "Alerts, newest first",
        security: bearer,
        description: "A full page comes with `next`: pass it as `before` for the next page.",
        parameters: queryParams([...LISTING, "incident_id"]),
        responses: { "200": json("Alerts, and the cursor of the next page"), ...errors },
      },
    },
    "/api/v1/incidents": {
      get: {
        summary: "Incidents (related alerts as one case), newest first seen first",
        security: bearer,
        description: "`severity`: the lowest severity listed. `entity_type` with " +
          "`entity_key`: incidents about or naming that entity. `since`: last seen at or " +
          "after. A full page comes with `next`: pass it as `before` for the next page.",
        parameters: queryParams(["severity", ...LISTING]),
        responses: { "200": json("Incidents, and the cursor of the next page"), ...errors },
      },
    },
    "/api/v1/incidents/{id}": {
      get: {
        summary: "One incident, with its triage and its alerts",
        security: bearer,
        parameters: [idParam],
        responses: {
          "200": json(
            "The incident, its triage (ETag: its revision) and its alerts (newest first, up to a page)",
          ),
          "404": json("No such incident"),
          ...unauthorized,
        },
      },
      patch: triagePatch("incident"),
    },
    "/api/v1/suppressions": {
      get: {
        summary: "The suppressions, newest first (ended ones too)",
        security: bearer,
        parameters: [{ name: "active", in: "query", required: false, schema: { type: "string" } }],
        responses: { "200": json("The suppressions"), ...errors },
      },
      post: {
        summary: "Suppress a rule, an entity or a network (CIDR), for a while, with a reason",
        security: bearer,
        description: "Body: `reason`, `duration_s` or `expires_at` (and `starts_at`), and any " +
          "of `rule`, `entity_type` with `entity_key`, `cidr`. Alerts it covers (judged at " +
          'their event time) are kept with `mode: "suppressed"` and notify no one.',
        requestBody: { content: { "application/json": {} } },
        responses: { "201": json("The suppression"), ...errors, ...tooLarge },
      },
    },
    "/api/v1/suppressions/{id}": {
      delete: {
        summary: "End a suppression now (it stays listed, ended)",
        security: bearer,
        parameters: [idParam],
        responses: {
          "200": json("The suppression, ended"),
          "404": json("No such suppression"),
          ...unauthorized,
        },
      },
    },
    "/api/v1/incidents/{id}/suppress": {
      post: {
        summary: "Suppress what the incident is about (its anchor), in one action",
        security: bearer,
        description:
          "Body: `reason`, `duration_s` or `expires_at`, and `rule` to suppress only one rule.",
        parameters: [idParam],
        requestBody: { content: { "application/json": {} } },
        responses: {
          "201": json("The suppression"),
          ...errors,
          "404": json("No such incident"),
          ...tooLarge,
        },
      },
    },
    "/api/v1/alerts/{id}": {
      get: {
        summary: "One alert, with its triage",
        security: bearer,
        parameters: [idParam],
        responses: {
          "200": json("The alert and its triage (ETag: its revision)"),
          "404": json("No such alert"),
          ...unauthorized,
        },
      },
      patch: triagePatch("alert"),
    },
    "/api/v1/actors": {
      get: {
        summary: "Actor counts by type",
        security: bearer,
        responses: { "200": json("Counts"), ...unauthorized },
      },
    },
    "/api/v1/actors/{type}/{key}": {
      get: {
        summary: "One actor's state",
        security: bearer,
        parameters: ["type", "key"].map((name) => ({
          name,
          in: "path",
          required: true,
          schema: { type: "string" },
        })),
        responses: { "200": json("State"), "404": json("No such actor"), ...unauthorized },
      },
    },
    "/api/v1/archive": {
      get: {
        summary: "The newest events of the raw archive (when VIGIL_IO_ARCHIVE_RAW_EVENTS is on): " +
          "all, those of `event_ids`, or an entity's (a user's by `user_id`, an address's by " +
          "`ip`, `src_ip` or `dst_ip`, a source's by `src_ip`, a service's, a page's)",
        security: bearer,
        parameters: [
          { name: "limit", in: "query", schema: { type: "integer", minimum: 1 } },
          {
            name: "event_ids",
            in: "query",
            description: "Comma-separated event ids (at most a page)",
            schema: { type: "string" },
          },
          {
            name: "entity_type",
            in: "query",
            description: "With entity_key",
            schema: { type: "string", enum: ["user", "ip", "src", "service", "page"] },
          },
          { name: "entity_key", in: "query", schema: { type: "string" } },
        ],
        responses: { "200": json("Archived events"), ...errors },
      },
    },
    "/api/v1/stream": {
      get: {
        summary: "The console's live stream (server-sent events): `alert` for each new alert, " +
          "`incident` for each incident an alert changed, `triage` for each triage change " +
          "through the API, `dropped` with a count when this client read too slowly and lost " +
          "the oldest (reload then), and a heartbeat comment on a quiet stream",
        security: bearer,
        responses: {
          "200": { description: "The stream", content: { "text/event-stream": {} } },
          ...unauthorized,
          "503": json("VIGIL_CONSOLE_STREAM_MAX_CLIENTS clients are connected (Retry-After)"),
        },
      },
    },
    "/api/v1/alert-volume": {
      get: {
        summary: "Alerts per rule over event time, as this process published them: the newest " +
          "`buckets` bars of VIGIL_CONSOLE_VOLUME_BUCKET_S seconds, of one `rule` or of all",
        security: bearer,
        parameters: [
          { name: "buckets", in: "query", schema: { type: "integer", minimum: 1 } },
          { name: "rule", in: "query", schema: { type: "string" } },
        ],
        responses: {
          "200": json("{bucket_s, from, buckets, series: [{rule, counts, total}]}"),
          ...errors,
        },
      },
    },
    "/api/v1/models": {
      get: {
        summary: "The models: the active version, the versions present, the active manifest",
        security: bearer,
        responses: { "200": json("Models"), "404": json("No models served"), ...unauthorized },
      },
    },
    "/api/v1/models/{name}/activate": {
      post: {
        summary: 'Hot reload: load, check and swap in a version (body {"version": "2"})',
        security: bearer,
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": json("Active version and the previous one"),
          "404": json("No such model or version"),
          "422": json("The version failed its checks; the active one keeps serving"),
          ...errors,
          ...tooLarge,
        },
      },
    },
    "/api/v1/models/{name}/shadow": {
      post: {
        summary:
          'Shadow scoring: score a candidate version beside the active one (body {"version": "3"})',
        security: bearer,
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": json("The shadow version"),
          "404": json("No such model or version"),
          "422": json("The candidate failed its checks"),
          ...errors,
          ...tooLarge,
        },
      },
      delete: {
        summary: "Stop shadow scoring",
        security: bearer,
        parameters: [{ name: "name", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": json("No shadow"),
          "404": json("No shadow to stop"),
          ...unauthorized,
        },
      },
    },
    "/api/v1/rules": {
      get: {
        summary: "Every rule: its entity, mode (enforce or shadow) and parameters now",
        security: bearer,
        responses: { "200": json("Rules"), "404": json("No rules served"), ...unauthorized },
      },
    },
    "/api/v1/rules/{rule}": {
      get: {
        summary: "One rule",
        security: bearer,
        parameters: [{ name: "rule", in: "path", required: true, schema: { type: "string" } }],
        responses: { "200": json("The rule"), "404": json("No such rule"), ...unauthorized },
      },
      patch: {
        summary:
          'Change a rule at run time: {"mode": "enforce" | "shadow", "params": {"name": number}}; ' +
          "all or nothing, from the next event on",
        security: bearer,
        parameters: [{ name: "rule", in: "path", required: true, schema: { type: "string" } }],
        responses: {
          "200": json("The rule as it is now"),
          ...errors,
          "400": json("A parameter the rule does not read, or a value it cannot take"),
          "404": json("No such rule"),
          ...tooLarge,
        },
      },
    },
    "/api/v1/dead-letters": {
      get: {
        summary: "Dead letters, newest first",
        security: bearer,
        responses: { "200": json("Dead letters"), ...errors },
      },
    },
    "/api/v1/cluster": {
      get: {
        summary: "The workers and the partitions each owns (a worker or start: itself)",
        security: bearer,
        responses: { "200": json("Size and workers"), ...unauthorized },
      },
      post: {
        summary: 'Scale the workers to {"workers": N} (the cluster supervisor only)',
        security: bearer,
        requestBody: { content: { "application/json": {} } },
        responses: {
          "202": json("Scaling"),
          ...errors,
          "409": json("This process does not supervise workers"),
          "413": json("Body too large"),
        },
      },
    },
    "/api/v1/dead-letters/redrive": {
      post: {
        summary: "Re-drive dead letters after a fix: the newest `limit` (of `category`, if " +
          "given) are taken out and ingested again; those still invalid are dead-lettered anew",
        security: bearer,
        requestBody: { content: { "application/json": {} } },
        responses: {
          "202": json("Taken, re-driven, and the ingest counts"),
          ...errors,
          "413": json("Body too large"),
        },
      },
    },
  },
};

/**
 * The document: each `/api/v1` operation with its role (`x-required-role`, from
 * `ROUTE_ROLES`), both ways of signing, and the answers without one (401) or with too
 * little (403).
 */
export const openapi = withRoles(document);

function withRoles<T extends { paths: Record<string, Record<string, Record<string, unknown>>> }>(
  doc: T,
): T {
  const byPath = new Map(
    Object.entries(ROUTE_ROLES).map(([route, role]) => {
      const [method, path] = route.split(" ") as [string, string];
      return [`${method.toLowerCase()} ${openapiPath(path)}`, role];
    }),
  );
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const role = byPath.get(`${method} ${path}`);
      if (!path.startsWith("/api/v1/")) continue;
      if (role === undefined) throw new Error(`No role is declared for ${method} ${path}`);
      op["x-required-role"] = role;
      op.security = [{ bearer: [] }, { session: [] }];
      // A read open to every role is never refused past the 401.
      const refused = role === "viewer" && method === "get" ? {} : {
        "403": json(
          `The principal's role is below ${role}, or a change made with a session ` +
            "lacks X-CSRF-Token",
        ),
      };
      op.responses = { ...(op.responses as Record<string, unknown>), ...unauthorized, ...refused };
    }
  }
  return doc;
}

/**
 * A page that shows the document (`/docs`): every path, its operations and answers. It
 * loads nothing from elsewhere; it reads `/openapi.json` from the same process.
 */
export const docsPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Vigil API</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h2 { font-size: 1.05rem; margin: 1.6rem 0 .3rem; font-family: ui-monospace, monospace; }
.m { display: inline-block; min-width: 4.5rem; font-weight: 600; text-transform: uppercase; }
.lock { color: #a15c00; font-size: .85rem; }
table { border-collapse: collapse; margin: .3rem 0 0 4.5rem; }
td { padding: .1rem .8rem .1rem 0; vertical-align: top; }
</style>
</head>
<body>
<h1>Vigil API</h1>
<p id="about"></p>
<div id="paths">Loading /openapi.json …</div>
<script>
(async () => {
  const doc = await (await fetch("openapi.json")).json();
  document.getElementById("about").textContent = doc.info.description;
  const out = document.getElementById("paths");
  out.textContent = "";
  const text = (tag, value, cls) => {
    const e = document.createElement(tag);
    e.textContent = value;
    if (cls) e.className = cls;
    return e;
  };
  for (const [path, ops] of Object.entries(doc.paths)) {
    out.append(text("h2", path));
    for (const [method, op] of Object.entries(ops)) {
      const p = document.createElement("div");
      p.append(text("span", method, "m"), text("span", op.summary ?? ""));
      if (op["x-required-role"]) p.append(text("span", "  (role: " + op["x-required-role"] + ")", "lock"));
      out.append(p);
      const t = document.createElement("table");
      for (const [code, r] of Object.entries(op.responses ?? {})) {
        const row = t.insertRow();
        row.insertCell().textContent = code;
        row.insertCell().textContent = r.description ?? "";
      }
      out.append(t);
    }
  }
})();
</script>
</body>
</html>
`;

/**
 * The HTTP API (Hono): health, readiness and metrics without a token; everything
 * under `/api/v1` behind the bearer token. Errors are JSON with a message.
 *
 * @module
 */

import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { ApiLimits } from "../config/defaults.ts";
import type { RuntimeStats } from "../actors/runtime.ts";
import { RuleError, type RuleInfo } from "../engine/rules.ts";
import {
  type ArchiveFilter,
  ENTITY_FIELDS,
  type IncidentQuery,
  type Store,
  StoreQueryError,
} from "../io/store.ts";
import { utf8Length } from "../engine/intake.ts";
import { type Alert, type Incident, type Severity, SEVERITY_RANK } from "../events/types.ts";
import {
  type Authenticator,
  type AuthVariables,
  type Caller,
  requireRole,
  SESSION_COOKIE,
  type Sessions,
} from "./auth.ts";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { type AuditAction, auditEntry, type AuditQuery } from "../engine/audit.ts";
import {
  type Suppression,
  SuppressionError,
  type SuppressionLimits,
  suppressionOf,
} from "../engine/suppressions.ts";
import {
  applyTriage,
  type Triage,
  triageChangeOf,
  TriageError,
  type TriageKind,
  UNTOUCHED,
} from "../engine/triage.ts";
import { docsPage, openapi } from "./openapi.ts";
import { type ConsoleDeps, mountConsole } from "./console.ts";
import type { ItemVerdict } from "../engine/ingest_verdicts.ts";

/** The outcome of an ingest request. */
export interface IngestResult {
  /** Events taken in (accepted here, or forwarded to the worker that owns their partition). */
  accepted: number;
  /** Events refused: invalid, oversized, late or future (each dead-lettered with its reason). */
  rejected: number;
  /** The first few rejections: item index and reason. */
  errors: { index: number; reason: string }[];
  /** Of the accepted, those whose partition another worker owns (not judged late here). */
  forwarded: number;
  /** Every item's verdict, in order (`engine/ingest_verdicts.ts`). */
  items: ItemVerdict[];
}

/** A model as the API lists it. */
export interface ModelInfo {
  name: string;
  /** The version serving, or null. */
  active: string | null;
  /** A candidate scored beside the active version, with their agreement so far. */
  shadow: { version: string; agree: number; disagree: number; error: number } | null;
  /** The versions present in the models folder. */
  versions: string[];
  /** A summary of the active version's manifest. */
  manifest: Record<string, unknown> | null;
}

/** What the API can do with the models. */
export interface ModelsDeps {
  /** The models served (the registry): the only names the routes take. */
  known: readonly string[];
  list(): Promise<ModelInfo[]>;
  /** Loads, checks and swaps in a version; throws NotFound or an error saying why not. */
  activate(name: string, version: string): Promise<{ version: string; previous: string | null }>;
  /** Scores a candidate version beside the active one (NotFound, or an error saying why not). */
  shadow(name: string, version: string): Promise<void>;
  /** Stops shadow scoring; false when there was none. */
  unshadow(name: string): Promise<boolean>;
}

/** What the API can do with the rules (`engine/rules.ts`). */
export interface RulesDeps {
  list(): RuleInfo[];
  get(rule: string): RuleInfo | null;
  /** Changes mode and parameters together; throws RuleError for a change it cannot make. */
  change(rule: string, change: { mode?: unknown; params?: unknown }): RuleInfo | null;
}

/** The app, whose handlers know their caller (`c.get("caller")`). */
export type ApiApp = Hono<{ Variables: AuthVariables }>;
type Ctx = Context<{ Variables: AuthVariables }>;

/** The ETag of a triage: its revision. */
function etagOf(t: Triage): string {
  return `"${t.revision}"`;
}

/** Something asked for that is not there (404). */
export class NotFound extends Error {}

/** Something that cannot be done now, but may be in `retry_after_s` (503 with `Retry-After`). */
export class Unavailable extends Error {
  constructor(message: string, readonly retry_after_s: number) {
    super(message);
    this.name = "Unavailable";
  }
}

/** What the API needs from the running system. */
export interface ApiDeps {
  /** Who a token names (`api/auth.ts`). */
  auth: Authenticator;
  /** The console's sessions (absent: no sign-in, tokens only). */
  sessions?: Sessions;
  limits: ApiLimits;
  store: Store;
  ready(): Promise<{ ready: boolean; reasons: string[] }>;
  metrics(): Promise<{ text: string; contentType: string }>;
  /** Validates and takes in raw event texts (one JSON object each). */
  ingest(items: string[]): Promise<IngestResult>;
  /** The partitions this process owns (null: all of them, with the embedded log). */
  partitions?: () => number[] | null;
  /** Model operations (absent: the routes answer 404). */
  models?: ModelsDeps;
  /** Rule operations (absent: the routes answer 404). */
  rules?: RulesDeps;
  /** The analysts' suppressions (absent: the routes answer 404). */
  suppressions?: {
    limits: SuppressionLimits;
    list(): Suppression[];
    save(s: Suppression): Promise<void>;
  };
  /** The analyst console at `/` and its live stream (absent: not served). */
  console?: ConsoleDeps;
  /** The clock of the ingest rate limit (ms; default `Date.now`). */
  now?: () => number;
  actors: {
    types: string[];
    stats(): RuntimeStats;
    stateOf(type: string, key: string): Promise<unknown>;
    isResident(type: string, key: string): boolean;
  };
}

/** A request that cannot be served as asked. */
class BadRequest extends Error {}

/** What a model's name may be: one plain path segment. */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * The ingest rate limit: a bucket of `burst` events refilled at `per_s` a second. A
 * request takes all its events or none.
 */
export class IngestBucket {
  #tokens: number;
  #at: number;
  constructor(
    readonly per_s: number,
    readonly burst: number,
    readonly now: () => number,
  ) {
    this.#tokens = burst;
    this.#at = now();
  }

  /** Takes `n` events: 0 when they may go in, else the seconds until they could. */
  take(n: number): number {
    if (this.per_s <= 0) return 0;
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#at) / 1000) * this.per_s);
    this.#at = t;
    // A request larger than the bucket waits for a full bucket (it is refused anyway
    // until then: max_events_per_request should stay below the burst).
    const need = Math.min(n, this.burst);
    if (this.#tokens >= need) {
      this.#tokens -= need;
      return 0;
    }
    return (need - this.#tokens) / this.per_s;
  }
}

/** Builds the app. */
export function createApp(deps: ApiDeps): ApiApp {
  const app: ApiApp = new Hono();

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    const r = await deps.ready();
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", async (c) => {
    const m = await deps.metrics();
    return c.body(m.text, 200, { "Content-Type": m.contentType });
  });
  app.get("/openapi.json", (c) => c.json(openapi));
  app.get("/docs", (c) => c.html(docsPage));

  // Signing in at the console: a token gives a session cookie and a CSRF token.
  const sessionOf = (c: Ctx) => {
    const id = getCookie(c, SESSION_COOKIE);
    return id && deps.sessions ? deps.sessions.get(id) : null;
  };
  const sessionBody = (s: NonNullable<ReturnType<typeof sessionOf>>) => ({
    principal: s.principal.name,
    role: s.principal.role,
    csrf_token: s.csrf_token,
    expires_at: new Date(s.expires_ms).toISOString(),
  });
  app.post(
    "/auth/session",
    bodyLimit({
      maxSize: 4_096,
      onError: (c) => c.json({ error: "Body is larger than 4096 bytes" }, 413),
    }),
    async (c) => {
      if (!deps.sessions) throw new NotFound("This process has no sessions: use a bearer token");
      let token: unknown;
      try {
        token = (JSON.parse(await c.req.text()) as { token?: unknown } | null)?.token;
      } catch {
        throw new BadRequest('Cannot parse the body: send {"token": "<token>"}');
      }
      if (typeof token !== "string") throw new BadRequest('Send {"token": "<token>"}');
      const principal = await deps.auth.authenticate(token.trim());
      if (!principal) return c.json({ error: "Wrong token" }, 401);
      const s = deps.sessions.create(principal);
      setCookie(c, SESSION_COOKIE, s.id, {
        httpOnly: true,
        sameSite: "Strict",
        path: "/",
        maxAge: Math.floor(deps.sessions.limits.ttl_ms / 1000),
        secure: new URL(c.req.url).protocol === "https:",
      });
      return c.json(sessionBody(s));
    },
  );
  app.get("/auth/session", (c) => {
    const s = sessionOf(c);
    if (!s) return c.json({ error: "Not signed in (or the session expired)" }, 401);
    return c.json(sessionBody(s));
  });
  app.delete("/auth/session", (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id && deps.sessions) deps.sessions.end(id);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  });

  app.use("/api/v1/*", requireRole(deps.auth, deps.sessions ?? null));
  if (deps.console) mountConsole(app, deps.console);
  /** Appends a change to the audit log, made by the request's caller. */
  const audit = (
    c: Ctx | Caller,
    action: AuditAction,
    target: { kind: string; id: string },
    before: unknown,
    after: unknown,
  ) => {
    const who = "req" in c ? c.get("caller") : c;
    return deps.store.appendAudit(
      auditEntry(who, action, target, before, after, deps.now?.() ?? Date.now()),
    );
  };
  /** Cases with their triage (an untouched one's is `UNTOUCHED`). */
  const withTriage = async <T>(kind: TriageKind, items: readonly T[], idOf: (x: T) => string) => {
    const triage = await deps.store.getTriages(kind, items.map(idOf));
    return items.map((x) => ({ ...x, triage: triage.get(idOf(x)) ?? UNTOUCHED }));
  };
  const ingestBucket = new IngestBucket(
    deps.limits.ingest_events_per_s,
    deps.limits.ingest_burst_events,
    deps.now ?? (() => Date.now()),
  );

  app.post(
    "/api/v1/events",
    bodyLimit({
      maxSize: deps.limits.max_body_bytes,
      onError: (c) =>
        c.json({ error: `Body is larger than ${deps.limits.max_body_bytes} bytes` }, 413),
    }),
    async (c) => {
      const text = await c.req.text();
      const items = splitBody(text, c.req.header("content-type") ?? "");
      if (items.length > deps.limits.max_events_per_request) {
        throw new BadRequest(
          `Cannot ingest ${items.length} events in one request: the limit is ${deps.limits.max_events_per_request}`,
        );
      }
      const wait_s = ingestBucket.take(items.length);
      if (wait_s > 0) {
        c.header("Retry-After", String(Math.ceil(wait_s)));
        return c.json({
          error: `Too many events: ${deps.limits.ingest_events_per_s} a second are taken ` +
            `(bursts of ${deps.limits.ingest_burst_events}); retry in ${Math.ceil(wait_s)} s`,
        }, 429);
      }
      return c.json(await deps.ingest(items), 202);
    },
  );

  app.get("/api/v1/alerts", async (c) => {
    const q = c.req.query();
    const limit = intParam(q.limit, 100, 1, deps.limits.max_alerts_page, "limit");
    const query: Parameters<Store["findAlerts"]>[0] = { limit };
    if (q.rule) query.rule = q.rule;
    if (q.entity_type) query.entity_type = q.entity_type;
    if (q.entity_key) query.entity_key = q.entity_key;
    if (q.since) query.since_ms = timeParam(q.since);
    if (q.before) query.before = q.before;
    if (q.incident_id) query.incident_id = q.incident_id;
    let alerts: Alert[];
    try {
      alerts = await deps.store.findAlerts(query);
    } catch (err) {
      if (err instanceof StoreQueryError) throw new BadRequest(err.message);
      throw err;
    }
    // A full page may have more after it: `next` is the cursor for `before`.
    const next = alerts.length === limit ? alerts[alerts.length - 1]!.alert_id : null;
    return c.json({
      count: alerts.length,
      alerts: await withTriage("alert", alerts, (a) => a.alert_id),
      next,
    });
  });

  app.get("/api/v1/incidents", async (c) => {
    const q = c.req.query();
    const limit = intParam(q.limit, 100, 1, deps.limits.max_alerts_page, "limit");
    const query: IncidentQuery = { limit };
    if (q.severity) {
      if (!(q.severity in SEVERITY_RANK)) {
        throw new BadRequest(
          `severity must be one of ${Object.keys(SEVERITY_RANK).join(", ")} (the lowest listed)`,
        );
      }
      query.min_severity = q.severity as Severity;
    }
    if (q.rule) query.rule = q.rule;
    if ((q.entity_type === undefined) !== (q.entity_key === undefined)) {
      throw new BadRequest("entity_type and entity_key go together");
    }
    if (q.entity_type !== undefined && q.entity_key !== undefined) {
      query.entity_type = q.entity_type;
      query.entity_key = q.entity_key;
    }
    if (q.since) query.since_ms = timeParam(q.since);
    if (q.before) query.before = q.before;
    let incidents: Incident[];
    try {
      incidents = await deps.store.findIncidents(query);
    } catch (err) {
      if (err instanceof StoreQueryError) throw new BadRequest(err.message);
      throw err;
    }
    const next = incidents.length === limit ? incidents[incidents.length - 1]!.incident_id : null;
    return c.json({
      count: incidents.length,
      incidents: await withTriage("incident", incidents, (i) => i.incident_id),
      next,
    });
  });

  app.get("/api/v1/incidents/:id", async (c) => {
    const id = c.req.param("id");
    const incident = await deps.store.getIncident(id);
    if (!incident) throw new NotFound(`No incident ${id} is stored`);
    // Its alerts as stored (the newest, up to a page).
    const alerts = await deps.store.findAlerts({
      incident_id: id,
      limit: deps.limits.max_alerts_page,
    });
    const [withIt] = await withTriage("incident", [incident], (i) => i.incident_id);
    c.header("ETag", etagOf(withIt!.triage));
    return c.json({
      ...withIt,
      alerts: await withTriage("alert", alerts, (a) => a.alert_id),
    });
  });

  app.get("/api/v1/alerts/:id", async (c) => {
    const id = c.req.param("id");
    const alert = await deps.store.getAlert(id);
    if (!alert) throw new NotFound(`No alert ${id} is stored`);
    const [withIt] = await withTriage("alert", [alert], (a) => a.alert_id);
    c.header("ETag", etagOf(withIt!.triage));
    return c.json(withIt);
  });

  // The analyst's changes: status, assignee, a note, a label on resolving; the ETag of
  // the triage read (If-Match) must still be the stored one, else 409.
  const triageBody = bodyLimit({
    maxSize: deps.limits.max_note_chars * 4 + 1_024,
    onError: (c) =>
      c.json({ error: `Body is larger than ${deps.limits.max_note_chars * 4 + 1_024} bytes` }, 413),
  });
  const patchTriage =
    (kind: TriageKind, exists: (id: string) => Promise<unknown>) => async (c: Ctx) => {
      const id = c.req.param("id")!;
      if (!(await exists(id))) throw new NotFound(`No ${kind} ${id} is stored`);
      const match = c.req.header("if-match");
      if (match === undefined) {
        return c.json({
          error: `Send If-Match with the ETag of the ${kind}'s triage as read (GET it first)`,
        }, 428);
      }
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        throw new BadRequest(
          'Cannot parse the body: send {"status": …, "assignee": …, "label": …, "note": …}',
        );
      }
      const stored = (await deps.store.getTriages(kind, [id])).get(id) ?? UNTOUCHED;
      if (match !== etagOf(stored)) {
        c.header("ETag", etagOf(stored));
        return c.json({
          error: `The ${kind}'s triage changed since it was read (now ${etagOf(stored)}, ` +
            `not ${match}): read it again`,
          triage: stored,
        }, 409);
      }
      let after: Triage;
      try {
        const change = triageChangeOf(body, deps.limits);
        const at = new Date(deps.now?.() ?? Date.now()).toISOString();
        after = applyTriage(stored, change, c.get("caller").name, at, deps.limits);
      } catch (err) {
        if (err instanceof TriageError) throw new BadRequest(err.message);
        throw err;
      }
      if (!(await deps.store.saveTriage(kind, id, after))) {
        const now = (await deps.store.getTriages(kind, [id])).get(id) ?? UNTOUCHED;
        c.header("ETag", etagOf(now));
        return c.json({
          error: `The ${kind}'s triage changed meanwhile: read it again`,
          triage: now,
        }, 409);
      }
      await audit(c, `${kind}.triage`, { kind, id }, stored, after);
      c.header("ETag", etagOf(after));
      return c.json({ id, triage: after });
    };
  app.patch(
    "/api/v1/incidents/:id",
    triageBody,
    patchTriage("incident", (id) => deps.store.getIncident(id)),
  );
  app.patch(
    "/api/v1/alerts/:id",
    triageBody,
    patchTriage("alert", (id) => deps.store.getAlert(id)),
  );

  app.get("/api/v1/actors", (c) => {
    const s = deps.actors.stats();
    return c.json({
      types: Object.fromEntries(
        deps.actors.types.map((t) => [t, { resident: s.resident[t] ?? 0 }]),
      ),
      mailbox_depth: s.mailbox_depth,
      max_mailbox_depth: s.max_mailbox_depth,
      busy: s.busy,
      timers: s.timers,
      quarantined: s.quarantined,
      partition_restarts: s.partition_restarts,
      partitions: deps.partitions?.() ?? null,
    });
  });

  // This process's own view of the cluster: itself (the supervisor of `main.ts cluster`
  // serves the whole cluster and scales it).
  app.get("/api/v1/cluster", (c) => {
    const s = deps.actors.stats();
    return c.json({
      size: 1,
      supervised: false,
      workers: [{
        slot: 0,
        status: "running",
        partitions: deps.partitions?.() ?? null,
        resident: s.resident,
      }],
    });
  });
  app.post("/api/v1/cluster", (c) =>
    c.json({
      error: "This process does not supervise workers: scale with main.ts cluster " +
        "(POST /api/v1/cluster there), or add workers to the Kafka consumer group",
    }, 409));

  app.get("/api/v1/actors/:type/:key", async (c) => {
    const { type, key } = c.req.param();
    if (!deps.actors.types.includes(type)) {
      return c.json(
        { error: `No actor type "${type}"; known: ${deps.actors.types.join(", ")}` },
        404,
      );
    }
    const state = await deps.actors.stateOf(type, key);
    if (state === undefined) return c.json({ error: `No actor ${type}:${key} has been seen` }, 404);
    return c.json({ type, key, resident: deps.actors.isResident(type, key), state });
  });

  app.get("/api/v1/archive", async (c) => {
    const q = c.req.query();
    const limit = intParam(q.limit, 100, 1, deps.limits.max_alerts_page, "limit");
    const filter: ArchiveFilter = {};
    if (q.event_ids !== undefined) {
      const ids = q.event_ids.split(",").filter((id) => id !== "");
      if (ids.length > deps.limits.max_alerts_page) {
        throw new BadRequest(
          `event_ids names ${ids.length} events; at most ${deps.limits.max_alerts_page}`,
        );
      }
      filter.event_ids = ids;
    }
    if ((q.entity_type === undefined) !== (q.entity_key === undefined)) {
      throw new BadRequest("entity_type and entity_key go together");
    }
    if (q.entity_type !== undefined) {
      const fields = ENTITY_FIELDS[q.entity_type];
      if (!fields) {
        throw new BadRequest(
          `entity_type must be one of ${
            Object.keys(ENTITY_FIELDS).join(", ")
          }, got "${q.entity_type}"`,
        );
      }
      filter.fields = fields;
      filter.value = q.entity_key!;
    }
    const events = await deps.store.findArchived(limit, filter);
    return c.json({ count: events.length, events });
  });

  app.get("/api/v1/dead-letters", async (c) => {
    const limit = intParam(c.req.query("limit"), 100, 1, deps.limits.max_alerts_page, "limit");
    const letters = await deps.store.findDeadLetters(limit);
    return c.json({ count: letters.length, dead_letters: letters });
  });

  app.get("/api/v1/models", async (c) => {
    const models = await modelsOf().list();
    return c.json({ count: models.length, models });
  });

  /** The version named in a small JSON body `{"version": "…"}`. */
  const versionOf = async (c: { req: { text(): Promise<string> } }): Promise<string> => {
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      throw new BadRequest('Cannot parse the body: send {"version": "<version>"}');
    }
    const version = (body as { version?: unknown } | null)?.version;
    if (typeof version !== "string" || !/^[A-Za-z0-9._-]{1,64}$/.test(version)) {
      throw new BadRequest('Cannot use the body: "version" must be a version name such as "2"');
    }
    return version;
  };
  const smallBody = bodyLimit({
    maxSize: 4_096,
    onError: (c) => c.json({ error: "Body is larger than 4096 bytes" }, 413),
  });
  /** Runs a model operation; a version that fails its checks is a 422 with the reason. */
  const checked = async <T>(op: () => Promise<T>): Promise<T | { refused: string }> => {
    try {
      return await op();
    } catch (err) {
      if (err instanceof NotFound || err instanceof BadRequest) throw err;
      return { refused: (err as Error).message };
    }
  };
  /** The version a model has in shadow now, or null. */
  const shadowOf = async (models: ModelsDeps, name: string) =>
    (await models.list()).find((m) => m.name === name)?.shadow?.version ?? null;
  const modelsOf = (): ModelsDeps => {
    if (!deps.models) throw new NotFound("No models are served by this process");
    return deps.models;
  };
  /** The model a route names: a plain name (400 otherwise) in the registry (404 otherwise). */
  const knownModel = (models: ModelsDeps, name: string): string => {
    if (!MODEL_NAME.test(name)) {
      throw new BadRequest(
        `Cannot use model name ${JSON.stringify(name.slice(0, 80))}: a name is letters, ` +
          `digits, "_" and "-" (known: ${models.known.join(", ")})`,
      );
    }
    if (!models.known.includes(name)) {
      throw new NotFound(`No model ${name}; known: ${models.known.join(", ")}`);
    }
    return name;
  };

  app.post("/api/v1/models/:name/activate", smallBody, async (c) => {
    const models = modelsOf();
    const name = knownModel(models, c.req.param("name"));
    const version = await versionOf(c);
    const r = await checked(() => models.activate(name, version));
    if ("refused" in r) return c.json({ error: r.refused, active: "unchanged" }, 422);
    await audit(c, "model.activate", { kind: "model", id: name }, { active: r.previous }, {
      active: r.version,
    });
    return c.json({ name, version: r.version, previous: r.previous });
  });

  app.post("/api/v1/models/:name/shadow", smallBody, async (c) => {
    const models = modelsOf();
    const name = knownModel(models, c.req.param("name"));
    const version = await versionOf(c);
    const before = await shadowOf(models, name);
    const r = await checked(() => models.shadow(name, version));
    if (r && typeof r === "object" && "refused" in r) return c.json({ error: r.refused }, 422);
    await audit(c, "model.shadow", { kind: "model", id: name }, { shadow: before }, {
      shadow: version,
    });
    return c.json({ name, shadow: version });
  });

  app.delete("/api/v1/models/:name/shadow", async (c) => {
    const models = modelsOf();
    const name = knownModel(models, c.req.param("name"));
    const before = await shadowOf(models, name);
    if (!(await models.unshadow(name))) throw new NotFound(`Model ${name} has no shadow`);
    await audit(c, "model.unshadow", { kind: "model", id: name }, { shadow: before }, {
      shadow: null,
    });
    return c.json({ name, shadow: null });
  });

  const rulesOf = (): RulesDeps => {
    if (!deps.rules) throw new NotFound("No rules are run by this process");
    return deps.rules;
  };

  /** One re-drive at a time in this process. */
  let redriving: Promise<unknown> = Promise.resolve();
  app.post("/api/v1/dead-letters/redrive", smallBody, async (c) => {
    let body: { category?: unknown; limit?: unknown } = {};
    const text = await c.req.text();
    if (text.trim() !== "") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new BadRequest('Cannot parse the body: send {"category": "future", "limit": 100}');
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        const got = Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed;
        throw new BadRequest(
          `Cannot use the body: it must be an object such as {"category": "future", "limit": 100}, got ${got}`,
        );
      }
      const unknown = Object.keys(parsed).filter((k) => k !== "category" && k !== "limit");
      if (unknown.length > 0) {
        throw new BadRequest(
          `Cannot use field(s) ${unknown.join(", ")}: the body takes "category" and "limit"`,
        );
      }
      body = parsed;
    }
    const categories = [
      "invalid",
      "oversized",
      "late",
      "future",
      "failed",
      "quarantined",
      "stopped",
    ];
    if (body.category !== undefined && !categories.includes(body.category as string)) {
      throw new BadRequest(`"category" must be one of ${categories.join(", ")}`);
    }
    const max = deps.limits.max_events_per_request;
    const limit = body.limit === undefined ? Math.min(100, max) : body.limit;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > max) {
      throw new BadRequest(`"limit" must be a whole number from 1 to ${max}`);
    }
    const category = body.category as string | undefined;
    const run = redriving.then(async () => {
      const letters = await deps.store.takeDeadLetters(limit, category);
      // A letter cut short when it was kept cannot be whole again: it goes back as it was.
      const whole = letters.filter((d) => utf8Length(d.raw) >= d.raw_bytes);
      const cut = letters.filter((d) => !whole.includes(d));
      if (cut.length > 0) await deps.store.saveDeadLetters(cut);
      let result: IngestResult;
      try {
        result = await deps.ingest(whole.map((d) => d.raw));
      } catch (err) {
        // Refused as a whole (no room to hold them now): the letters go back as they were.
        if (err instanceof Unavailable) await deps.store.saveDeadLetters(whole);
        throw err;
      }
      return { taken: letters.length, redriven: whole.length, kept_cut: cut.length, ...result };
    });
    redriving = run.catch(() => {});
    const result = await run;
    const { items: _items, errors: _errors, ...counts } = result;
    await audit(c, "dead_letters.redrive", { kind: "dead_letters", id: category ?? "all" }, null, {
      limit,
      ...counts,
    });
    return c.json(result, 202);
  });

  app.get("/api/v1/rules", (c) => {
    const rules = rulesOf().list();
    return c.json({ count: rules.length, rules });
  });

  app.get("/api/v1/rules/:rule", (c) => {
    const rule = rulesOf().get(c.req.param("rule"));
    if (!rule) throw new NotFound(`No rule ${c.req.param("rule")}`);
    return c.json(rule);
  });

  app.patch("/api/v1/rules/:rule", smallBody, async (c) => {
    const rules = rulesOf();
    const name = c.req.param("rule");
    let body: unknown;
    try {
      body = JSON.parse(await c.req.text());
    } catch {
      throw new BadRequest(
        'Cannot parse the body: send {"mode": "enforce" | "shadow", "params": {"name": number}}',
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new BadRequest('Cannot use the body: send an object with "mode" and/or "params"');
    }
    const unknown = Object.keys(body).filter((k) => k !== "mode" && k !== "params");
    if (unknown.length > 0) throw new BadRequest(`Cannot use field(s) ${unknown.join(", ")}`);
    try {
      const before = rules.get(name);
      const rule = rules.change(name, body as { mode?: unknown; params?: unknown });
      if (!rule) throw new NotFound(`No rule ${name}`);
      await audit(c, "rule.change", { kind: "rule", id: name }, before, rule);
      return c.json(rule);
    } catch (err) {
      if (err instanceof RuleError) throw new BadRequest(err.message);
      throw err;
    }
  });

  // Suppressions: made, listed and ended (an ended one stays listed, so a replay given the
  // list suppresses what it covered).
  const suppressionsOf = () => {
    if (!deps.suppressions) throw new NotFound("No suppressions are kept by this process");
    return deps.suppressions;
  };
  const clock = () => deps.now?.() ?? Date.now();
  const made = async (c: Ctx, body: unknown, incident?: Incident) => {
    const sup = suppressionsOf();
    let s: Suppression;
    try {
      // A body that is not an object is refused as such, not spread into one.
      const object = typeof body === "object" && body !== null && !Array.isArray(body);
      const anchored = incident && object
        ? {
          ...(body as Record<string, unknown>),
          entity_type: incident.anchor.type,
          entity_key: incident.anchor.key,
        }
        : body;
      s = suppressionOf(anchored, {
        id: crypto.randomUUID(),
        author: c.get("caller").name,
        now_ms: clock(),
        ...(incident ? { incident_id: incident.incident_id } : {}),
      }, sup.limits);
    } catch (err) {
      if (err instanceof SuppressionError) throw new BadRequest(err.message);
      throw err;
    }
    await sup.save(s);
    await audit(c, "suppression.create", { kind: "suppression", id: s.id }, null, s);
    return c.json(s, 201);
  };
  const jsonOf = async (c: Context, hint: string): Promise<unknown> => {
    try {
      return JSON.parse(await c.req.text());
    } catch {
      throw new BadRequest(`Cannot parse the body: send ${hint}`);
    }
  };
  const SUPPRESSION_HINT =
    '{"reason": "…", "duration_s": 3600, "rule": "…" and/or "entity_type" with "entity_key", or "cidr"}';
  app.get("/api/v1/suppressions", (c) => {
    const now = clock();
    const active = c.req.query("active");
    if (active !== undefined && active !== "true" && active !== "false") {
      throw new BadRequest("active must be true or false");
    }
    const all = suppressionsOf().list().reverse(); // the newest first
    const live = (s: Suppression) =>
      Date.parse(s.starts_at) <= now && now < Date.parse(s.expires_at);
    const list = active === undefined ? all : all.filter((s) => live(s) === (active === "true"));
    return c.json({ count: list.length, suppressions: list });
  });
  app.post(
    "/api/v1/suppressions",
    smallBody,
    async (c) => made(c, await jsonOf(c, SUPPRESSION_HINT)),
  );
  app.post("/api/v1/incidents/:id/suppress", smallBody, async (c) => {
    const body = await jsonOf(
      c,
      '{"reason": "…", "duration_s": 3600} (and "rule" to keep the others)',
    );
    if (typeof body === "object" && body !== null && !Array.isArray(body)) {
      const extra = Object.keys(body).filter((k) =>
        k === "entity_type" || k === "entity_key" || k === "cidr"
      );
      if (extra.length > 0) {
        throw new BadRequest(
          `Cannot use field(s) ${extra.join(", ")}: the incident names its entity`,
        );
      }
    }
    suppressionsOf();
    const id = c.req.param("id");
    const incident = await deps.store.getIncident(id);
    if (!incident) throw new NotFound(`No incident ${id} is stored`);
    return made(c, body, incident);
  });
  app.delete("/api/v1/suppressions/:id", async (c) => {
    const sup = suppressionsOf();
    const id = c.req.param("id");
    const s = sup.list().find((x) => x.id === id);
    if (!s) throw new NotFound(`No suppression ${id}`);
    // Ended now: what it covered before stays covered (event time), nothing after.
    const now = clock();
    const end = Math.max(Date.parse(s.starts_at), Math.min(now, Date.parse(s.expires_at)));
    const ended = { ...s, expires_at: new Date(end).toISOString() };
    await sup.save(ended);
    await audit(c, "suppression.end", { kind: "suppression", id }, s, ended);
    return c.json(ended);
  });

  app.get("/api/v1/audit", async (c) => {
    const q = c.req.query();
    const query: AuditQuery = {
      limit: intParam(q.limit, 100, 1, deps.limits.max_alerts_page, "limit"),
    };
    if (q.before) query.before = q.before;
    if (q.since) query.since_ms = timeParam(q.since);
    if (q.principal) query.principal = q.principal;
    if (q.action) query.action = q.action;
    if (q.target_id) query.target_id = q.target_id;
    const entries = await deps.store.findAudit(query);
    const next = entries.length === query.limit ? entries[entries.length - 1]!.id : null;
    return c.json({ count: entries.length, entries, next });
  });

  app.notFound((c) => c.json({ error: `No route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json({ error: err.message }, 400);
    if (err instanceof NotFound) return c.json({ error: err.message }, 404);
    if (err instanceof Unavailable) {
      c.header("Retry-After", String(err.retry_after_s));
      return c.json({ error: err.message }, 503);
    }
    return c.json({ error: `Internal error: ${err.message}` }, 500);
  });
  return app;
}

/** Splits a body into one JSON text per event: an object, an array, or NDJSON. */
function splitBody(text: string, contentType: string): string[] {
  const trimmed = text.trim();
  if (trimmed === "") {
    throw new BadRequest("Cannot ingest an empty body: send a JSON object, an array, or NDJSON");
  }
  if (!contentType.includes("ndjson")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch {
      if (!trimmed.includes("\n")) {
        throw new BadRequest("Cannot parse the body as JSON (send an object, an array, or NDJSON)");
      }
    }
    if (Array.isArray(value)) {
      // An item too deep for JSON.stringify goes as it was written, to be refused on its own.
      let written: string[] | null = null;
      return value.map((v, i) => {
        try {
          return JSON.stringify(v);
        } catch {
          return (written ??= arrayItems(trimmed))[i] ?? "";
        }
      });
    }
    if (value !== undefined) return [trimmed];
  }
  return trimmed.split("\n").map((l) => l.trim()).filter((l) => l !== "");
}

/** The items of a JSON array's text as written, found without parsing (the text is valid JSON). */
function arrayItems(text: string): string[] {
  const items: string[] = [];
  let depth = 0, start = 1, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 /* [ */ || c === 123 /* { */) depth++;
    else if (c === 93 /* ] */ || c === 125 /* } */) {
      if (--depth === 0) items.push(text.slice(start, i).trim());
    } else if (c === 44 /* , */ && depth === 1) {
      items.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return items.length === 1 && items[0] === "" ? [] : items;
}

function intParam(
  text: string | undefined,
  fallback: number,
  min: number,
  max: number,
  name: string,
): number {
  if (text === undefined || text === "") return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new BadRequest(
      `Query parameter "${name}" must be a whole number from ${min} to ${max}, got "${text}"`,
    );
  }
  return n;
}

function timeParam(text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new BadRequest(
      `Query parameter "since" must be ISO-8601 or epoch milliseconds, got "${text}"`,
    );
  }
  return ms;
}

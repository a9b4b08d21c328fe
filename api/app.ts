/**
 * The HTTP API (Hono): health, readiness and metrics without a token; everything
 * under `/api/v1` behind the bearer token. Errors are JSON with a message.
 *
 * @module
 */

import type { Context } from "hono";
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { matchedRoutes } from "hono/route";
import { UNMATCHED_ROUTE } from "../io/kpi_metrics.ts";
import { cursorOf, parseCursor } from "./event_cursor.ts";
import { PAGE, type PageView } from "../actors/page.ts";
import type { RollupQuery } from "../io/rollups.ts";
import { AMOUNT_BUCKETS } from "../io/kpi_metrics.ts";
import { ROLLUP_JOB } from "../engine/rollup_job.ts";
import { totalsOf } from "./stats.ts";
import type { ApiLimits } from "../config/defaults.ts";
import type { RuntimeStats } from "../actors/runtime.ts";
import { RuleError } from "../engine/rules.ts";
import {
  type ArchiveFilter,
  ENTITY_FIELDS,
  EVENT_FILTERS,
  type EventFilter,
  type EventQuery,
  type IncidentQuery,
  type Store,
  StoreQueryError,
} from "../io/store.ts";
import { utf8Length } from "../engine/intake.ts";
import { type Incident, type Severity, SEVERITY_RANK } from "../events/types.ts";
import {
  type Authenticator,
  type AuthVariables,
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
import { documentOf, serveDocs } from "./openapi.ts";
import { routesOf } from "./routes.ts";
import {
  emptyIsNoBody,
  httpError,
  HTTPException,
  jsonByDefault,
  refuseInvalid,
} from "./validation.ts";
import { type ConsoleDeps, mountConsole } from "./console.ts";
import type { IngestResult } from "../engine/ingest_verdicts.ts";
import type { ModelInfo } from "../engine/served_models.ts";
import type { RuleView } from "../engine/rules.ts";
import { NotFound, Unavailable } from "../engine/errors.ts";
export { type IngestResult, type ModelInfo, NotFound, type RuleView, Unavailable };

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
  list(): RuleView[];
  get(rule: string): RuleView | null;
  /** Changes mode and parameters together; throws RuleError for a change it cannot make. */
  change(rule: string, change: { mode?: unknown; params?: unknown }): RuleView | null;
}

/** The app, whose handlers know their caller (`c.get("caller")`). */
export type ApiApp = OpenAPIHono<{ Variables: AuthVariables }>;
type Ctx = Context<{ Variables: AuthVariables }>;

/** The ETag of a triage: its revision. */
function etagOf(t: Triage): string {
  return `"${t.revision}"`;
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
  /** Told of a case's triage changed here (the rules' precision counts its label at once). */
  triaged?: (kind: TriageKind, id: string, triage: Triage) => Promise<void>;
  /** The analyst console at `/` and its live stream (absent: not served). */
  console?: ConsoleDeps;
  /**
   * Told of every request answered: its route pattern (`unmatched` when no route matched),
   * method, status and seconds until its response began (the HTTP metrics).
   */
  requests?: (route: string, method: string, status: number, seconds: number) => void;
  /** Roll-up rows one statistics request reads (`VIGIL_AGGREGATE_MAX_ROWS`). */
  maxRollupRows?: number;
  /** The page actors' window length (`VIGIL_PAGE_WINDOW_MS`; default 1 min). */
  pageWindowMs?: number;
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

/** The route pattern a request was answered by: the last route matched that is not a middleware. */
export function routeOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    if (routes[i]!.method !== "ALL") return routes[i]!.path;
  }
  return UNMATCHED_ROUTE;
}

/** A middleware telling `observe` of each request once it is answered. */
function timed(
  observe: NonNullable<ApiDeps["requests"]>,
): (c: Context, next: () => Promise<void>) => Promise<void> {
  return async (c, next) => {
    const t0 = performance.now();
    try {
      await next();
    } finally {
      observe(routeOf(c), c.req.method, c.res.status, (performance.now() - t0) / 1000);
    }
  };
}

/** Builds the app. */
export function createApp(deps: ApiDeps): ApiApp {
  const app: ApiApp = new OpenAPIHono({ defaultHook: refuseInvalid });
  const r = routesOf(deps.limits);
  /** A body bound for a route: past it, 413 (before anything reads it). */
  const limitBody = (maxSize: number) =>
    bodyLimit({
      maxSize,
      onError: (c) => c.json({ error: `Body is larger than ${maxSize} bytes` }, 413),
    });
  const smallBody = [limitBody(4_096), jsonByDefault];
  if (deps.requests) app.use("*", timed(deps.requests));

  app.openapi(r.health, (c) => c.json({ status: "ok" as const }, 200));
  app.openapi(r.ready, async (c) => {
    const ready = await deps.ready();
    return ready.ready ? c.json(ready, 200) : c.json(ready, 503);
  });
  app.openapi(r.metrics, async (c) => {
    const m = await deps.metrics();
    return c.body(m.text, 200, { "Content-Type": m.contentType });
  });
  let document: unknown = null;
  app.openapi(r.document, (c) => c.json(document ??= documentOf(app)));
  serveDocs(app, r.docs);

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
  app.openapi({ ...r.signIn, middleware: smallBody }, async (c) => {
    if (!deps.sessions) throw new NotFound("This process has no sessions: use a bearer token");
    const principal = await deps.auth.authenticate(c.req.valid("json").token.trim());
    if (!principal) return c.json({ error: "Wrong token" }, 401);
    const s = deps.sessions.create(principal);
    setCookie(c, SESSION_COOKIE, s.id, {
      httpOnly: true,
      sameSite: "Strict",
      path: "/",
      maxAge: Math.floor(deps.sessions.limits.ttl_ms / 1000),
      secure: new URL(c.req.url).protocol === "https:",
    });
    return c.json(sessionBody(s), 200);
  });
  app.openapi(r.session, (c) => {
    const s = sessionOf(c);
    if (!s) return c.json({ error: "Not signed in (or the session expired)" }, 401);
    return c.json(sessionBody(s), 200);
  });
  app.openapi(r.signOut, (c) => {
    const id = getCookie(c, SESSION_COOKIE);
    if (id && deps.sessions) deps.sessions.end(id);
    deleteCookie(c, SESSION_COOKIE, { path: "/" });
    return c.body(null, 204);
  });

  app.use("/api/v1/*", requireRole(deps.auth, deps.sessions ?? null));
  if (deps.console) mountConsole(app, deps.console);
  /** Appends a change to the audit log, made by the request's caller. */
  const audit = (
    c: Ctx,
    action: AuditAction,
    target: { kind: string; id: string },
    before: unknown,
    after: unknown,
  ) =>
    deps.store.appendAudit(
      auditEntry(c.get("caller"), action, target, before, after, deps.now?.() ?? Date.now()),
    );
  /** Cases with their triage (an untouched one's is `UNTOUCHED`). */
  const withTriage = async <T>(kind: TriageKind, items: readonly T[], idOf: (x: T) => string) => {
    const triage = await deps.store.getTriages(kind, items.map(idOf));
    return items.map((x) => ({ ...x, triage: triage.get(idOf(x)) ?? UNTOUCHED }));
  };
  /** A store query whose filter the store refuses is the caller's mistake (400). */
  const queried = async <T>(find: () => Promise<T>): Promise<T> => {
    try {
      return await find();
    } catch (err) {
      if (err instanceof StoreQueryError) throw new BadRequest(err.message);
      throw err;
    }
  };
  const ingestBucket = new IngestBucket(
    deps.limits.ingest_events_per_s,
    deps.limits.ingest_burst_events,
    deps.now ?? (() => Date.now()),
  );

  app.openapi({ ...r.events, middleware: [limitBody(deps.limits.max_body_bytes)] }, async (c) => {
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
  });

  app.openapi(r.alerts, async (c) => {
    const q = c.req.valid("query");
    const query: Parameters<Store["findAlerts"]>[0] = { limit: q.limit! };
    if (q.rule) query.rule = q.rule;
    if (q.entity_type) query.entity_type = q.entity_type;
    if (q.entity_key) query.entity_key = q.entity_key;
    if (q.since !== undefined) query.since_ms = q.since;
    if (q.before) query.before = q.before;
    if (q.incident_id) query.incident_id = q.incident_id;
    const alerts = await queried(() => deps.store.findAlerts(query));
    // A full page may have more after it: `next` is the cursor for `before`.
    const next = alerts.length === query.limit ? alerts[alerts.length - 1]!.alert_id : null;
    return c.json({
      count: alerts.length,
      alerts: await withTriage("alert", alerts, (a) => a.alert_id),
      next,
    }, 200);
  });

  app.openapi(r.incidents, async (c) => {
    const q = c.req.valid("query");
    const query: IncidentQuery = { limit: q.limit! };
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
    if (q.since !== undefined) query.since_ms = q.since;
    if (q.before) query.before = q.before;
    const incidents = await queried(() => deps.store.findIncidents(query));
    const next = incidents.length === query.limit
      ? incidents[incidents.length - 1]!.incident_id
      : null;
    return c.json({
      count: incidents.length,
      incidents: await withTriage("incident", incidents, (i) => i.incident_id),
      next,
    }, 200);
  });

  app.openapi(r.incident, async (c) => {
    const { id } = c.req.valid("param");
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
      ...withIt!,
      alerts: await withTriage("alert", alerts, (a) => a.alert_id),
    }, 200);
  });

  app.openapi(r.alert, async (c) => {
    const { id } = c.req.valid("param");
    const alert = await deps.store.getAlert(id);
    if (!alert) throw new NotFound(`No alert ${id} is stored`);
    const [withIt] = await withTriage("alert", [alert], (a) => a.alert_id);
    c.header("ETag", etagOf(withIt!.triage));
    return c.json(withIt!, 200);
  });

  // The analyst's changes: status, assignee, a note, a label on resolving; the ETag of
  // the triage read (If-Match) must still be the stored one, else 409.
  const triageBody = limitBody(deps.limits.max_note_chars * 4 + 1_024);
  const patchTriage = async (
    c: Ctx,
    kind: TriageKind,
    id: string,
    match: string | undefined,
    body: unknown,
    exists: (id: string) => Promise<unknown>,
  ) => {
    if (!(await exists(id))) throw new NotFound(`No ${kind} ${id} is stored`);
    if (match === undefined) {
      return {
        status: 428 as const,
        body: {
          error: `Send If-Match with the ETag of the ${kind}'s triage as read (GET it first)`,
        },
      };
    }
    const stored = (await deps.store.getTriages(kind, [id])).get(id) ?? UNTOUCHED;
    if (match !== etagOf(stored)) {
      c.header("ETag", etagOf(stored));
      return {
        status: 409 as const,
        body: {
          error: `The ${kind}'s triage changed since it was read (now ${etagOf(stored)}, ` +
            `not ${match}): read it again`,
          triage: stored,
        },
      };
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
      return {
        status: 409 as const,
        body: { error: `The ${kind}'s triage changed meanwhile: read it again`, triage: now },
      };
    }
    await audit(c, `${kind}.triage`, { kind, id }, stored, after);
    await deps.triaged?.(kind, id, after);
    c.header("ETag", etagOf(after));
    return { status: 200 as const, body: { id, triage: after } };
  };
  const triageRoute = (
    route: typeof r.alertTriage,
    kind: TriageKind,
    exists: (id: string) => Promise<unknown>,
  ) =>
    app.openapi({ ...route, middleware: [triageBody, jsonByDefault] }, async (c) => {
      const { id } = c.req.valid("param");
      const match = c.req.valid("header")["if-match"];
      const t = await patchTriage(c, kind, id, match, c.req.valid("json"), exists);
      return t.status === 200
        ? c.json(t.body, 200)
        : t.status === 409
        ? c.json(t.body, 409)
        : c.json(t.body, 428);
    });
  triageRoute(r.incidentTriage, "incident", (id) => deps.store.getIncident(id));
  triageRoute(r.alertTriage, "alert", (id) => deps.store.getAlert(id));

  app.openapi(r.actors, (c) => {
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
    }, 200);
  });

  // This process's own view of the cluster: itself (the supervisor of `main.ts cluster`
  // serves the whole cluster and scales it).
  app.openapi(r.cluster, (c) => {
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
    }, 200);
  });
  app.openapi({ ...r.scale, middleware: smallBody }, (c) =>
    c.json({
      error: "This process does not supervise workers: scale with main.ts cluster " +
        "(POST /api/v1/cluster there), or add workers to the Kafka consumer group",
    }, 409));

  app.openapi(r.actor, async (c) => {
    const { type, key } = c.req.valid("param");
    if (!deps.actors.types.includes(type)) {
      throw new NotFound(`No actor type "${type}"; known: ${deps.actors.types.join(", ")}`);
    }
    const state = await deps.actors.stateOf(type, key);
    if (state === undefined) throw new NotFound(`No actor ${type}:${key} has been seen`);
    return c.json({ type, key, resident: deps.actors.isResident(type, key), state }, 200);
  });

  app.openapi(r.archive, async (c) => {
    const q = c.req.valid("query");
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
    if (q.entity_type !== undefined && q.entity_key !== undefined) {
      filter.fields = ENTITY_FIELDS[q.entity_type]!;
      filter.value = q.entity_key;
    }
    const events = await deps.store.findArchived(q.limit!, filter);
    return c.json({ count: events.length, events }, 200);
  });

  app.openapi(r.stats, async (c) => {
    const q = c.req.valid("query");
    const to = q.to ?? Date.now();
    const from = q.from ?? to - 7 * 86_400_000;
    if (!(from < to)) throw new BadRequest("from must be before to");
    const period = q.period ?? "hour";
    const max = deps.maxRollupRows ?? 50_000;
    const query: RollupQuery = { period, from_ms: from, to_ms: to };
    if (q.kind !== undefined) query.kind = q.kind;
    const rows = await queried(() => deps.store.findRollups(query, max + 1));
    const [last] = await queried(() => deps.store.findJobRuns(ROLLUP_JOB, 1));
    const kept = rows.slice(0, max);
    return c.json({
      period,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      amount_bounds: [...AMOUNT_BUCKETS],
      last_run: last
        ? {
          outcome: last.outcome,
          from: last.from,
          to: last.to,
          started_at: last.started_at,
          duration_ms: last.duration_ms,
          rows: last.rows,
          ...(last.error !== undefined ? { error: last.error } : {}),
        }
        : null,
      totals: totalsOf(kept),
      rows: kept,
      truncated: rows.length > max,
    }, 200);
  });

  app.openapi(r.pageCounts, async (c) => {
    const { page } = c.req.valid("param");
    const q = c.req.valid("query");
    const state = await deps.actors.stateOf(PAGE, page) as PageView | undefined;
    if (state === undefined) throw new NotFound(`No views of page "${page}" have been seen`);
    const list = (windows: PageView["windows"], closed: boolean) =>
      windows.map((w) => ({
        start: w.start,
        start_ms: Date.parse(w.start),
        views: w.views,
        closed,
      }))
        .filter((w) =>
          (q.from === undefined || w.start_ms >= q.from) &&
          (q.to === undefined || w.start_ms < q.to)
        );
    const counts = [...list(state.windows, true), ...list(state.open_windows, false)];
    return c.json({ page, window_ms: deps.pageWindowMs ?? 60_000, counts }, 200);
  });

  app.openapi(r.eventQuery, async (c) => {
    const q = c.req.valid("query");
    const query: EventQuery = { limit: q.limit! };
    if (q.kind !== undefined) query.kind = q.kind;
    if (q.from !== undefined) query.from_ms = q.from;
    if (q.to !== undefined) query.to_ms = q.to;
    const match: EventQuery["match"] = {};
    for (const f of Object.keys(EVENT_FILTERS) as EventFilter[]) {
      if (q[f] !== undefined) match[f] = q[f];
    }
    if (Object.keys(match).length > 0) query.match = match;
    if (q.after !== undefined) {
      const after = parseCursor(q.after);
      if (after === null) throw new BadRequest(`after "${q.after}" is not the next of a page`);
      query.after = after;
    }
    const events = await queried(() => deps.store.findEvents(query));
    const last = events.at(-1);
    const next = events.length === query.limit && last ? cursorOf(last) : null;
    return c.json({ count: events.length, events, next }, 200);
  });

  app.openapi(r.deadLetters, async (c) => {
    const letters = await deps.store.findDeadLetters(c.req.valid("query").limit!);
    return c.json({ count: letters.length, dead_letters: letters }, 200);
  });

  app.openapi(r.models, async (c) => {
    const models = await modelsOf().list();
    return c.json({ count: models.length, models }, 200);
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

  app.openapi({ ...r.activate, middleware: smallBody }, async (c) => {
    const models = modelsOf();
    const name = knownModel(models, c.req.valid("param").name);
    const { version } = c.req.valid("json");
    const done = await checked(() => models.activate(name, version));
    if ("refused" in done) {
      return c.json({ error: done.refused, active: "unchanged" as const }, 422);
    }
    await audit(c, "model.activate", { kind: "model", id: name }, { active: done.previous }, {
      active: done.version,
    });
    return c.json({ name, version: done.version, previous: done.previous }, 200);
  });

  app.openapi({ ...r.shadow, middleware: smallBody }, async (c) => {
    const models = modelsOf();
    const name = knownModel(models, c.req.valid("param").name);
    const { version } = c.req.valid("json");
    const before = await shadowOf(models, name);
    const done = await checked(() => models.shadow(name, version));
    if (done && typeof done === "object" && "refused" in done) {
      return c.json({ error: done.refused }, 422);
    }
    await audit(c, "model.shadow", { kind: "model", id: name }, { shadow: before }, {
      shadow: version,
    });
    return c.json({ name, shadow: version }, 200);
  });

  app.openapi(r.unshadow, async (c) => {
    const models = modelsOf();
    const name = knownModel(models, c.req.valid("param").name);
    const before = await shadowOf(models, name);
    if (!(await models.unshadow(name))) throw new NotFound(`Model ${name} has no shadow`);
    await audit(c, "model.unshadow", { kind: "model", id: name }, { shadow: before }, {
      shadow: null,
    });
    return c.json({ name, shadow: null }, 200);
  });

  const rulesOf = (): RulesDeps => {
    if (!deps.rules) throw new NotFound("No rules are run by this process");
    return deps.rules;
  };

  /** One re-drive at a time in this process. */
  let redriving: Promise<unknown> = Promise.resolve();
  app.openapi({ ...r.redrive, middleware: [...smallBody, emptyIsNoBody] }, async (c) => {
    const body = c.req.valid("json");
    const max = deps.limits.max_events_per_request;
    const limit = body.limit === undefined ? Math.min(100, max) : body.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > max) {
      throw new BadRequest(`"limit" must be a whole number from 1 to ${max}`);
    }
    const category = body.category;
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

  app.openapi(r.rules, (c) => {
    const rules = rulesOf().list();
    return c.json({ count: rules.length, rules }, 200);
  });

  app.openapi(r.rule, (c) => {
    const name = c.req.valid("param").rule;
    const rule = rulesOf().get(name);
    if (!rule) throw new NotFound(`No rule ${name}`);
    return c.json(rule, 200);
  });

  app.openapi({ ...r.changeRule, middleware: smallBody }, async (c) => {
    const rules = rulesOf();
    const name = c.req.valid("param").rule;
    const body = c.req.valid("json");
    try {
      const before = rules.get(name);
      const rule = rules.change(name, body);
      if (!rule) throw new NotFound(`No rule ${name}`);
      await audit(c, "rule.change", { kind: "rule", id: name }, before, rule);
      return c.json(rule, 200);
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
  const made = async (c: Ctx, body: Record<string, unknown>, incident?: Incident) => {
    const sup = suppressionsOf();
    let s: Suppression;
    try {
      const anchored = incident
        ? { ...body, entity_type: incident.anchor.type, entity_key: incident.anchor.key }
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
    return s;
  };
  app.openapi(r.suppressions, (c) => {
    const now = clock();
    const { active } = c.req.valid("query");
    const all = suppressionsOf().list().reverse(); // the newest first
    const live = (s: Suppression) =>
      Date.parse(s.starts_at) <= now && now < Date.parse(s.expires_at);
    const list = active === undefined ? all : all.filter((s) => live(s) === (active === "true"));
    return c.json({ count: list.length, suppressions: list }, 200);
  });
  app.openapi(
    { ...r.suppress, middleware: smallBody },
    async (c) => c.json(await made(c, c.req.valid("json")), 201),
  );
  app.openapi({ ...r.suppressIncident, middleware: smallBody }, async (c) => {
    const body = c.req.valid("json");
    suppressionsOf();
    const { id } = c.req.valid("param");
    const incident = await deps.store.getIncident(id);
    if (!incident) throw new NotFound(`No incident ${id} is stored`);
    return c.json(await made(c, body, incident), 201);
  });
  app.openapi(r.endSuppression, async (c) => {
    const sup = suppressionsOf();
    const { id } = c.req.valid("param");
    const s = sup.list().find((x) => x.id === id);
    if (!s) throw new NotFound(`No suppression ${id}`);
    // Ended now: what it covered before stays covered (event time), nothing after.
    const now = clock();
    const end = Math.max(Date.parse(s.starts_at), Math.min(now, Date.parse(s.expires_at)));
    const ended = { ...s, expires_at: new Date(end).toISOString() };
    await sup.save(ended);
    await audit(c, "suppression.end", { kind: "suppression", id }, s, ended);
    return c.json(ended, 200);
  });

  app.openapi(r.audit, async (c) => {
    const q = c.req.valid("query");
    const query: AuditQuery = { limit: q.limit! };
    if (q.before) query.before = q.before;
    if (q.since !== undefined) query.since_ms = q.since;
    if (q.principal) query.principal = q.principal;
    if (q.action) query.action = q.action;
    if (q.target_id) query.target_id = q.target_id;
    const entries = await deps.store.findAudit(query);
    const next = entries.length === query.limit ? entries[entries.length - 1]!.id : null;
    return c.json({ count: entries.length, entries, next }, 200);
  });

  const allowed = allowedMethods(app);
  app.notFound((c) => {
    // A path the API serves, asked with a method it does not: 405 with what it allows.
    const methods = allowed(c.req.path);
    if (methods.length > 0) {
      c.header("Allow", methods.join(", "));
      return c.json({
        error: `${c.req.method} is not allowed on ${c.req.path}: only ${methods.join(", ")}`,
      }, 405);
    }
    return c.json({ error: `No route ${c.req.method} ${c.req.path}` }, 404);
  });
  app.onError((err, c) => {
    if (err instanceof BadRequest) return c.json({ error: err.message }, 400);
    if (err instanceof NotFound) return c.json({ error: err.message }, 404);
    if (err instanceof Unavailable) {
      c.header("Retry-After", String(err.retry_after_s));
      return c.json({ error: err.message }, 503);
    }
    if (err instanceof HTTPException) return httpError(c, err);
    return c.json({ error: `Internal error: ${err.message}` }, 500);
  });
  return app;
}

/**
 * The methods the app serves a path with (its routes' patterns, `:param` segments matching
 * one segment), HEAD with GET; read from the routes when first asked, once they are all in.
 */
function allowedMethods(app: ApiApp): (path: string) => string[] {
  let table: { pattern: RegExp; method: string }[] | null = null;
  return (path) => {
    table ??= app.routes.filter((r) => r.method !== "ALL" && !r.path.includes("*")).map((r) => ({
      method: r.method,
      pattern: new RegExp(
        "^" +
          r.path.split("/").map((seg) =>
            seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
          ).join("/") + "/?$",
      ),
    }));
    const methods = new Set<string>();
    for (const r of table) if (r.pattern.test(path)) methods.add(r.method);
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods].sort();
  };
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

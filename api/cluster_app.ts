/**
 * The cluster supervisor's HTTP API: `/health`, `/ready` (every worker running) and
 * `/metrics` without a token; `GET /api/v1/cluster` (each worker's slot, port, pid,
 * status, restarts, partitions, resident actors and metrics endpoint) and
 * `POST /api/v1/cluster {"workers": n}` (scale) behind a token and its role (viewer to
 * read, admin to scale), each scaling written to the supervisor's audit log
 * (`GET /api/v1/audit`, kept in memory: the supervisor has no store).
 *
 * @module
 */

import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import client from "prom-client";
import type { Cluster, WorkerInfo } from "../supervisors/cluster.ts";
import { type Authenticator, type AuthVariables, requireRole } from "./auth.ts";
import { auditEntry, type AuditQuery } from "../engine/audit.ts";
import type { Store } from "../io/store.ts";

/** What a worker tells of itself at `/api/v1/actors`. */
interface WorkerView {
  partitions: number[] | null;
  types: Record<string, { resident: number }>;
}

/** Builds the cluster API. */
/** How the cluster API knows its callers, reaches its workers and keeps its audit log. */
export interface ClusterAppOptions {
  auth: Authenticator;
  /** The admin token the workers were given (to read their `/api/v1/actors`). */
  token: string;
  host: string;
  audit: Pick<Store, "appendAudit" | "findAudit">;
}

/** Builds the cluster API. */
export function createClusterApp(
  cluster: Cluster,
  options: ClusterAppOptions,
): Hono<{ Variables: AuthVariables }> {
  const app = new Hono<{ Variables: AuthVariables }>();
  const registry = new client.Registry();
  new client.Gauge({
    name: "vigil_cluster_workers",
    help: "Worker slots of the cluster supervisor, by status.",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of cluster.list()) this.inc({ status: w.status });
    },
  });
  new client.Gauge({
    name: "vigil_cluster_worker_restarts",
    help: "Restarts of worker slots since the cluster started (sum).",
    registers: [registry],
    collect() {
      this.set(cluster.list().reduce((n, w) => n + w.restarts, 0));
    },
  });

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", (c) => {
    const bad = cluster.list().filter((w) => w.status !== "running");
    const ready = cluster.size > 0 && bad.length === 0;
    return c.json(
      { ready, reasons: bad.map((w) => `worker ${w.slot} is ${w.status}`) },
      ready ? 200 : 503,
    );
  });
  app.get(
    "/metrics",
    async (c) => c.body(await registry.metrics(), 200, { "Content-Type": registry.contentType }),
  );

  app.use("/api/v1/*", requireRole(options.auth, null));
  app.get("/api/v1/cluster", async (c) => {
    const workers = await Promise.all(cluster.list().map((w) => describe(w, options)));
    return c.json({ size: cluster.size, workers });
  });
  app.post(
    "/api/v1/cluster",
    bodyLimit({
      maxSize: 4096,
      onError: (c) => c.json({ error: "Body is larger than 4096 bytes" }, 413),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        return c.json({ error: 'Send JSON like {"workers": 3}' }, 400);
      }
      const n = (body as { workers?: unknown } | null)?.workers;
      if (typeof n !== "number") return c.json({ error: 'Field "workers" must be a number' }, 400);
      const before = { size: cluster.size };
      try {
        await cluster.scale(n);
      } catch (err) {
        if (err instanceof RangeError) return c.json({ error: err.message }, 400);
        throw err;
      }
      await options.audit.appendAudit(
        auditEntry(c.get("caller"), "cluster.scale", { kind: "cluster", id: "workers" }, before, {
          size: cluster.size,
        }),
      );
      return c.json({ size: cluster.size, workers: cluster.list() }, 202);
    },
  );
  app.get("/api/v1/audit", async (c) => {
    const limit = Number(c.req.query("limit") ?? "100");
    if (!Number.isInteger(limit) || limit < 1 || limit > 1_000) {
      return c.json(
        { error: 'Query parameter "limit" must be a whole number from 1 to 1000' },
        400,
      );
    }
    const query: AuditQuery = { limit };
    const before = c.req.query("before");
    if (before) query.before = before;
    const entries = await options.audit.findAudit(query);
    return c.json({
      count: entries.length,
      entries,
      next: entries.length === limit ? entries[entries.length - 1]!.id : null,
    });
  });
  app.notFound((c) => c.json({ error: `No route ${c.req.method} ${c.req.path}` }, 404));
  app.onError((err, c) => c.json({ error: `Internal error: ${err.message}` }, 500));
  return app;
}

async function describe(
  w: WorkerInfo,
  o: { token: string; host: string },
): Promise<WorkerInfo & { partitions: number[] | null; resident: Record<string, number> | null }> {
  if (w.status !== "running") return { ...w, partitions: null, resident: null };
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 1_000);
  try {
    const r = await fetch(`http://${o.host}:${w.port}/api/v1/actors`, {
      headers: { authorization: `Bearer ${o.token}` },
      signal: abort.signal,
    });
    const v = await r.json() as WorkerView;
    const resident = Object.fromEntries(Object.entries(v.types).map(([t, x]) => [t, x.resident]));
    return { ...w, partitions: v.partitions, resident };
  } catch {
    return { ...w, partitions: null, resident: null };
  } finally {
    clearTimeout(timer);
  }
}

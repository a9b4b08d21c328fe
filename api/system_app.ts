/**
 * The HTTP API of a running system: `createApp` given what it needs from a `VigilSystem`
 * (its store, readiness, metrics, ingest, actors, models, rules, suppressions, triage and
 * the console's stream), with the system's principals. The engine knows nothing of HTTP;
 * `main.ts` serves this app, and tests call it without a socket.
 *
 * @module
 */

import { type ApiApp, createApp } from "./app.ts";
import { Authenticator, Sessions } from "./auth.ts";
import type { VigilSystem } from "../engine/system.ts";
import { SERVED_MODELS } from "../engine/served_models.ts";

const apps = new WeakMap<VigilSystem, ApiApp>();

/** The API of `system` (one app per system, built on first use). */
export function appOf(system: VigilSystem): ApiApp {
  let app = apps.get(system);
  if (!app) apps.set(system, app = buildApp(system));
  return app;
}

function buildApp(system: VigilSystem): ApiApp {
  const c = system.config;
  const { token, tokens, users } = system.access;
  return createApp({
    auth: new Authenticator({
      tokens: { admin: token, ...tokens },
      users,
      cache_entries: c.api.auth_cache_entries,
    }),
    sessions: new Sessions({ ttl_ms: c.api.session_ttl_ms, max: c.api.max_sessions }),
    limits: c.api,
    store: system.store,
    ready: () => system.ready(),
    metrics: async () => ({
      text: await system.metrics.text(),
      contentType: system.metrics.contentType,
    }),
    ingest: (items) => system.ingest(items),
    requests: (route, method, status, s) => system.metrics.kpi.request(route, method, status, s),
    pageWindowMs: c.page.window_ms,
    maxRollupRows: c.aggregate.max_rows,
    console: { hub: system.stream, volume: system.volume },
    suppressions: {
      limits: c.alerts,
      list: () => system.suppressions.list,
      save: (s) => system.suppress(s),
    },
    actors: system.runtime,
    partitions: () => system.assigned,
    models: {
      known: SERVED_MODELS,
      list: () => system.listModels(),
      activate: (name, version) => system.activateModel(name, version),
      shadow: (name, version) => system.shadowModel(name, version),
      unshadow: (name) => system.models.unshadow(name),
    },
    rules: {
      list: () => system.rules.list().map((r) => system.ruleView(r)),
      get: (rule) => {
        const r = system.rules.get(rule);
        return r && system.ruleView(r);
      },
      change: (rule, change) => {
        const r = system.changeRule(rule, change);
        return r && system.ruleView(r);
      },
    },
    triaged: (kind, id, triage) => system.triaged(kind, id, triage),
  });
}

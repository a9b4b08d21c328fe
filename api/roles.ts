/**
 * Who may do what (issue 15, roles): the role every `/api/v1` route needs, of the three
 * (`engine/roles.ts`). The API's middleware refuses a route missing from the table (deny
 * by default), the OpenAPI document states each route's role from it, and a test walks
 * every route with every role.
 *
 * @module
 */

import type { Role } from "../engine/roles.ts";
export { allows, type Role, ROLES } from "../engine/roles.ts";

/**
 * The role each `/api/v1` route needs, by `METHOD path` as the app declares it (Hono's
 * `:param` form). viewer reads; analyst also works cases (triage, suppressions) and reads
 * the audit log; admin also ingests and changes rules, models, the cluster and re-drives.
 */
export const ROUTE_ROLES: Readonly<Record<string, Role>> = {
  "GET /api/v1/alerts": "viewer",
  "GET /api/v1/alerts/:id": "viewer",
  "GET /api/v1/incidents": "viewer",
  "GET /api/v1/incidents/:id": "viewer",
  "GET /api/v1/actors": "viewer",
  "GET /api/v1/actors/:type/:key": "viewer",
  "GET /api/v1/archive": "viewer",
  "GET /api/v1/events": "viewer",
  "GET /api/v1/stats": "viewer",
  "GET /api/v1/pages/:page/counts": "viewer",
  "GET /api/v1/dead-letters": "viewer",
  "GET /api/v1/models": "viewer",
  "GET /api/v1/rules": "viewer",
  "GET /api/v1/rules/:rule": "viewer",
  "GET /api/v1/suppressions": "viewer",
  "GET /api/v1/cluster": "viewer",
  "GET /api/v1/stream": "viewer",
  "GET /api/v1/alert-volume": "viewer",
  "PATCH /api/v1/alerts/:id": "analyst",
  "PATCH /api/v1/incidents/:id": "analyst",
  "POST /api/v1/suppressions": "analyst",
  "DELETE /api/v1/suppressions/:id": "analyst",
  "POST /api/v1/incidents/:id/suppress": "analyst",
  "GET /api/v1/audit": "analyst",
  "POST /api/v1/events": "admin",
  "POST /api/v1/dead-letters/redrive": "admin",
  "PATCH /api/v1/rules/:rule": "admin",
  "POST /api/v1/models/:name/activate": "admin",
  "POST /api/v1/models/:name/shadow": "admin",
  "DELETE /api/v1/models/:name/shadow": "admin",
  "POST /api/v1/cluster": "admin",
};

/** The role a route needs (`:param` path), or null when none is declared. */
export function roleFor(method: string, path: string): Role | null {
  return ROUTE_ROLES[`${method.toUpperCase()} ${path}`] ?? null;
}

/** `/api/v1/alerts/:id` as OpenAPI writes it: `/api/v1/alerts/{id}`. */
export function openapiPath(path: string): string {
  return path.replace(/:([A-Za-z_]+)/g, "{$1}");
}

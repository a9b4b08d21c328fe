/**
 * The OpenAPI 3.1 document, served at `/openapi.json`: written by `@hono/zod-openapi` from
 * the routes as declared (`api/routes.ts`), with each `/api/v1` operation's role from
 * `api/roles.ts`; and `/docs`, the document in Swagger UI, whose files come from the npm
 * package `swagger-ui-dist` and are served by Vigil itself (nothing loaded from elsewhere).
 *
 * @module
 */

import type { OpenAPIHono, RouteConfig } from "@hono/zod-openapi";
import type { Env } from "hono";
import swaggerBundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "text" };
import { SESSION_COOKIE } from "./auth.ts";
import { openapiPath, ROUTE_ROLES } from "./roles.ts";

const DESCRIPTION = "Control and query API of the Vigil detection engine. Everything under " +
  "/api/v1 needs a principal: `Authorization: Bearer <token>` (ADMIN_TOKEN, ANALYST_TOKEN, " +
  "VIEWER_TOKEN or a users-file token), or the console's session cookie with `X-CSRF-Token` " +
  "on a change. Each operation's `x-required-role` is the least role it needs: viewer " +
  "reads; analyst also triages, suppresses and reads the audit log; admin also ingests and " +
  "changes rules, models, the cluster and re-drives.";

type Operation = Record<string, unknown> & { responses?: Record<string, unknown> };
type Document = { paths?: Record<string, Record<string, Operation>>; components?: object };

const error = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

/** The document of an app whose routes were declared with `app.openapi`. */
// deno-lint-ignore no-explicit-any
export function documentOf<E extends Env>(app: OpenAPIHono<E, any, any>): Document {
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: { title: "Vigil API", version: "1.0.0", description: DESCRIPTION },
  }) as unknown as Document;
  doc.components = {
    ...doc.components,
    securitySchemes: {
      bearer: { type: "http", scheme: "bearer" },
      session: { type: "apiKey", in: "cookie", name: SESSION_COOKIE },
    },
  };
  return withRoles(doc);
}

/**
 * Each `/api/v1` operation with its role (`x-required-role`), both ways of signing, and the
 * answers without a principal (401) or with too little (403). A documented route with no
 * role is a mistake caught here.
 */
function withRoles(doc: Document): Document {
  const byPath = new Map(
    Object.entries(ROUTE_ROLES).map(([route, role]) => {
      const [method, path] = route.split(" ") as [string, string];
      return [`${method.toLowerCase()} ${openapiPath(path)}`, role];
    }),
  );
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    if (!path.startsWith("/api/v1/")) continue;
    for (const [method, op] of Object.entries(ops)) {
      const role = byPath.get(`${method} ${path}`);
      if (role === undefined) throw new Error(`No role is declared for ${method} ${path}`);
      op["x-required-role"] = role;
      op.security = [{ bearer: [] }, { session: [] }];
      // A read open to every role is never refused past the 401.
      const refused = role === "viewer" && method === "get" ? {} : {
        "403": error(
          `The principal's role is below ${role}, or a change made with a session lacks ` +
            "X-CSRF-Token",
        ),
      };
      op.responses = {
        ...op.responses,
        "401": error("No principal: a missing or wrong token, or no session"),
        ...refused,
      };
    }
  }
  return doc;
}

const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Vigil API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
<main id="api"></main>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `SwaggerUIBundle({ url: "/openapi.json", dom_id: "#api", deepLinking: true,
  withCredentials: true, tryItOutEnabled: false });
`;

/** `/docs` and its files. */
// deno-lint-ignore no-explicit-any
export function serveDocs<E extends Env>(app: OpenAPIHono<E, any, any>, page: RouteConfig): void {
  const cached = { "Cache-Control": "public, max-age=86400" };
  app.openapi(page, (c) => c.html(DOCS_PAGE));
  app.get(
    "/docs/swagger-ui-bundle.js",
    (c) =>
      c.body(swaggerBundle, 200, { "Content-Type": "text/javascript; charset=utf-8", ...cached }),
  );
  app.get(
    "/docs/swagger-ui.css",
    (c) => c.body(swaggerCss, 200, { "Content-Type": "text/css; charset=utf-8", ...cached }),
  );
  app.get(
    "/docs/init.js",
    (c) => c.body(DOCS_INIT, 200, { "Content-Type": "text/javascript; charset=utf-8" }),
  );
}

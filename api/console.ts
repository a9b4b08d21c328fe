/**
 * The analyst console, served by the API's own Hono app: the page at `/`, its scripts and
 * styles under `/console/`, and the routes only it needs (the live stream, alert volume).
 * Everything it loads comes from this process: the app's modules (`console/`) and the
 * libraries (Preact, htm, uPlot) are read from their npm packages at start through Deno's
 * raw imports, so the console works with no network beyond this server.
 *
 * @module
 */

import type { Context, Env } from "hono";
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { createHash } from "node:crypto";
import type { AlertVolume } from "../engine/alert_volume.ts";
import type { StreamHub } from "../engine/stream.ts";
import preact from "preact" with { type: "text" };
import preactHooks from "preact/hooks" with { type: "text" };
import htm from "htm" with { type: "text" };
import uplot from "uplot/dist/uPlot.esm.js" with { type: "text" };
import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import appJs from "../console/app.js" with { type: "text" };
import apiJs from "../console/api.js" with { type: "text" };
import uiJs from "../console/ui.js" with { type: "text" };
import evidenceJs from "../console/evidence.js" with { type: "text" };
import queueJs from "../console/queue.js" with { type: "text" };
import incidentJs from "../console/incident.js" with { type: "text" };
import entityJs from "../console/entity.js" with { type: "text" };
import rulesJs from "../console/rules.js" with { type: "text" };
import modelsJs from "../console/models.js" with { type: "text" };
import systemJs from "../console/system.js" with { type: "text" };
import trendsJs from "../console/trends.js" with { type: "text" };
import styleCss from "../console/style.css" with { type: "text" };

/** What the console's routes need. */
export interface ConsoleDeps {
  hub: StreamHub;
  volume: AlertVolume;
}

const JS = "text/javascript; charset=utf-8";
const CSS = "text/css; charset=utf-8";

/** The files under `/console/`: name → type and text. */
const ASSETS: Readonly<Record<string, { type: string; text: string }>> = Object.freeze({
  "vendor/preact.mjs": { type: JS, text: preact },
  "vendor/hooks.mjs": { type: JS, text: preactHooks },
  "vendor/htm.mjs": { type: JS, text: htm },
  "vendor/uplot.mjs": { type: JS, text: uplot },
  "vendor/uplot.css": { type: CSS, text: uplotCss },
  "app.js": { type: JS, text: appJs },
  "api.js": { type: JS, text: apiJs },
  "ui.js": { type: JS, text: uiJs },
  "evidence.js": { type: JS, text: evidenceJs },
  "queue.js": { type: JS, text: queueJs },
  "incident.js": { type: JS, text: incidentJs },
  "entity.js": { type: JS, text: entityJs },
  "rules.js": { type: JS, text: rulesJs },
  "models.js": { type: JS, text: modelsJs },
  "system.js": { type: JS, text: systemJs },
  "trends.js": { type: JS, text: trendsJs },
  "style.css": { type: CSS, text: styleCss },
});

/** Each asset's ETag: a hash of its text. */
const ETAGS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    Object.entries(ASSETS).map((
      [name, a],
    ) => [name, `"${createHash("sha256").update(a.text).digest("hex").slice(0, 16)}"`]),
  ),
);

/** How the page's bare module names resolve. */
const IMPORT_MAP = JSON.stringify({
  imports: {
    "preact": "/console/vendor/preact.mjs",
    "preact/hooks": "/console/vendor/hooks.mjs",
    "htm": "/console/vendor/htm.mjs",
    "uplot": "/console/vendor/uplot.mjs",
  },
});

/** The page allows its own files and its one inline script (the import map), nothing else. */
const CSP = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${createHash("sha256").update(IMPORT_MAP).digest("base64")}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join("; ");

/** One server-sent event as a client parses it (the hello, alerts, incidents, triage, dropped). */
const StreamEvent = z.object({
  event: z.enum(["hello", "alert", "incident", "triage", "dropped"]),
  data: z.string().openapi({ description: "The event's JSON document" }),
  id: z.string().optional(),
  retry: z.number().int().optional(),
}).openapi("StreamEvent");

/** The page: an empty shell the app renders into. */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vigil console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/vendor/uplot.css">
<link rel="stylesheet" href="/console/style.css">
<script type="importmap">${IMPORT_MAP}</script>
<script type="module" src="/console/app.js"></script>
</head>
<body>
<div id="app"><main><p>Loading the console…</p></main></div>
</body>
</html>
`;

const HEADERS = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const ErrorBody = z.object({ error: z.string() });
const File = z.object({ file: z.string().openapi({ description: "A file's name" }) });

/** The console's routes, declared for the document (`/openapi.json`). */
const routes = {
  page: createRoute({
    method: "get",
    path: "/",
    summary: 'The analyst console (sign in with a token; see the README, "Console")',
    responses: { 200: { description: "HTML", content: { "text/html": { schema: z.string() } } } },
  }),
  file: createRoute({
    method: "get",
    path: "/console/{file}",
    summary: "The console's scripts and styles",
    request: { params: File },
    responses: {
      200: { description: "JavaScript or CSS" },
      304: { description: "Not modified (If-None-Match)" },
      404: { description: "No such file", content: { "application/json": { schema: ErrorBody } } },
    },
  }),
  vendor: createRoute({
    method: "get",
    path: "/console/vendor/{file}",
    summary: "The libraries the console uses (Preact, htm, uPlot), from their npm packages",
    request: { params: File },
    responses: {
      200: { description: "JavaScript or CSS" },
      304: { description: "Not modified (If-None-Match)" },
      404: { description: "No such file", content: { "application/json": { schema: ErrorBody } } },
    },
  }),
  stream: createRoute({
    method: "get",
    path: "/api/v1/stream",
    summary: "The console's live stream (server-sent events): `alert` for each new alert, " +
      "`incident` for each incident an alert changed, `triage` for each triage change made " +
      "through the API, `dropped` with a count when this client read too slowly and lost " +
      "the oldest (reload then), and a heartbeat comment on a quiet stream",
    responses: {
      200: {
        description: "The stream: each event's `data` is one JSON document",
        content: { "text/event-stream": { schema: StreamEvent } },
      },
      503: {
        description: "VIGIL_CONSOLE_STREAM_MAX_CLIENTS clients are connected (Retry-After)",
        content: { "application/json": { schema: ErrorBody } },
      },
    },
  }),
};

/** The route of the alert volume, for the most bars kept. */
function volumeRoute(most: number) {
  return createRoute({
    method: "get",
    path: "/api/v1/alert-volume",
    summary: "Alerts per rule over event time, as this process published them: the newest " +
      "`buckets` bars of VIGIL_CONSOLE_VOLUME_BUCKET_S seconds, of one `rule` or of all",
    request: {
      query: z.object({
        buckets: z.string().optional().transform((text, ctx) => {
          if (text === undefined || text === "") return Math.min(60, most);
          const n = Number(text);
          if (!Number.isInteger(n) || n < 1 || n > most) {
            ctx.addIssue({
              code: "custom",
              message: `Query parameter "buckets" must be a whole number from 1 to ${most}, ` +
                `got "${text}"`,
            });
            return z.NEVER;
          }
          return n;
        }).openapi({
          type: "integer",
          minimum: 1,
          maximum: most,
          description: `Bars, 1 to ${most} (default 60)`,
        }),
        rule: z.string().max(200).optional().openapi({ description: "Only this rule's" }),
      }),
    },
    responses: {
      200: {
        description: "The bars",
        content: {
          "application/json": {
            schema: z.object({
              bucket_s: z.number().int(),
              from: z.string().nullable(),
              buckets: z.number().int(),
              series: z.array(
                z.object({
                  rule: z.string(),
                  counts: z.array(z.number().int()),
                  total: z.number(),
                }),
              ),
            }),
          },
        },
      },
      400: {
        description: "Invalid request: the message says what is wrong",
        content: { "application/json": { schema: ErrorBody } },
      },
    },
  });
}

/**
 * Adds the console's routes to `app`. Mounted before the API's own routes (after its
 * role check), so that its watch on triage changes sees them.
 */
export function mountConsole<E extends Env>(app: OpenAPIHono<E>, deps: ConsoleDeps): void {
  app.openapi(routes.page, (c) => c.html(CONSOLE_PAGE, 200, HEADERS));
  const serveAsset = (c: Context<E>, name: string) => {
    const asset = ASSETS[name];
    if (!asset) return c.json({ error: `No console file ${name}` }, 404);
    const etag = ETAGS[name]!;
    if (c.req.header("if-none-match") === etag) return c.body(null, 304);
    return c.body(asset.text, 200, {
      ...HEADERS,
      "content-type": asset.type,
      "cache-control": "no-cache",
      etag,
    });
  };
  app.openapi(routes.vendor, (c) => serveAsset(c, `vendor/${c.req.param("file")}`));
  app.openapi(routes.file, (c) => serveAsset(c, c.req.param("file")));

  app.openapi(routes.stream, (c) => {
    const res = deps.hub.open();
    if (res) return res;
    c.header("Retry-After", "5");
    return c.json({
      error: `The live stream has ${deps.hub.limits.stream_max_clients} clients, its most ` +
        "(VIGIL_CONSOLE_STREAM_MAX_CLIENTS); retry later",
    }, 503);
  });

  app.openapi(volumeRoute(deps.volume.limits.volume_buckets), (c) => {
    const { buckets, rule } = c.req.valid("query");
    return c.json(deps.volume.series(buckets, rule), 200);
  });

  // A triage changed through the API goes out on the stream, to every console showing it.
  const watchTriage =
    (kind: "alert" | "incident") => async (c: Context<E>, next: () => Promise<void>) => {
      await next();
      if (c.req.method !== "PATCH" || c.res.status !== 200) return;
      const body = await c.res.clone().json().catch(() => null) as
        | { id?: string; triage?: unknown }
        | null;
      if (body?.id && body.triage) {
        deps.hub.publish([{ event: "triage", data: { kind, id: body.id, triage: body.triage } }]);
      }
    };
  app.use("/api/v1/incidents/:id", watchTriage("incident"));
  app.use("/api/v1/alerts/:id", watchTriage("alert"));
}

/**
 * The analyst console, served by the API's own Hono app: the page at `/`, its scripts and
 * styles under `/console/`, and the routes only it needs (the live stream, alert volume).
 * Everything it loads comes from this process: the app's modules (`console/`) and the
 * libraries (Preact, htm, uPlot) are read from their npm packages at start through Deno's
 * raw imports, so the console works with no network beyond this server.
 *
 * @module
 */

import type { Context, Env, Hono } from "hono";
import { createHash } from "node:crypto";
import type { AlertVolume } from "../engine/alert_volume.ts";
import type { StreamHub } from "./stream.ts";
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

/**
 * Adds the console's routes to `app`. Mounted before the API's own routes, so that its
 * watch on triage changes sees them.
 */
export function mountConsole<E extends Env>(app: Hono<E>, deps: ConsoleDeps): void {
  app.get("/", (c) => c.html(CONSOLE_PAGE, 200, HEADERS));
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
  app.get("/console/vendor/:file", (c) => serveAsset(c, `vendor/${c.req.param("file")}`));
  app.get("/console/:file", (c) => serveAsset(c, c.req.param("file")));

  app.get("/api/v1/stream", (c) => {
    const res = deps.hub.open();
    if (res) return res;
    c.header("Retry-After", "5");
    return c.json({
      error: `The live stream has ${deps.hub.limits.stream_max_clients} clients, its most ` +
        "(VIGIL_CONSOLE_STREAM_MAX_CLIENTS); retry later",
    }, 503);
  });

  app.get("/api/v1/alert-volume", (c) => {
    const text = c.req.query("buckets");
    const most = deps.volume.limits.volume_buckets;
    const buckets = text === undefined ? Math.min(60, most) : Number(text);
    if (!Number.isInteger(buckets) || buckets < 1 || buckets > most) {
      return c.json({
        error: `Query parameter "buckets" must be a whole number from 1 to ${most}, got "${text}"`,
      }, 400);
    }
    const rule = c.req.query("rule");
    if (rule !== undefined && rule.length > 200) {
      return c.json({ error: 'Query parameter "rule" is longer than 200 characters' }, 400);
    }
    return c.json(deps.volume.series(buckets, rule));
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

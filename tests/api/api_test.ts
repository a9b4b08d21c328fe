/**
 * The HTTP API (docs/api.md), in memory: a real `VigilSystem` (embedded log and
 * store, actor runtime, intake) behind Hono's `app.request`, no socket. Runs with no
 * permission at all.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Config } from "../../config/defaults.ts";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";
import { MemoryLog } from "../../io/memory_log.ts";
import {
  assertAllAccepted,
  metricSum,
  TOKEN,
  waitFor,
  withSystem as withRealSystem,
} from "./system.ts";
import { appOf } from "../../api/system_app.ts";

const MINUTE = 60_000;
const SEVERITIES = ["info", "low", "medium", "high", "critical"];

/** A parsed response: status, headers, and the body as JSON (or text when it is not JSON). */
interface Reply {
  status: number;
  headers: Headers;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

interface CallOptions {
  method?: string;
  /** A body to send as is (string), or a value sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** The token to send; `null` sends no Authorization header. Defaults to the right one. */
  token?: string | null;
}

/** One running system and a way to call its API. */
interface Harness {
  system: VigilSystem;
  call(path: string, options?: CallOptions): Promise<Reply>;
}

/** Builds a real system (optionally with changed limits), starts it, and always stops it. */
function withSystem(fn: (h: Harness) => Promise<void>, tune?: (config: Config) => void) {
  return withRealSystem((system) => fn({ system, call: (path, o) => call(system, path, o) }), tune);
}

async function call(system: VigilSystem, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null && headers.authorization === undefined) {
    headers.authorization = `Bearer ${token}`;
  }
  const init: RequestInit = { method: options.method ?? "GET", headers };
  if (options.body !== undefined) {
    if (typeof options.body === "string") init.body = options.body;
    else {
      init.body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
  }
  const res = await appOf(system).request(path, init);
  const text = await res.text();
  // What an ingest took in is handled before the test looks (io/turns.ts).
  if (init.method === "POST" && path.startsWith("/api/v1/events") && res.ok) {
    await system.whenIdle();
  }
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON (e.g. the metrics text); `text` has it.
  }
  return { status: res.status, headers: res.headers, text, json };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** An auth event. */
function auth(
  type: "login_failure" | "login_success" | "logout",
  user_id: string,
  ts: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { kind: "auth", type, user_id, ip: "203.0.113.7", timestamp: iso(ts), ...extra };
}

/** `n` failed logins of a user, `step_ms` apart, from `start`, with ids `<user>-f<i>`. */
function failures(user: string, start: number, n: number, step_ms = 20_000, ip = "203.0.113.7") {
  return Array.from(
    { length: n },
    (_, i) =>
      auth("login_failure", user, start + i * step_ms, { ip, event_id: `${user}-f${i + 1}` }),
  );
}

/** Posts events and checks the 202 and that all were accepted. */
async function ingestAll(h: Harness, events: Record<string, unknown>[]): Promise<void> {
  const r = await h.call("/api/v1/events", { method: "POST", body: events });
  assert.equal(r.status, 202, r.text);
  assertAllAccepted(r.json, events.length);
}

/** The alerts of one rule for one user. */
async function alertsFor(h: Harness, user: string, rule: string) {
  const r = await h.call(`/api/v1/alerts?entity_key=${user}&rule=${rule}`);
  assert.equal(r.status, 200, r.text);
  return r.json.alerts as Record<string, unknown>[];
}

// ---------------------------------------------------------------------------------------------
// Open endpoints

Deno.test("GET /health answers 200 without a token", async () => {
  await withSystem(async (h) => {
    const r = await h.call("/health", { token: null });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { status: "ok" });
  });
});

Deno.test("GET /ready is 503 before start, 200 while running, 503 once stopping", async () => {
  const config = loadConfig({});
  const system = new VigilSystem({ config, token: TOKEN });
  let stopped = false;
  try {
    const before = await call(system, "/ready", { token: null });
    assert.equal(before.status, 503);
    assert.equal(before.json.ready, false);
    assert.ok(before.json.reasons.length > 0, "a 503 says why");

    await system.start({ simulate: false });
    const running = await call(system, "/ready", { token: null });
    assert.equal(running.status, 200);
    assert.deepEqual(running.json, { ready: true, reasons: [] });

    await system.stop();
    stopped = true;
    const after = await call(system, "/ready", { token: null });
    assert.equal(after.status, 503);
    assert.ok(after.json.reasons.includes("stopping"), after.text);
  } finally {
    if (!stopped) await system.stop();
  }
});

Deno.test("GET /metrics is Prometheus text without a token and counts ingested events", async () => {
  await withSystem(async (h) => {
    const r0 = await h.call("/metrics", { token: null });
    assert.equal(r0.status, 200);
    assert.match(r0.headers.get("content-type") ?? "", /^text\/plain/);
    assert.match(r0.text, /# TYPE vigil_events_ingested_total counter/);
    assert.equal(metricSum(r0.text, "vigil_events_ingested_total"), 0);

    const t = Date.now() - 2 * MINUTE;
    await ingestAll(h, [auth("login_success", "m1", t), auth("logout", "m1", t + 1000)]);
    const text = await waitFor("two auth events to be consumed", async () => {
      const r = await h.call("/metrics", { token: null });
      return metricSum(r.text, "vigil_events_ingested_total", 'kind="auth"') === 2
        ? r.text
        : undefined;
    });
    assert.match(text, /vigil_events_ingested_total\{kind="auth"\} 2/);
    // Counters alert rules read are there at 0 before anything happens to them.
    for (const type of ["user", "ip", "src", "service", "page"]) {
      assert.match(text, new RegExp(`vigil_actor_restarts_total\\{type="${type}"\\} 0`));
    }
    assert.match(text, /^vigil_event_loop_lag_seconds \d/m);
  });
});

Deno.test("GET /openapi.json describes the API without a token", async () => {
  await withSystem(async (h) => {
    const r = await h.call("/openapi.json", { token: null });
    assert.equal(r.status, 200);
    assert.match(r.json.openapi, /^3\./);
    for (const path of ["/health", "/api/v1/events", "/api/v1/alerts", "/api/v1/dead-letters"]) {
      assert.ok(r.json.paths[path], `the document describes ${path}`);
    }
    // Every route the process serves is in it, with its method.
    const served = appOf(h.system).routes.filter((x) => x.method !== "ALL");
    assert.ok(served.length > 15, `${served.length} routes`);
    for (const route of served) {
      // The files of the /docs page (Swagger UI) are not the API.
      if (route.path.startsWith("/docs/")) continue;
      const path = route.path.replace(/:([a-z_]+)/g, "{$1}");
      assert.ok(
        r.json.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${path} is not described`,
      );
    }
    // And a page to browse it (Swagger UI), loading nothing from elsewhere.
    const page = await h.call("/docs", { token: null });
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type") ?? "", /^text\/html/);
    assert.doesNotMatch(page.text, /https?:\/\//, "no resource from another origin");
    const files = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    assert.deepEqual(files.sort(), [
      "/docs/init.js",
      "/docs/swagger-ui-bundle.js",
      "/docs/swagger-ui.css",
    ]);
    for (const file of files) {
      const f = await h.call(file, { token: null });
      assert.equal(f.status, 200, file);
      assert.match(f.headers.get("content-type") ?? "", /^text\/(javascript|css)/, file);
    }
    assert.match((await h.call("/docs/init.js", { token: null })).text, /url: "\/openapi\.json"/);
    assert.ok((await h.call("/docs/swagger-ui-bundle.js", { token: null })).text.length > 500_000);
  });
});

Deno.test("an unknown route is a 404 with a JSON error", async () => {
  await withSystem(async (h) => {
    const open = await h.call("/nope", { token: null });
    assert.equal(open.status, 404);
    assert.equal(typeof open.json.error, "string");
    assert.match(open.json.error, /\/nope/);

    const api = await h.call("/api/v1/nope");
    assert.equal(api.status, 404);
    assert.equal(typeof api.json.error, "string");
  });
});

// ---------------------------------------------------------------------------------------------
// The bearer token

const PROTECTED: [string, string][] = [
  ["POST", "/api/v1/events"],
  ["GET", "/api/v1/alerts"],
  ["GET", "/api/v1/alerts?rule=auth.brute_force&limit=5"],
  ["GET", "/api/v1/actors"],
  ["GET", "/api/v1/actors/user/alice"],
  ["GET", "/api/v1/dead-letters"],
  ["GET", "/api/v1/incidents"],
  ["GET", "/api/v1/incidents/nope"],
  ["GET", "/api/v1/no-such-route"],
];

const BAD_AUTHORIZATIONS: [string, string | null][] = [
  ["no header", null],
  ["a wrong token", "Bearer wrong-token"],
  ["a longer token", "Bearer test-token-and-more"],
  ["a prefix of the token", "Bearer test-toke"],
  ["an empty bearer", "Bearer "],
  ["the token without a scheme", TOKEN],
  ["another scheme", `Basic ${btoa(`admin:${TOKEN}`)}`],
];

Deno.test("every /api/v1 route is 401 with WWW-Authenticate without the right token", async (t) => {
  await withSystem(async (h) => {
    // Every route the app serves under /api/v1, besides the examples above.
    const served: [string, string][] = appOf(h.system).routes
      .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/"))
      .map((r) => [r.method, r.path.replace(/:([a-z_]+)/g, "x")]);
    assert.ok(served.length >= 12, `${served.length} routes`);
    for (const [label, authorization] of BAD_AUTHORIZATIONS) {
      await t.step(label, async () => {
        for (const [method, path] of [...PROTECTED, ...served]) {
          const r = await h.call(path, {
            method,
            token: null,
            headers: authorization === null ? {} : { authorization },
            ...(method === "POST" || method === "PATCH"
              ? { body: [auth("login_failure", "mallory", Date.now())] }
              : {}),
          });
          assert.equal(r.status, 401, `${method} ${path} with ${label}`);
          assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer\b/);
          assert.equal(typeof r.json.error, "string");
        }
      });
    }
    // Nothing was done: no event reached the log, nothing was dead-lettered.
    assert.ok(h.system.log instanceof MemoryLog);
    assert.equal(h.system.log.all("auth-events").length, 0);
    const dead = await h.call("/api/v1/dead-letters");
    assert.equal(dead.json.count, 0);
  });
});

Deno.test("the right token is accepted, whatever the case of the scheme", async () => {
  await withSystem(async (h) => {
    for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN}`]) {
      const r = await h.call("/api/v1/alerts", { token: null, headers: { authorization } });
      assert.equal(r.status, 200, authorization);
      assert.deepEqual(r.json, { count: 0, alerts: [], next: null });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Ingest

Deno.test("POST /api/v1/events takes one object, an array, and NDJSON", async (t) => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 3 * MINUTE;
    await t.step("one object", async () => {
      const r = await h.call("/api/v1/events", {
        method: "POST",
        body: auth("login_success", "obj", t0),
      });
      assert.equal(r.status, 202, r.text);
      assertAllAccepted(r.json, 1);
    });
    await t.step("an array", async () => {
      const r = await h.call("/api/v1/events", {
        method: "POST",
        body: [
          auth("login_success", "arr", t0 + 1000),
          {
            kind: "transaction",
            user_id: "arr",
            account_id: "acc-1",
            type: "payment",
            amount: 12.5,
            currency: "EUR",
            timestamp: t0 + 2000,
          },
          auth("logout", "arr", t0 + 3000),
        ],
      });
      assert.equal(r.status, 202, r.text);
      assertAllAccepted(r.json, 3);
    });
    await t.step("NDJSON", async () => {
      const lines = [
        auth("login_success", "nd", t0 + 4000),
        auth("login_failure", "nd", t0 + 5000),
        { kind: "log", service: "api", level: "WARN", message: "slow", timestamp: t0 + 6000 },
      ].map((e) => JSON.stringify(e));
      const r = await h.call("/api/v1/events", {
        method: "POST",
        body: lines.join("\n") + "\n",
        headers: { "content-type": "application/x-ndjson" },
      });
      assert.equal(r.status, 202, r.text);
      assertAllAccepted(r.json, 3);
    });
    // All 7 reached the log and were consumed.
    await waitFor("seven events to be consumed", async () => {
      const m = await h.call("/metrics", { token: null });
      return metricSum(m.text, "vigil_events_ingested_total") === 7 ? true : undefined;
    });
    const arr = await h.call("/api/v1/actors/user/arr");
    assert.equal(arr.status, 200, arr.text);
    assert.equal(arr.json.state.logins, 1);
    assert.equal(arr.json.state.transactions, 1);
    assert.equal(arr.json.state.logouts, 1);
  });
});

Deno.test("invalid events are rejected with readable reasons and dead-lettered", async () => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 2 * MINUTE;
    const lines = [
      JSON.stringify(auth("login_success", "ok-user", t0)),
      '{"kind":"auth","type":"login_failure","user_id":"x",',
      JSON.stringify({ kind: "auth", type: "login_failure", ip: "198.51.100.1", timestamp: t0 }),
      JSON.stringify({
        kind: "transaction",
        user_id: "u1",
        account_id: "a1",
        type: "payment",
        amount: "12.50",
        currency: "EUR",
        timestamp: t0,
      }),
      JSON.stringify({ kind: "telepathy", user_id: "u1", timestamp: t0 }),
    ];
    const r = await h.call("/api/v1/events", {
      method: "POST",
      body: lines.join("\n"),
      headers: { "content-type": "application/x-ndjson" },
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.accepted, 1);
    assert.equal(r.json.rejected, 4);
    const reasons = new Map<number, string>(
      r.json.errors.map((e: { index: number; reason: string }) => [e.index, e.reason]),
    );
    assert.deepEqual([...reasons.keys()].sort(), [1, 2, 3, 4]);
    assert.match(reasons.get(1)!, /not valid JSON/);
    assert.match(reasons.get(2)!, /"user_id" is missing/);
    assert.match(reasons.get(3)!, /"amount" must be a number/);
    assert.match(reasons.get(4)!, /"kind" must be one of/);
    assert.match(reasons.get(4)!, /telepathy/);

    const dead = await h.call("/api/v1/dead-letters");
    assert.equal(dead.status, 200);
    assert.equal(dead.json.count, 4);
    // Newest first; each keeps its raw text, a source position and the same reason.
    const letters = [...dead.json.dead_letters].reverse();
    letters.forEach((d: Record<string, unknown>, i: number) => {
      const index = i + 1;
      assert.equal(d.raw, lines[index]);
      assert.equal(d.reason, reasons.get(index));
      assert.match(String(d.source), new RegExp(`http.*${index}`));
      assert.equal(d.raw_bytes, lines[index]!.length);
      assert.ok(Number.isFinite(Date.parse(String(d.at))), "at is a time");
    });
    const limited = await h.call("/api/v1/dead-letters?limit=2");
    assert.equal(limited.json.count, 2);
    assert.equal(limited.json.dead_letters[0].raw, lines[4]);

    const metrics = await h.call("/metrics", { token: null });
    assert.equal(metricSum(metrics.text, "vigil_events_invalid_total"), 4);
    assert.equal(metricSum(metrics.text, "vigil_dead_letters_total", 'reason="invalid"'), 4);
  });
});

Deno.test("array items that are not objects are rejected one by one", async () => {
  await withSystem(async (h) => {
    const r = await h.call("/api/v1/events", {
      method: "POST",
      body: [auth("logout", "u9", Date.now() - MINUTE), 42, "text", null, []],
    });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.accepted, 1);
    assert.equal(r.json.rejected, 4);
    for (const e of r.json.errors) assert.match(e.reason, /must be a JSON object/);
    assert.equal((await h.call("/api/v1/dead-letters")).json.count, 4);
  });
});

Deno.test("an oversized body is refused with 413 and a JSON error", async (t) => {
  await withSystem(async (h) => {
    const big = JSON.stringify(
      Array.from({ length: 40 }, (_, i) => auth("login_failure", `big${i}`, Date.now())),
    );
    assert.ok(big.length > 2048);
    await t.step("with a Content-Length", async () => {
      const r = await h.call("/api/v1/events", {
        method: "POST",
        body: big,
        headers: { "content-type": "application/json", "content-length": String(big.length) },
      });
      assert.equal(r.status, 413);
      assert.match(r.json.error, /2048/);
    });
    await t.step("streamed, without a Content-Length", async () => {
      const r = await h.call("/api/v1/events", {
        method: "POST",
        body: big,
        headers: { "content-type": "application/json" },
      });
      assert.equal(r.status, 413);
      assert.equal(typeof r.json.error, "string");
    });
    assert.ok(h.system.log instanceof MemoryLog);
    assert.equal(h.system.log.all("auth-events").length, 0, "nothing was ingested");
    // A body just under the limit is still taken.
    const small = JSON.stringify(auth("logout", "small", Date.now() - MINUTE));
    const ok = await h.call("/api/v1/events", { method: "POST", body: small });
    assert.equal(ok.status, 202, ok.text);
  }, (c) => {
    c.api.max_body_bytes = 2048;
  });
});

Deno.test("an empty or unparsable body is a 400 with a JSON error", async (t) => {
  await withSystem(async (h) => {
    const cases: [string, string, string][] = [
      ["an empty body", "", "application/json"],
      ["only white space", "  \n\t \n", "application/json"],
      ["an empty NDJSON body", "\n\n", "application/x-ndjson"],
      ["unparsable JSON", "{not json", "application/json"],
      ["a truncated object", '{"kind":"auth","type":', "application/json"],
    ];
    for (const [label, body, type] of cases) {
      await t.step(label, async () => {
        const r = await h.call("/api/v1/events", {
          method: "POST",
          body,
          headers: { "content-type": type },
        });
        assert.equal(r.status, 400, `${label}: ${r.text}`);
        assert.equal(typeof r.json.error, "string");
        assert.ok(r.json.error.length > 10, "the message says what is wrong");
      });
    }
    await t.step("no body at all", async () => {
      const r = await h.call("/api/v1/events", { method: "POST" });
      assert.equal(r.status, 400, r.text);
      assert.equal(typeof r.json.error, "string");
    });
    assert.equal((await h.call("/api/v1/dead-letters")).json.count, 0);
  });
});

Deno.test("too many events in one request is a 400 and nothing is ingested", async (t) => {
  await withSystem(async (h) => {
    const events = Array.from(
      { length: 4 },
      (_, i) => auth("login_failure", "many", Date.now() - MINUTE + i),
    );
    await t.step("an array", async () => {
      const r = await h.call("/api/v1/events", { method: "POST", body: events });
      assert.equal(r.status, 400, r.text);
      assert.match(r.json.error, /4 events/);
      assert.match(r.json.error, /limit is 3/);
    });
    await t.step("NDJSON", async () => {
      const r = await h.call("/api/v1/events", {
        method: "POST",
        body: events.map((e) => JSON.stringify(e)).join("\n"),
        headers: { "content-type": "application/x-ndjson" },
      });
      assert.equal(r.status, 400, r.text);
      assert.equal(typeof r.json.error, "string");
    });
    assert.ok(h.system.log instanceof MemoryLog);
    assert.equal(h.system.log.all("auth-events").length, 0);
    await ingestAll(h, events.slice(0, 3));
    assert.equal(h.system.log.all("auth-events").length, 3, "exactly the limit is accepted");
  }, (c) => {
    c.api.max_events_per_request = 3;
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: events in, alerts out

Deno.test("failed logins end to end: brute force, success after failures, actor state", async (t) => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 4 * MINUTE;
    const started = Date.now();
    // Six failures 20 s apart (all within 5 minutes), then a success from the same IP.
    const alice = failures("alice", t0, 6);
    const success = auth("login_success", "alice", t0 + 6 * 20_000, {
      event_id: "alice-ok",
      session_id: "s-alice",
      country: "NL",
    });
    await ingestAll(h, [...alice, success]);

    const brute = await waitFor("auth.brute_force for alice", async () => {
      const list = await alertsFor(h, "alice", "auth.brute_force");
      return list.length > 0 ? list : undefined;
    });

    await t.step("one auth.brute_force alert with the fields of the alert contract", () => {
      assert.equal(brute.length, 1, "the cool-down keeps it to one alert");
      const a = brute[0]!;
      assert.equal(typeof a.alert_id, "string");
      assert.ok((a.alert_id as string).length > 0);
      assert.equal(a.rule, "auth.brute_force");
      assert.ok(SEVERITIES.includes(a.severity as string), `severity ${a.severity}`);
      assert.deepEqual(a.entity, { type: "user", key: "alice" });
      // Raised by the fifth failure: its event time.
      assert.equal(a.timestamp, iso(t0 + 4 * 20_000));
      const detected = Date.parse(a.detected_at as string);
      assert.ok(detected >= started - 1000 && detected <= Date.now() + 1000, "wall clock");
      assert.equal(typeof a.evidence, "object");
      const ev = a.evidence as Record<string, unknown>;
      assert.equal(ev.failures_in_window, 5);
      assert.equal(ev.threshold, 5);
      assert.deepEqual(a.event_ids, ["alice-f1", "alice-f2", "alice-f3", "alice-f4", "alice-f5"]);
      assert.equal(a.mode, "enforce");
    });

    await t.step("the success from the same IP raises auth.success_after_failures", async () => {
      const list = await waitFor("auth.success_after_failures for alice", async () => {
        const l = await alertsFor(h, "alice", "auth.success_after_failures");
        return l.length > 0 ? l : undefined;
      });
      assert.equal(list.length, 1);
      assert.equal(list[0]!.timestamp, iso(t0 + 6 * 20_000));
      assert.ok((list[0]!.event_ids as string[]).includes("alice-ok"));
    });

    await t.step("four failures of another user raise nothing", async () => {
      await ingestAll(h, failures("bob", t0 + 7 * 20_000, 4, 10_000));
      const state = await waitFor("bob's four failures to be handled", async () => {
        const r = await h.call("/api/v1/actors/user/bob");
        return r.status === 200 && r.json.state.recent_failures === 4 ? r.json.state : undefined;
      });
      assert.equal(state.failures_since_reset, 4);
      await h.system.whenIdle();
      await h.system.outbox.flush();
      const r = await h.call("/api/v1/alerts?entity_key=bob");
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { count: 0, alerts: [], next: null });
    });

    await t.step("GET /api/v1/actors counts actors by type", async () => {
      const r = await h.call("/api/v1/actors");
      assert.equal(r.status, 200, r.text);
      // The login attempts, all from one IP, were re-keyed to that IP's actor.
      assert.deepEqual(r.json.types, {
        user: { resident: 2 },
        ip: { resident: 1 },
        src: { resident: 0 },
        service: { resident: 0 },
        page: { resident: 0 },
      });
      assert.equal(typeof r.json.mailbox_depth, "number");
    });

    await t.step(
      "GET /api/v1/actors/ip/:ip holds the attempts of every user from that IP",
      async () => {
        const r = await h.call("/api/v1/actors/ip/203.0.113.7");
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.type, "ip");
        assert.equal(r.json.state.failed_logins, 6 + 4, "alice's six and bob's four");
        assert.equal(r.json.state.recent_users, 2);
        assert.equal(r.json.state.alerts_raised, 0, "two users is no spray");
      },
    );

    await t.step("GET /api/v1/actors/user/alice shows the state of a seen user", async () => {
      const r = await h.call("/api/v1/actors/user/alice");
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.type, "user");
      assert.equal(r.json.key, "alice");
      assert.equal(r.json.resident, true);
      const s = r.json.state;
      assert.equal(s.open_sessions, 1);
      assert.deepEqual(s.sessions, ["s-alice"]);
      assert.equal(s.logins, 1);
      assert.equal(s.logouts, 0);
      assert.equal(s.last_login.ip, "203.0.113.7");
      assert.equal(s.last_login.country, "NL");
      assert.equal(s.last_login.ts, iso(t0 + 6 * 20_000));
      // The success from the failures' IP cleared them.
      assert.equal(s.recent_failures, 0);
      assert.equal(s.alerts_raised, 2);
    });

    await t.step("an unseen user and an unknown actor type are 404 with a JSON error", async () => {
      const unseen = await h.call("/api/v1/actors/user/nobody");
      assert.equal(unseen.status, 404);
      assert.match(unseen.json.error, /nobody/);
      const type = await h.call("/api/v1/actors/robot/alice");
      assert.equal(type.status, 404);
      assert.match(type.json.error, /robot/);
    });

    const metrics = await h.call("/metrics", { token: null });
    assert.equal(metricSum(metrics.text, "vigil_alerts_total", 'rule="auth.brute_force"'), 1);
  });
});

Deno.test("failures spread wider than the window raise no brute-force alert", async () => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 4 * MINUTE;
    // A one-minute window; five failures 20 s apart span 80 s.
    await ingestAll(h, failures("slow", t0, 5, 20_000));
    await waitFor("the five failures to be handled", async () => {
      const r = await h.call("/api/v1/actors/user/slow");
      return r.status === 200 && r.json.state.failures_since_reset === 5 ? true : undefined;
    });
    await h.system.whenIdle();
    await h.system.outbox.flush();
    const r = await h.call("/api/v1/alerts");
    assert.deepEqual(r.json, { count: 0, alerts: [], next: null });
    // At t0+100 s the last minute holds four (40, 60, 80, 100): still none.
    await ingestAll(h, failures("slow6", t0 + 100_000, 1).map((e) => ({ ...e, user_id: "slow" })));
    await waitFor("the sixth failure to be handled", async () => {
      const r = await h.call("/api/v1/actors/user/slow");
      return r.json.state.failures_since_reset === 6 ? true : undefined;
    });
    await h.system.whenIdle();
    await h.system.outbox.flush();
    assert.equal((await h.call("/api/v1/alerts")).json.count, 0);
    // Two more at t0+101 s and t0+102 s: five within [42 s, 102 s].
    await ingestAll(h, [
      auth("login_failure", "slow", t0 + 101_000),
      auth("login_failure", "slow", t0 + 102_000),
    ]);
    const list = await waitFor("the brute-force alert on the eighth", async () => {
      const l = await alertsFor(h, "slow", "auth.brute_force");
      return l.length > 0 ? l : undefined;
    });
    assert.equal((list[0]!.evidence as Record<string, unknown>).window_ms, MINUTE);
    assert.equal((list[0]!.event_ids as string[]).length, 5);
  }, (c) => {
    c.auth.brute_force_window_ms = MINUTE;
  });
});

Deno.test("alert ids are deterministic: the same events give the same ids", async () => {
  const t0 = Date.now() - 4 * MINUTE;
  const events = [
    ...failures("dora", t0, 5),
    auth("login_success", "dora", t0 + 5 * 20_000, { event_id: "dora-ok" }),
  ];
  const ids: string[][] = [];
  for (let run = 0; run < 2; run++) {
    await withSystem(async (h) => {
      await ingestAll(h, events);
      // Brute force, success after failures, and compromise after the attack.
      const list = await waitFor("three alerts for dora", async () => {
        const r = await h.call("/api/v1/alerts?entity_key=dora");
        return r.json.count === 3 ? r.json.alerts as { alert_id: string }[] : undefined;
      });
      ids.push(list.map((a) => a.alert_id).sort());
    });
  }
  assert.equal(new Set(ids[0]).size, 3, "three different ids");
  assert.deepEqual(ids[0], ids[1]);
});

Deno.test("GET /api/v1/alerts filters by rule, entity, since and limit", async (t) => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 4 * MINUTE;
    // alice: brute force at t0+80s, success after failures at t0+100s.
    await ingestAll(h, [
      ...failures("alice", t0, 5),
      auth("login_success", "alice", t0 + 100_000, { event_id: "alice-ok" }),
    ]);
    await waitFor("alice's two alerts", async () => {
      const r = await h.call("/api/v1/alerts?entity_key=alice");
      return r.json.count === 2 ? true : undefined;
    });
    // carol, stored after alice's: brute force at t0+150s (from another IP).
    await ingestAll(h, failures("carol", t0 + 110_000, 5, 10_000, "198.51.100.9"));
    const all = await waitFor("three alerts", async () => {
      const r = await h.call("/api/v1/alerts");
      return r.json.count === 3 ? r.json.alerts as Record<string, unknown>[] : undefined;
    });
    const carolAt = iso(t0 + 150_000);

    await t.step("no filter: every alert", () => {
      assert.deepEqual(
        all.map((a) => `${a.rule}/${(a.entity as { key: string }).key}`).sort(),
        [
          "auth.brute_force/alice",
          "auth.brute_force/carol",
          "auth.success_after_failures/alice",
        ],
      );
    });
    await t.step("rule", async () => {
      const r = await h.call("/api/v1/alerts?rule=auth.brute_force");
      assert.equal(r.json.count, 2);
      for (const a of r.json.alerts) assert.equal(a.rule, "auth.brute_force");
      const none = await h.call("/api/v1/alerts?rule=net.port_scan");
      assert.deepEqual(none.json, { count: 0, alerts: [], next: null });
    });
    await t.step("entity_type and entity_key", async () => {
      const users = await h.call("/api/v1/alerts?entity_type=user");
      assert.equal(users.json.count, 3);
      const ips = await h.call("/api/v1/alerts?entity_type=ip");
      assert.equal(ips.json.count, 0);
      const carol = await h.call("/api/v1/alerts?entity_key=carol");
      assert.equal(carol.json.count, 1);
      assert.deepEqual(carol.json.alerts[0].entity, { type: "user", key: "carol" });
      const both = await h.call(
        "/api/v1/alerts?entity_type=user&entity_key=alice&rule=auth.brute_force",
      );
      assert.equal(both.json.count, 1);
      assert.equal(both.json.alerts[0].timestamp, iso(t0 + 80_000));
    });
    await t.step("since, as ISO-8601 and as epoch milliseconds", async () => {
      const iso1 = await h.call(`/api/v1/alerts?since=${encodeURIComponent(carolAt)}`);
      assert.equal(iso1.json.count, 1);
      assert.equal(iso1.json.alerts[0].entity.key, "carol");
      const ms = await h.call(`/api/v1/alerts?since=${t0 + 90_000}`);
      assert.equal(ms.json.count, 2, "alice's success alert (t0+100s) and carol's");
      const past = await h.call(`/api/v1/alerts?since=${t0}`);
      assert.equal(past.json.count, 3);
      const future = await h.call(
        `/api/v1/alerts?since=${encodeURIComponent(iso(Date.now() + MINUTE))}`,
      );
      assert.equal(future.json.count, 0);
    });
    await t.step("limit keeps the newest", async () => {
      const one = await h.call("/api/v1/alerts?limit=1");
      assert.equal(one.status, 200);
      assert.equal(one.json.count, 1);
      assert.equal(one.json.alerts[0].entity.key, "carol");
      const two = await h.call("/api/v1/alerts?limit=2&entity_key=alice");
      assert.equal(two.json.count, 2);
      const max = await h.call("/api/v1/alerts?limit=1000");
      assert.equal(max.json.count, 3);
    });
    await t.step(
      "paging: each full page's next is the cursor of the next, until the last",
      async () => {
        const seen: string[] = [];
        let before = "";
        for (let page = 0; page < 5; page++) {
          const r = await h.call(`/api/v1/alerts?limit=1${before}`);
          assert.equal(r.status, 200);
          seen.push(...r.json.alerts.map((a: { alert_id: string }) => a.alert_id));
          if (r.json.next === null) break;
          assert.equal(r.json.next, r.json.alerts[0].alert_id);
          before = `&before=${r.json.next}`;
        }
        // Three alerts, one a page, newest first; the fourth page is empty (next null).
        assert.deepEqual(seen, all.map((a) => a.alert_id));
        const filtered = await h.call("/api/v1/alerts?entity_key=alice&limit=1");
        const second = await h.call(
          `/api/v1/alerts?entity_key=alice&limit=1&before=${filtered.json.next}`,
        );
        assert.equal(second.json.count, 1);
        assert.equal(second.json.alerts[0].entity.key, "alice");
        assert.notEqual(second.json.alerts[0].alert_id, filtered.json.alerts[0].alert_id);
        const unknown = await h.call("/api/v1/alerts?before=nope");
        assert.equal(unknown.status, 400);
        assert.match(unknown.json.error, /No alert nope/);
      },
    );
    await t.step("bad filters are a 400 with a JSON error", async () => {
      for (
        const q of [
          "limit=0",
          "limit=abc",
          "limit=-1",
          "limit=1.5",
          "limit=1001",
          "since=notatime",
          "since=2026-13-45T99:00:00Z",
        ]
      ) {
        const r = await h.call(`/api/v1/alerts?${q}`);
        assert.equal(r.status, 400, `${q}: ${r.text}`);
        assert.equal(typeof r.json.error, "string", q);
        assert.match(r.json.error, /limit|since/, q);
      }
      const dl = await h.call("/api/v1/dead-letters?limit=0");
      assert.equal(dl.status, 400);
    });
    await t.step(
      "incidents: the alerts grouped, filtered, paged, one fetched with its alerts",
      async () => {
        type Seen = { alert_id: string; entity: { key: string }; incident: { id: string } };
        const alerts = all as unknown as Seen[];
        const ofAlerts = new Map<string, string[]>();
        for (const a of alerts) {
          ofAlerts.set(a.incident.id, [...(ofAlerts.get(a.incident.id) ?? []), a.alert_id]);
        }
        // alice's two alerts are one incident (her hour), unless an hour ends between them.
        const alice = alerts.filter((a) => a.entity.key === "alice");
        const hour = (i: number) => Math.floor((t0 + i) / 3_600_000);
        assert.equal(
          alice[0]!.incident.id === alice[1]!.incident.id,
          hour(80_000) === hour(100_000),
        );
        const listed = await waitFor("every alert in an incident", async () => {
          const r = await h.call("/api/v1/incidents");
          const n = r.json.incidents.reduce(
            (k: number, i: { alert_count: number }) => k + i.alert_count,
            0,
          );
          return n === 3 ? r.json : undefined;
        });
        assert.equal(listed.count, ofAlerts.size);
        for (const i of listed.incidents) {
          assert.deepEqual(i.alert_ids, [...ofAlerts.get(i.incident_id)!].sort());
          assert.equal(i.anchor.type, "user");
          assert.match(i.summary, /^medium: auth\./);
        }
        const carol = await h.call("/api/v1/incidents?entity_type=user&entity_key=carol");
        assert.equal(carol.json.count, 1);
        assert.deepEqual(carol.json.incidents[0].anchor, { type: "user", key: "carol" });
        assert.equal((await h.call("/api/v1/incidents?severity=high")).json.count, 0);
        assert.equal((await h.call("/api/v1/incidents?severity=medium")).json.count, ofAlerts.size);
        const success = await h.call("/api/v1/incidents?rule=auth.success_after_failures");
        assert.equal(success.json.count, 1);
        // One fetched: the incident and its alerts.
        const id = carol.json.incidents[0].incident_id;
        const one = await h.call(`/api/v1/incidents/${id}`);
        assert.equal(one.status, 200);
        assert.deepEqual(one.json.alerts.map((a: Seen) => a.alert_id), ofAlerts.get(id));
        const byIncident = await h.call(`/api/v1/alerts?incident_id=${id}`);
        assert.deepEqual(byIncident.json.alerts.map((a: Seen) => a.alert_id), ofAlerts.get(id));
        const missing = await h.call("/api/v1/incidents/nope");
        assert.equal(missing.status, 404);
        assert.match(missing.json.error, /No incident nope/);
        // Paging: newest first seen first, `next` the cursor.
        const first = await h.call("/api/v1/incidents?limit=1");
        assert.equal(first.json.next, first.json.incidents[0].incident_id);
        const second = await h.call(`/api/v1/incidents?limit=1&before=${first.json.next}`);
        assert.equal(second.json.count, 1);
        assert.ok(second.json.incidents[0].first_seen <= first.json.incidents[0].first_seen);
        for (
          const q of [
            "severity=urgent",
            "entity_type=user",
            "limit=0",
            "since=never",
            "before=nope",
          ]
        ) {
          const r = await h.call(`/api/v1/incidents?${q}`);
          assert.equal(r.status, 400, `${q}: ${r.text}`);
          assert.equal(typeof r.json.error, "string", q);
        }
      },
    );
  }, (c) => {
    // About the filters: the failure rules' alerts only (no compromise chain after them).
    c.user.compromise_window_ms = 0;
  });
});

// ---------------------------------------------------------------------------------------------
// The per-event size limit (`max_event_bytes`)

/** An auth logout padded with a `note` so its JSON text is exactly `chars` characters long. */
function paddedLogout(user: string, ts: number, chars: number, pad = "x", event_id?: string) {
  const base: Record<string, unknown> = { kind: "auth", type: "logout", user_id: user };
  if (event_id !== undefined) base.event_id = event_id;
  base.timestamp = ts;
  const bare = JSON.stringify({ ...base, note: "" }).length;
  const e = { ...base, note: pad.repeat(Math.max(0, chars - bare)) };
  assert.equal(JSON.stringify(e).length, chars);
  return e;
}

Deno.test("an event over max_event_bytes is rejected at once with a reason", async () => {
  await withSystem(async (h) => {
    const e = paddedLogout("big", Date.now() - MINUTE, 260, "x", "big-1");
    const r = await h.call("/api/v1/events", { method: "POST", body: [e] });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.accepted, 0);
    assert.equal(r.json.rejected, 1);
    assert.match(r.json.errors[0].reason, /260 bytes exceeds the limit of 200/);
    const dead = await h.call("/api/v1/dead-letters");
    assert.equal(dead.json.count, 1);
    assert.equal(dead.json.dead_letters[0].raw_bytes, 260);
  }, (c) => {
    c.max_event_bytes = 200;
  });
});

Deno.test("an event the API accepted is not dead-lettered later as oversized", async () => {
  await withSystem(async (h) => {
    // 190 characters with no event_id: stored with a derived id it no longer fits in 200
    // bytes, so the API refuses it at once instead of accepting it and failing it later.
    const tight = paddedLogout("near", Date.now() - MINUTE, 190);
    const refused = await h.call("/api/v1/events", { method: "POST", body: tight });
    assert.equal(refused.status, 202, refused.text);
    assert.equal(refused.json.accepted, 0);
    assert.equal(refused.json.rejected, 1);
    assert.match(refused.json.errors[0].reason, /exceeds the limit of 200/);
    // 150 characters: fits with its derived id, so it is accepted and reaches its actor.
    const e = paddedLogout("roomy", Date.now() - MINUTE, 150);
    const r = await h.call("/api/v1/events", { method: "POST", body: e });
    assertAllAccepted(r.json, 1);
    const outcome = await waitFor("the event to be consumed", async () => {
      const m = await h.call("/metrics", { token: null });
      const ingested = metricSum(m.text, "vigil_events_ingested_total");
      return ingested > 0 ? { ingested } : undefined;
    });
    assert.equal(outcome.ingested, 1);
    const dead = await h.call("/api/v1/dead-letters");
    assert.equal(dead.json.count, 1, "only the refused event was dead-lettered");
    assert.equal(dead.json.dead_letters[0].source, "http[0]");
    const actor = await h.call("/api/v1/actors/user/roomy");
    assert.equal(actor.status, 200, actor.text);
    assert.equal(actor.json.state.logouts, 1);
  }, (c) => {
    c.max_event_bytes = 200;
  });
});

Deno.test("max_event_bytes counts UTF-8 bytes, not characters", async () => {
  await withSystem(async (h) => {
    // 180 characters, but every "é" is two bytes in UTF-8: well over 200 bytes.
    const e = paddedLogout("accents", Date.now() - MINUTE, 180, "é", "accents-1");
    const bytes = new TextEncoder().encode(JSON.stringify(e)).length;
    assert.ok(bytes > 200, `${bytes} bytes`);
    const r = await h.call("/api/v1/events", { method: "POST", body: [e] });
    assert.equal(r.status, 202, r.text);
    assert.equal(r.json.rejected, 1, `a ${bytes}-byte event is over the 200-byte limit`);
    assert.equal(r.json.accepted, 0);
    const dead = await h.call("/api/v1/dead-letters");
    assert.equal(dead.json.dead_letters[0]?.raw_bytes, bytes, "raw_bytes is the length in bytes");
  }, (c) => {
    c.max_event_bytes = 200;
  });
});

Deno.test("/api/v1/models: bad activation requests get a 4xx with a message, and the token is needed", async () => {
  await withSystem(async ({ call }) => {
    const list = await call("/api/v1/models");
    assert.equal(list.status, 200);
    assert.equal(typeof list.json.count, "number");
    const missing = await call("/api/v1/models/nope/activate", {
      method: "POST",
      body: { version: "1" },
    });
    assert.equal(missing.status, 404);
    assert.match(missing.json.error, /^No model nope; known: flow_classifier, login_risk$/);
    for (const name of ["..%2F..%2Fevilmodel", "a%2Fb", "%2Fetc", "x%00", "%2E%2E%2Fx"]) {
      const outside = await call(`/api/v1/models/${name}/activate`, {
        method: "POST",
        body: { version: "1" },
      });
      assert.equal(outside.status, 400, name);
      assert.match(outside.json.error, /^Cannot use model name .*: a name is letters/, name);
    }
    const noVersion = await call("/api/v1/models/flow_classifier/activate", {
      method: "POST",
      body: {},
    });
    assert.equal(noVersion.status, 400);
    assert.match(noVersion.json.error, /"version" must be a version name/);
    const garbage = await call("/api/v1/models/flow_classifier/activate", {
      method: "POST",
      body: "{",
    });
    assert.equal(garbage.status, 400);
    const big = await call("/api/v1/models/nope/activate", {
      method: "POST",
      body: JSON.stringify({ version: "1", pad: "x".repeat(5_000) }),
    });
    assert.equal(big.status, 413);
    const shadow = await call("/api/v1/models/nope/shadow", {
      method: "POST",
      body: { version: "1" },
    });
    assert.equal(shadow.status, 404);
    const unshadow = await call("/api/v1/models/flow_classifier/shadow", { method: "DELETE" });
    assert.equal(unshadow.status, 404);
    assert.match(unshadow.json.error, /has no shadow/);
    const unknown = await call("/api/v1/models/nope/shadow", { method: "DELETE" });
    assert.deepEqual([unknown.status, unknown.json.error], [
      404,
      "No model nope; known: flow_classifier, login_risk",
    ]);
    const denied = await call("/api/v1/models", { token: null });
    assert.equal(denied.status, 401);
  });
});

Deno.test("/api/v1/rules lists every rule with its entity, mode and parameters; the token is needed", async () => {
  await withSystem(async (h) => {
    assert.equal((await h.call("/api/v1/rules", { token: null })).status, 401);
    const r = await h.call("/api/v1/rules");
    assert.equal(r.status, 200, r.text);
    const names = (r.json.rules as { rule: string }[]).map((x) => x.rule);
    for (
      const rule of [
        "auth.brute_force",
        "auth.success_after_failures",
        "auth.impossible_travel",
        "auth.new_device_location",
        "auth.risky_login",
        "tx.large_amount",
        "tx.rapid_transfers",
        "user.account_takeover",
        "ip.password_spray",
        "ip.credential_stuffing",
        "ip.throttle",
        "svc.error_burst",
        "svc.high_cpu",
        "svc.high_latency",
        "svc.metric_anomaly",
        "click.traffic_spike",
        "net.port_scan",
        "net.address_scan",
        "net.flood",
      ]
    ) assert.ok(names.includes(rule), rule);
    const one = await h.call("/api/v1/rules/auth.brute_force");
    assert.deepEqual(one.json, {
      rule: "auth.brute_force",
      entity: "user",
      mode: "enforce",
      params: {
        brute_force_failures: 5,
        brute_force_window_ms: 300_000,
        brute_force_lock_step_ms: 60_000,
        brute_force_lock_max_ms: 900_000,
        brute_force_reset_ms: 43_200_000,
      },
      feedback: {
        precision: null,
        true_positive: 0,
        false_positive: 0,
        benign: 0,
        window_days: 7,
      },
      budget: { per_hour: 120, last_hour: 0, over: false, auto_shadow: false },
    });
    assert.equal((await h.call("/api/v1/rules/auth.nope")).status, 404);
  });
});

Deno.test("PATCH /api/v1/rules/{rule} changes a threshold from the next event on, and shadow mode marks its alerts", async () => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 4 * MINUTE;
    const patched = await h.call("/api/v1/rules/auth.brute_force", {
      method: "PATCH",
      body: { mode: "shadow", params: { brute_force_failures: 3 } },
    });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.mode, "shadow");
    assert.equal(patched.json.params.brute_force_failures, 3);
    await ingestAll(h, failures("patched", t0, 3, 10_000));
    const [alert] = await waitFor("auth.brute_force at the third failure", async () => {
      const l = await alertsFor(h, "patched", "auth.brute_force");
      return l.length > 0 ? l : undefined;
    });
    assert.equal(alert!.mode, "shadow");
    assert.equal((alert!.evidence as Record<string, unknown>).threshold, 3);
    assert.equal((alert!.event_ids as string[]).length, 3);
    const back = await h.call("/api/v1/rules/auth.brute_force", {
      method: "PATCH",
      body: { mode: "enforce" },
    });
    assert.equal(back.json.mode, "enforce");
    assert.equal(back.json.params.brute_force_failures, 3, "a mode change keeps the parameters");
  });
});

Deno.test("PATCH /api/v1/rules/{rule}: bad changes are a 4xx with a message and change nothing", async () => {
  await withSystem(async (h) => {
    const patch = (rule: string, body: unknown) =>
      h.call(`/api/v1/rules/${rule}`, { method: "PATCH", body });
    const cases: [string, unknown, number, RegExp][] = [
      ["auth.brute_force", { params: { nope: 1 } }, 400, /no parameter "nope"/],
      ["auth.brute_force", { params: { brute_force_failures: "5" } }, 400, /must be a number/],
      ["auth.brute_force", { params: { brute_force_failures: -1 } }, 400, /must be a number ≥ 0/],
      ["auth.brute_force", { mode: "loud" }, 400, /"enforce" or "shadow"/],
      ["auth.brute_force", { other: 1 }, 400, /Cannot use field/],
      ["auth.brute_force", "{not json", 400, /Cannot parse/],
      ["auth.risky_login", { params: { risky_login_medium: 0.99 } }, 400, /must rise/],
      ["auth.nope", { mode: "shadow" }, 404, /No rule/],
    ];
    for (const [rule, body, status, message] of cases) {
      const r = await patch(rule, body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json.error, message);
    }
    // The refused risk levels left the rule as it was, mode included.
    const mixed = await patch("auth.risky_login", {
      mode: "shadow",
      params: { risky_login_low: 0.9 },
    });
    assert.equal(mixed.status, 400);
    const risky = await h.call("/api/v1/rules/auth.risky_login");
    assert.deepEqual(risky.json.params, {
      risky_login_low: 0.5,
      risky_login_medium: 0.8,
      risky_login_high: 0.95,
    });
    assert.equal(risky.json.mode, "enforce");
    const big = await patch("auth.brute_force", { params: { x: "y".repeat(5_000) } });
    assert.equal(big.status, 413);
  });
});

Deno.test("VIGIL_RULES_SHADOW starts rules in shadow mode and refuses an unknown rule", async () => {
  await withSystem(async (h) => {
    const r = await h.call("/api/v1/rules/tx.large_amount");
    assert.equal(r.json.mode, "shadow");
    assert.equal((await h.call("/api/v1/rules/tx.rapid_transfers")).json.mode, "enforce");
  }, (c) => {
    c.rules.shadow = "tx.large_amount, ip.password_spray";
  });
  const config = loadConfig({ VIGIL_RULES_SHADOW: "auth.nope" });
  assert.throws(() => new VigilSystem({ config, token: TOKEN }), /no such rule/);
});

Deno.test("an IP's spray alert reaches the users it targeted through the signals topic: a later success is user.compromise_after_attack", async () => {
  await withSystem(async (h) => {
    const t0 = Date.now() - 4 * MINUTE;
    const sprayer = "198.51.100.77";
    // The users logged in from home five times before; then the spray tries them.
    const home = { ip: "100.64.7.1", device_id: "own-laptop" };
    const events: Record<string, unknown>[] = [];
    for (let u = 0; u < 5; u++) {
      for (let k = 0; k < 5; k++) {
        const ts = t0 - 30 * MINUTE + (k * 5 + u) * 1_000;
        events.push(auth("login_success", `sprayed${u}`, ts, home));
      }
    }
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 5; u++) {
        events.push(
          auth("login_failure", `sprayed${u}`, t0 + (round * 5 + u) * 1_000, { ip: sprayer }),
        );
      }
    }
    await ingestAll(h, events);
    await waitFor("ip.password_spray", async () => {
      const r = await h.call(`/api/v1/alerts?rule=ip.password_spray&entity_key=${sprayer}`);
      return r.json.count > 0 ? true : undefined;
    });
    // The attacker logs in as one of them from another address and device two minutes
    // later; another one logs in from home as every day.
    await ingestAll(h, [
      auth("login_success", "sprayed1", t0 + 2 * MINUTE, { ...home, event_id: "owner" }),
      auth("login_success", "sprayed3", t0 + 2 * MINUTE, {
        ip: "192.0.2.200",
        device_id: "d-x",
        event_id: "in",
      }),
    ]);
    const [alert] = await waitFor("user.compromise_after_attack", async () => {
      const l = await alertsFor(h, "sprayed3", "user.compromise_after_attack");
      return l.length > 0 ? l : undefined;
    });
    assert.deepEqual(alert!.event_ids, ["in"]);
    const evidence = alert!.evidence as { attack: { rule: string; ip: string }; same_ip: boolean };
    assert.equal(evidence.attack.rule, "ip.password_spray");
    assert.equal(evidence.attack.ip, sprayer);
    assert.equal(evidence.same_ip, false);
    assert.deepEqual(
      await alertsFor(h, "sprayed1", "user.compromise_after_attack"),
      [],
      "the owner's ordinary login",
    );
    // Users the spray did not try are not told.
    await ingestAll(h, [auth("login_success", "bystander", t0 + 2 * MINUTE)]);
    await h.system.whenIdle();
    await h.system.outbox.flush();
    assert.deepEqual(await alertsFor(h, "bystander", "user.compromise_after_attack"), []);
  }, (c) => {
    // An IP's failures are judged once its watermark passes them; with no traffic after
    // them, that is after the idle delay (5 min by default).
    c.runtime.idle_watermark_delay_ms = 200;
  });
});

Deno.test("page views are counted per minute and the busiest pages' last window is a metric", async () => {
  await withSystem(async (h) => {
    const minute = Math.floor((Date.now() - 5 * MINUTE) / MINUTE) * MINUTE;
    const click = (page: string, ts: number) => ({
      kind: "click",
      session_id: "s1",
      page,
      timestamp: iso(ts),
    });
    const views = [
      ...Array.from({ length: 7 }, (_, i) => click("/pay", minute + i * 1_000)),
      ...Array.from({ length: 3 }, (_, i) => click("/help", minute + i * 1_000)),
      // Three minutes later: each page's partition watermark passes the first minute's end
      // (and the lateness).
      click("/pay", minute + 3 * MINUTE),
      click("/help", minute + 3 * MINUTE),
    ];
    await ingestAll(h, views);
    const state = await waitFor("/pay's first window to close", async () => {
      const r = await h.call(`/api/v1/actors/page/${encodeURIComponent("/pay")}`);
      return r.status === 200 && r.json.state.windows.length > 0 ? r.json.state : undefined;
    });
    assert.deepEqual(state.windows[0], { start: iso(minute), views: 7 });
    await waitFor("/help's first window to close", async () => {
      const r = await h.call(`/api/v1/actors/page/${encodeURIComponent("/help")}`);
      return r.status === 200 && r.json.state.windows.length > 0 ? true : undefined;
    });
    const metrics = await h.call("/metrics", { token: null });
    assert.equal(metricSum(metrics.text, "vigil_page_views_last_window", 'page="/pay"'), 7);
    assert.equal(metricSum(metrics.text, "vigil_page_views_last_window", 'page="/help"'), 3);
  });
});

Deno.test("POST /api/v1/events is rate limited: past the bucket a request gets 429 with Retry-After and nothing of it is taken in", async () => {
  await withSystem(async (h) => {
    const t = Date.now() - MINUTE;
    const batch = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => auth("logout", `rl-${tag}-${i}`, t + i));
    const first = await h.call("/api/v1/events", { method: "POST", body: batch(20, "a") });
    assert.equal(first.status, 202);
    assert.equal(first.json.accepted, 20);
    const over = await h.call("/api/v1/events", { method: "POST", body: batch(5, "b") });
    assert.equal(over.status, 429);
    assert.match(over.json.error, /Too many events: 10 a second/);
    assert.ok(Number(over.headers.get("retry-after")) >= 1);
    await new Promise((r) => setTimeout(r, 700)); // 5 events at 10 a second
    const later = await h.call("/api/v1/events", { method: "POST", body: batch(5, "c") });
    assert.equal(later.status, 202);
    assert.equal(later.json.accepted, 5);
    await h.system.whenIdle();
    const metrics = await h.call("/metrics", { token: null });
    assert.equal(metricSum(metrics.text, "vigil_events_ingested_total", 'kind="auth"'), 25);
  }, (c) => {
    c.api.ingest_events_per_s = 10;
    c.api.ingest_burst_events = 20;
    c.api.max_events_per_request = 20;
  });
});

Deno.test("POST /api/v1/dead-letters/redrive takes dead letters out and ingests them again: a fixed one goes in, one still invalid is dead-lettered anew", async () => {
  await withSystem(async (h) => {
    // Refused now: the first for coming from 3 s ahead (past max_future_ms, 1 s here; in
    // a moment it will not be), the second as invalid.
    const ahead = JSON.stringify(auth("logout", "redrive-1", Date.now() + 3_000));
    const invalid = JSON.stringify({ kind: "auth", type: "logout", timestamp: iso(Date.now()) });
    const r = await h.call("/api/v1/events", {
      method: "POST",
      body: `${ahead}\n${invalid}`,
      headers: { "content-type": "application/x-ndjson" },
    });
    assert.equal(r.status, 202);
    const reasons = async () =>
      (await h.call("/api/v1/dead-letters")).json.dead_letters.map((d: { category: string }) =>
        d.category
      ).sort();
    await waitFor("two dead letters", async () => (await reasons()).length === 2 || undefined);
    assert.deepEqual(await reasons(), ["future", "invalid"]);
    // Bad bodies: refused with what is wrong, and nothing taken.
    for (
      const [body, why] of [
        ['{"limit": 0}', /"limit" must be a whole number from 1 to/],
        ['{"limit": "x"}', /"limit" must be a whole number/],
        ['{"category": "nope"}', /"category" must be one of invalid, oversized/],
        ["{nope", /Cannot parse the body/],
        ["[]", /it must be an object .*, got an array/],
        ['"x"', /it must be an object .*, got string/],
        ["5", /it must be an object .*, got number/],
        ["null", /it must be an object .*, got null/],
        ['{"limit": 5, "categories": ["late"]}', /Cannot use field\(s\) categories/],
      ] as const
    ) {
      const bad = await h.call("/api/v1/dead-letters/redrive", { method: "POST", body });
      assert.equal(bad.status, 400, body);
      assert.match(bad.json.error, why, body);
    }
    assert.deepEqual(await reasons(), ["future", "invalid"], "a refused body takes nothing");
    // The fix here is time: the event is no longer ahead. Only "future" ones are re-driven.
    await new Promise((r) => setTimeout(r, 3_100));
    const redrive = await h.call("/api/v1/dead-letters/redrive", {
      method: "POST",
      body: { category: "future" },
    });
    assert.equal(redrive.status, 202, JSON.stringify(redrive.json));
    assert.deepEqual(
      [redrive.json.taken, redrive.json.redriven, redrive.json.accepted],
      [1, 1, 1],
    );
    await waitFor("the re-driven event in its actor", async () => {
      const a = await h.call("/api/v1/actors/user/redrive-1");
      return a.status === 200 || undefined;
    });
    assert.deepEqual(await reasons(), ["invalid"]);
    // The invalid one, re-driven without a fix, is dead-lettered again.
    const again = await h.call("/api/v1/dead-letters/redrive", { method: "POST", body: "" });
    assert.equal(again.status, 202);
    assert.deepEqual([again.json.taken, again.json.rejected], [1, 1]);
    assert.deepEqual(await reasons(), ["invalid"]);
  }, (c) => {
    c.runtime.max_future_ms = 1_000;
  });
});

Deno.test("GET /api/v1/cluster in one process shows itself; POST there is a 409 that says where to scale", async () => {
  await withSystem(async (h) => {
    const r = await h.call("/api/v1/cluster");
    assert.equal(r.status, 200);
    assert.equal(r.json.size, 1);
    assert.equal(r.json.supervised, false);
    assert.equal(r.json.workers.length, 1);
    assert.equal(r.json.workers[0].status, "running");
    assert.equal(typeof r.json.workers[0].resident, "object");
    const scale = await h.call("/api/v1/cluster", { method: "POST", body: { workers: 3 } });
    assert.equal(scale.status, 409);
    assert.match(scale.json.error, /main\.ts cluster/);
  });
});

Deno.test("every 4xx the OpenAPI document lists for a route is one that route gives, with a JSON error", async () => {
  // [method, documented path, code, request path, body]: a request that gets that code.
  const big = "x".repeat(5_000);
  const cases: [string, string, string, string, unknown][] = [
    ["POST", "/api/v1/events", "400", "/api/v1/events", ""],
    ["POST", "/api/v1/events", "413", "/api/v1/events", "x".repeat(2_000)],
    ["POST", "/api/v1/events", "429", "/api/v1/events", [auth("logout", "u4", Date.now())]],
    ["GET", "/api/v1/alerts", "400", "/api/v1/alerts?limit=0", undefined],
    ["GET", "/api/v1/actors/{type}/{key}", "404", "/api/v1/actors/nope/x", undefined],
    ["GET", "/api/v1/archive", "400", "/api/v1/archive?limit=x", undefined],
    ["GET", "/api/v1/events", "400", "/api/v1/events?after=nope", undefined],
    ["GET", "/api/v1/stats", "400", "/api/v1/stats?period=week", undefined],
    ["GET", "/api/v1/pages/{page}/counts", "400", "/api/v1/pages/x/counts?to=x", undefined],
    ["GET", "/api/v1/pages/{page}/counts", "404", "/api/v1/pages/nothing/counts", undefined],
    ["GET", "/api/v1/alert-volume", "400", "/api/v1/alert-volume?buckets=x", undefined],
    ["GET", "/console/{file}", "404", "/console/nothing.js", undefined],
    ["GET", "/console/vendor/{file}", "404", "/console/vendor/nothing.js", undefined],
    ["GET", "/api/v1/dead-letters", "400", "/api/v1/dead-letters?limit=-1", undefined],
    ["GET", "/api/v1/incidents", "400", "/api/v1/incidents?severity=urgent", undefined],
    ["GET", "/api/v1/incidents/{id}", "404", "/api/v1/incidents/nope", undefined],
    [
      "POST",
      "/api/v1/models/{name}/activate",
      "400",
      "/api/v1/models/flow_classifier/activate",
      "{",
    ],
    ["POST", "/api/v1/models/{name}/activate", "404", "/api/v1/models/nope/activate", {
      version: "1",
    }],
    ["POST", "/api/v1/models/{name}/activate", "413", "/api/v1/models/nope/activate", big],
    ["POST", "/api/v1/models/{name}/shadow", "400", "/api/v1/models/flow_classifier/shadow", "{"],
    ["POST", "/api/v1/models/{name}/shadow", "404", "/api/v1/models/nope/shadow", {
      version: "1",
    }],
    ["POST", "/api/v1/models/{name}/shadow", "413", "/api/v1/models/nope/shadow", big],
    ["DELETE", "/api/v1/models/{name}/shadow", "404", "/api/v1/models/nope/shadow", undefined],
    ["GET", "/api/v1/rules/{rule}", "404", "/api/v1/rules/nope", undefined],
    ["PATCH", "/api/v1/rules/{rule}", "400", "/api/v1/rules/auth.brute_force", {
      params: { nope: 1 },
    }],
    ["PATCH", "/api/v1/rules/{rule}", "404", "/api/v1/rules/nope", { mode: "shadow" }],
    ["PATCH", "/api/v1/rules/{rule}", "413", "/api/v1/rules/auth.brute_force", big],
    ["POST", "/api/v1/cluster", "409", "/api/v1/cluster", { workers: 2 }],
    ["POST", "/api/v1/dead-letters/redrive", "400", "/api/v1/dead-letters/redrive", "{"],
    ["POST", "/api/v1/dead-letters/redrive", "413", "/api/v1/dead-letters/redrive", big],
    ["GET", "/api/v1/alerts/{id}", "404", "/api/v1/alerts/nope", undefined],
    ["DELETE", "/api/v1/models/{name}/shadow", "400", "/api/v1/models/no.such/shadow", undefined],
    // A body of a type the route does not take (JSON, or a body sent untyped, is read).
    ...([
      ["PATCH", "/api/v1/alerts/{id}", "/api/v1/alerts/seed-alert"],
      ["PATCH", "/api/v1/incidents/{id}", "/api/v1/incidents/seed-incident"],
      ["PATCH", "/api/v1/rules/{rule}", "/api/v1/rules/auth.brute_force"],
      ["POST", "/api/v1/cluster", "/api/v1/cluster"],
      ["POST", "/api/v1/dead-letters/redrive", "/api/v1/dead-letters/redrive"],
      ["POST", "/api/v1/incidents/{id}/suppress", "/api/v1/incidents/seed-incident/suppress"],
      ["POST", "/api/v1/models/{name}/activate", "/api/v1/models/login_risk/activate"],
      ["POST", "/api/v1/models/{name}/shadow", "/api/v1/models/login_risk/shadow"],
      ["POST", "/api/v1/suppressions", "/api/v1/suppressions"],
      ["POST", "/auth/session", "/auth/session"],
    ] as const).map(([m, doc, path]): [string, string, string, string, unknown] => [
      m,
      doc,
      "415",
      path,
      { xml: true },
    ]),
    ["GET", "/api/v1/audit", "400", "/api/v1/audit?since=yesterday", undefined],
    ["POST", "/auth/session", "400", "/auth/session", { secret: "x" }],
    ["POST", "/auth/session", "413", "/auth/session", big],
    ["GET", "/api/v1/suppressions", "400", "/api/v1/suppressions?active=maybe", undefined],
    ["POST", "/api/v1/suppressions", "400", "/api/v1/suppressions", { reason: "x" }],
    ["POST", "/api/v1/suppressions", "413", "/api/v1/suppressions", big],
    ["DELETE", "/api/v1/suppressions/{id}", "404", "/api/v1/suppressions/nope", undefined],
    ["POST", "/api/v1/incidents/{id}/suppress", "400", "/api/v1/incidents/seed-incident/suppress", {
      reason: "x",
    }],
    ["POST", "/api/v1/incidents/{id}/suppress", "404", "/api/v1/incidents/nope/suppress", {
      reason: "x",
      duration_s: 60,
    }],
    [
      "POST",
      "/api/v1/incidents/{id}/suppress",
      "413",
      "/api/v1/incidents/seed-incident/suppress",
      big,
    ],
    ...(["incident", "alert"] as const).flatMap(
      (kind): [string, string, string, string, unknown][] => {
        const doc = `/api/v1/${kind}s/{id}`;
        const seeded = `/api/v1/${kind}s/seed-${kind}`;
        return [
          ["PATCH", doc, "400", seeded, { status: "closed" }],
          ["PATCH", doc, "404", `/api/v1/${kind}s/nope`, { status: "acknowledged" }],
          ["PATCH", doc, "409", seeded, { status: "acknowledged", stale: true }],
          ["PATCH", doc, "413", seeded, "x".repeat(20_000)],
          ["PATCH", doc, "428", seeded, { status: "acknowledged", unmatched: true }],
        ];
      },
    ),
  ];
  // Given elsewhere: 422 needs model files (tests/models/models_api_test.ts); the cluster
  // supervisor's own 400 and 413 (tests/integration/cluster_test.ts); 404 for a process
  // serving no models or rules (every system here serves both).
  const elsewhere = new Set([
    "POST /api/v1/models/{name}/activate 422",
    "POST /api/v1/models/{name}/shadow 422",
    "POST /api/v1/cluster 400",
    "POST /api/v1/cluster 413",
    "GET /api/v1/models 404",
    "POST /auth/session 404",
    "GET /api/v1/rules 404",
  ]);
  await withSystem(async (h) => {
    const doc = (await h.call("/openapi.json", { token: null })).json;
    const documented: string[] = [];
    for (const [path, ops] of Object.entries<Record<string, { responses: object }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const code of Object.keys(op.responses)) {
          // 401 and 403 are every route's, walked with every role in roles_test.ts.
          if (code.startsWith("4") && code !== "401" && code !== "403") {
            documented.push(`${method.toUpperCase()} ${path} ${code}`);
          }
        }
      }
    }
    const tried = cases.map(([m, p, code]) => `${m} ${p} ${code}`);
    assert.deepEqual(
      documented.filter((d) => !elsewhere.has(d)).sort(),
      [...tried].sort(),
      "each documented 4xx has a case",
    );
    // The ingest bucket holds one event: this one empties it.
    const first = await h.call("/api/v1/events", {
      method: "POST",
      body: [auth("logout", "u3", Date.now())],
    });
    assert.equal(first.status, 202);
    // An alert and its incident to change the triage of (If-Match "0": as never changed).
    const seed = {
      alert_id: "seed-alert",
      rule: "auth.brute_force",
      severity: "medium" as const,
      entity: { type: "user", key: "u9" },
      timestamp: iso(Date.now()),
      detected_at: iso(Date.now()),
      evidence: {},
      event_ids: [],
      mode: "enforce" as const,
      incident: { id: "seed-incident", anchor: { type: "user", key: "u9" }, episode: "e" },
    };
    await h.system.store.saveIncidents(await h.system.store.saveAlerts([seed]));
    for (const [method, , code, path, given] of cases) {
      const { stale, unmatched, xml, ...rest } =
        (typeof given === "object" && given !== null ? given : {}) as {
          stale?: true;
          unmatched?: true;
          xml?: true;
        };
      const body = xml ? "<x/>" : typeof given === "object" && given !== null ? rest : given;
      const headers: Record<string, string> = method === "PATCH" && !unmatched
        ? { "if-match": stale ? '"7"' : '"0"' }
        : {};
      if (xml) headers["content-type"] = "application/xml";
      const r = await h.call(path, { method, headers, ...(body === undefined ? {} : { body }) });
      assert.equal(String(r.status), code, `${method} ${path}: ${r.text.slice(0, 200)}`);
      assert.equal(typeof r.json.error, "string", `${method} ${path}: a JSON error`);
    }
  }, (c) => {
    c.api.max_body_bytes = 1_000;
    c.api.ingest_events_per_s = 1;
    c.api.ingest_burst_events = 1;
    c.api.max_events_per_request = 1;
  });
});

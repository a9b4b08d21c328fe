/**
 * Roles (issue 15, item 4): every `/api/v1` route walked with every role as the OpenAPI
 * document states it (401 without credentials, 403 with too little), the console's
 * sessions and their CSRF token, users-file principals, and the audit log of changes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";
import { openapiPath, type Role, ROLES, ROUTE_ROLES } from "../../api/roles.ts";
import { AuthConfigError, Authenticator, hashToken, parseUsers, Sessions } from "../../api/auth.ts";
import type { AuditEntry } from "../../engine/audit.ts";
import { waitFor } from "./system.ts";
import { appOf } from "../../api/system_app.ts";

const TOKENS: Record<Role, string> = {
  admin: "roles-admin-token",
  analyst: "roles-analyst-token",
  viewer: "roles-viewer-token",
};

async function withRoles(
  fn: (system: VigilSystem) => Promise<void>,
  users: { name: string; role: Role; token_hash: string }[] = [],
) {
  const system = new VigilSystem({
    config: loadConfig({}),
    token: TOKENS.admin,
    tokens: { analyst: TOKENS.analyst, viewer: TOKENS.viewer },
    users,
  });
  await system.start({ simulate: false });
  try {
    await fn(system);
  } finally {
    await system.stop();
  }
}

async function call(
  system: VigilSystem,
  method: string,
  path: string,
  o: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { "content-type": "application/json", ...o.headers };
  if (o.token !== undefined) headers.authorization = `Bearer ${o.token}`;
  const res = await appOf(system).request(path, {
    method,
    headers,
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  // A stream (GET /api/v1/stream) answers as a stream: its status is all there is to read.
  if (res.headers.get("content-type")?.startsWith("text/event-stream")) {
    await res.body?.cancel();
    return { status: res.status, json: undefined, headers: res.headers };
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  // deno-lint-ignore no-explicit-any
  return { status: res.status, json: json as any, headers: res.headers };
}

/** A path of the document with its parameters filled. */
const SAMPLE: Record<string, string> = {
  id: "no-such-id",
  type: "user",
  key: "u1",
  name: "login_risk",
  rule: "auth.brute_force",
};
const concrete = (path: string) => path.replace(/\{(\w+)\}/g, (_, p: string) => SAMPLE[p]!);

/** The document's operations under /api/v1, each with the role it states. */
async function documented(
  system: VigilSystem,
): Promise<{ method: string; path: string; role: Role; responses: string[] }[]> {
  const openapi = await (await appOf(system).request("/openapi.json")).json();
  const out = [];
  for (const [path, ops] of Object.entries(openapi.paths)) {
    if (!path.startsWith("/api/v1/")) continue;
    for (const [method, op] of Object.entries(ops as Record<string, Record<string, unknown>>)) {
      out.push({
        method: method.toUpperCase(),
        path,
        role: op["x-required-role"] as Role,
        responses: Object.keys(op.responses as object),
      });
    }
  }
  return out;
}

Deno.test("Every /api/v1 route the app serves has one role, the same in ROUTE_ROLES and the OpenAPI document, and the document names no route the app lacks", async () => {
  await withRoles(async (system) => {
    const served = new Set(
      appOf(system).routes
        .filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/"))
        .map((r) => `${r.method} ${r.path}`),
    );
    assert.deepEqual([...served].sort(), Object.keys(ROUTE_ROLES).sort());
    const doc = await documented(system);
    assert.deepEqual(
      doc.map((d) => `${d.method} ${d.path} ${d.role}`).sort(),
      Object.entries(ROUTE_ROLES).map(([route, role]) => {
        const [method, path] = route.split(" ");
        return `${method} ${openapiPath(path!)} ${role}`;
      }).sort(),
    );
  });
});

Deno.test("Every route with every role: 401 without credentials or with a wrong token, 403 below its role, served at or above it, as the document says", async () => {
  await withRoles(async (system) => {
    const doc = await documented(system);
    assert.ok(doc.length >= 25, `${doc.length} operations`);
    for (const op of doc) {
      const url = concrete(op.path);
      const what = `${op.method} ${op.path}`;
      assert.ok(op.responses.includes("401"), `${what} documents 401`);
      for (const token of [undefined, "not-a-token", "ghost.abcdef"]) {
        const r = await call(system, op.method, url, {
          ...(token ? { token } : {}),
          ...(op.method === "GET" ? {} : { body: {} }),
        });
        assert.equal(r.status, 401, `${what} with ${token ?? "no token"}`);
        assert.match(r.json.error, /credentials/);
      }
      const needed = ROLES.indexOf(op.role);
      for (const role of ROLES) {
        const r = await call(system, op.method, url, {
          token: TOKENS[role],
          ...(op.method === "GET" ? {} : { body: {} }),
        });
        if (ROLES.indexOf(role) < needed) {
          assert.equal(r.status, 403, `${what} as ${role}`);
          assert.ok(op.responses.includes("403"), `${what} documents 403`);
          assert.match(r.json.error, new RegExp(`needs the ${op.role} role`));
        } else {
          assert.ok(![401, 403].includes(r.status), `${what} as ${role}: ${r.status}`);
        }
      }
    }
  });
});

Deno.test("A viewer reads; an analyst works cases and suppresses but changes no rule; each change is audited with principal, time, before and after", async () => {
  await withRoles(async (system) => {
    const t = Date.now() - 4 * 60_000;
    const events = Array.from({ length: 5 }, (_, i) => ({
      kind: "auth",
      type: "login_failure",
      user_id: "erin",
      ip: "203.0.113.9",
      event_id: `erin-f${i}`,
      timestamp: new Date(t + i * 10_000).toISOString(),
    }));
    const refused = await call(system, "POST", "/api/v1/events", {
      token: TOKENS.analyst,
      body: events,
    });
    assert.equal(refused.status, 403, "ingest is the admin's");
    assert.equal(
      (await call(system, "POST", "/api/v1/events", { token: TOKENS.admin, body: events })).json
        .accepted,
      5,
    );
    const incident = await waitFor("erin's incident", async () => {
      const r = await call(system, "GET", "/api/v1/incidents", { token: TOKENS.viewer });
      return r.json.incidents[0];
    });
    const path = `/api/v1/incidents/${incident.incident_id}`;
    const read = await call(system, "GET", path, { token: TOKENS.viewer });
    const etag = read.headers.get("etag")!;
    const change = { status: "resolved", label: "false_positive", note: "erin's new phone" };
    const viewerWrite = await call(system, "PATCH", path, {
      token: TOKENS.viewer,
      body: change,
      headers: { "if-match": etag },
    });
    assert.equal(viewerWrite.status, 403);
    const written = await call(system, "PATCH", path, {
      token: TOKENS.analyst,
      body: change,
      headers: { "if-match": etag },
    });
    assert.equal(written.status, 200, JSON.stringify(written.json));
    assert.equal(written.json.triage.updated_by, "analyst");
    const made = await call(system, "POST", `${path}/suppress`, {
      token: TOKENS.analyst,
      body: { reason: "erin's phone retries", duration_s: 600 },
    });
    assert.equal(made.status, 201);
    assert.equal(made.json.author, "analyst");
    const ended = await call(system, "DELETE", `/api/v1/suppressions/${made.json.id}`, {
      token: TOKENS.analyst,
    });
    assert.equal(ended.status, 200);
    const rule = "/api/v1/rules/auth.brute_force";
    assert.equal(
      (await call(system, "PATCH", rule, { token: TOKENS.analyst, body: { mode: "shadow" } }))
        .status,
      403,
    );
    assert.equal(
      (await call(system, "PATCH", rule, { token: TOKENS.admin, body: { mode: "shadow" } }))
        .status,
      200,
    );
    assert.equal(
      (await call(system, "GET", "/api/v1/audit", { token: TOKENS.viewer })).status,
      403,
      "the audit log is an analyst's read",
    );
    const log = await call(system, "GET", "/api/v1/audit", { token: TOKENS.analyst });
    const entries = log.json.entries as AuditEntry[];
    assert.deepEqual(
      entries.map((e) => [e.principal, e.role, e.action, e.target.kind]),
      [
        ["admin", "admin", "rule.change", "rule"],
        ["analyst", "analyst", "suppression.end", "suppression"],
        ["analyst", "analyst", "suppression.create", "suppression"],
        ["analyst", "analyst", "incident.triage", "incident"],
      ],
      "newest first; refused requests left no entry",
    );
    const [ruleChange, end, create, triage] = entries as [
      AuditEntry,
      AuditEntry,
      AuditEntry,
      AuditEntry,
    ];
    assert.equal((ruleChange.before as { mode: string }).mode, "enforce");
    assert.equal((ruleChange.after as { mode: string }).mode, "shadow");
    assert.equal(create.before, null);
    assert.equal((create.after as { id: string }).id, made.json.id);
    assert.deepEqual(end.before, made.json);
    assert.deepEqual(end.after, ended.json);
    assert.equal(triage.target.id, incident.incident_id);
    assert.equal((triage.before as { status: string }).status, "open");
    assert.deepEqual(triage.after, written.json.triage);
    for (const e of entries) {
      assert.ok(Math.abs(Date.parse(e.at) - Date.now()) < 60_000, e.at);
    }
    const filtered = await call(
      system,
      "GET",
      `/api/v1/audit?principal=analyst&action=suppression.create`,
      { token: TOKENS.analyst },
    );
    assert.deepEqual(filtered.json.entries.map((e: AuditEntry) => e.id), [create.id]);
    const page = await call(system, "GET", "/api/v1/audit?limit=2", { token: TOKENS.analyst });
    assert.equal(page.json.next, entries[1]!.id);
    const rest = await call(system, "GET", `/api/v1/audit?limit=10&before=${page.json.next}`, {
      token: TOKENS.analyst,
    });
    assert.deepEqual(rest.json.entries.map((e: AuditEntry) => e.id), [create.id, triage.id]);
    assert.equal(
      (await call(system, "GET", "/api/v1/audit?limit=0", { token: TOKENS.analyst })).status,
      400,
    );
  });
});

Deno.test("Console sessions: a token signs in to an HttpOnly, SameSite=Strict cookie; a change needs the CSRF token; signing out ends it", async () => {
  await withRoles(async (system) => {
    assert.equal(
      (await call(system, "POST", "/auth/session", { body: { token: "x" } })).status,
      401,
    );
    assert.equal((await call(system, "POST", "/auth/session", { body: { tok: "x" } })).status, 400);
    const res = await appOf(system).request("/auth/session", {
      method: "POST",
      body: JSON.stringify({ token: TOKENS.analyst }),
    });
    assert.equal(res.status, 200);
    const cookieHeader = res.headers.get("set-cookie")!;
    assert.match(cookieHeader, /^vigil_session=[0-9a-f]{64};/);
    assert.match(cookieHeader, /HttpOnly/);
    assert.match(cookieHeader, /SameSite=Strict/);
    assert.match(cookieHeader, /Path=\//);
    assert.match(cookieHeader, /Max-Age=28800/);
    const body = await res.json();
    assert.equal(body.principal, "analyst");
    assert.equal(body.role, "analyst");
    assert.ok(Date.parse(body.expires_at) > Date.now());
    assert.ok(!JSON.stringify(body).includes(TOKENS.analyst), "the token is not echoed");
    const cookie = cookieHeader.split(";")[0]!;
    const me = await call(system, "GET", "/auth/session", { headers: { cookie } });
    assert.deepEqual(me.json, body);
    assert.equal(
      (await call(system, "GET", "/api/v1/suppressions", { headers: { cookie } })).status,
      200,
    );
    const change = { rule: "auth.brute_force", reason: "drill", duration_s: 60 };
    const noCsrf = await call(system, "POST", "/api/v1/suppressions", {
      headers: { cookie },
      body: change,
    });
    assert.equal(noCsrf.status, 403);
    assert.match(noCsrf.json.error, /X-CSRF-Token/);
    const wrongCsrf = await call(system, "POST", "/api/v1/suppressions", {
      headers: { cookie, "x-csrf-token": "0".repeat(64) },
      body: change,
    });
    assert.equal(wrongCsrf.status, 403);
    const ok = await call(system, "POST", "/api/v1/suppressions", {
      headers: { cookie, "x-csrf-token": body.csrf_token },
      body: change,
    });
    assert.equal(ok.status, 201);
    assert.equal(ok.json.author, "analyst");
    const admin = await call(system, "PATCH", "/api/v1/rules/auth.brute_force", {
      headers: { cookie, "x-csrf-token": body.csrf_token },
      body: { mode: "shadow" },
    });
    assert.equal(admin.status, 403, "a session has its principal's role");
    const out = await appOf(system).request("/auth/session", {
      method: "DELETE",
      headers: { cookie },
    });
    assert.equal(out.status, 204);
    assert.match(out.headers.get("set-cookie") ?? "", /vigil_session=;/);
    assert.equal((await call(system, "GET", "/auth/session", { headers: { cookie } })).status, 401);
    assert.equal(
      (await call(system, "GET", "/api/v1/suppressions", { headers: { cookie } })).status,
      401,
    );
  });
});

Deno.test("Sessions end at their time and are bounded, the oldest ending first", () => {
  let now = 1_000;
  const sessions = new Sessions({ ttl_ms: 500, max: 2 }, () => now);
  const p = { name: "ana", role: "analyst" as const };
  const a = sessions.create(p);
  now = 1_499;
  assert.equal(sessions.get(a.id)?.principal, p);
  now = 1_500;
  assert.equal(sessions.get(a.id), null, "expired");
  const b = sessions.create(p), c = sessions.create(p), d = sessions.create(p);
  assert.equal(sessions.size, 2);
  assert.equal(sessions.get(b.id), null, "the oldest ended");
  assert.ok(sessions.get(c.id) && sessions.get(d.id));
  assert.notEqual(c.csrf_token, d.csrf_token);
});

Deno.test("Users-file principals: a token is known by its scrypt hash only, by its name's entry; a wrong secret or an unknown name is refused", async () => {
  const token = "dana.0123456789abcdef0123456789abcdef";
  const hash = await hashToken(token);
  assert.match(hash, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!hash.includes("0123456789abcdef"));
  assert.notEqual(await hashToken(token), hash, "salted");
  const users = parseUsers(
    JSON.stringify({ users: [{ name: "dana", role: "analyst", token_hash: hash }] }),
    "users.json",
  );
  await withRoles(async (system) => {
    const ok = await call(system, "GET", "/api/v1/audit", { token });
    assert.equal(ok.status, 200);
    assert.equal(
      (await call(system, "PATCH", "/api/v1/rules/auth.brute_force", { token, body: {} })).status,
      403,
    );
    for (const wrong of [token.slice(0, -1) + "0", "dana.", "erin" + token.slice(4), "dana"]) {
      assert.equal((await call(system, "GET", "/api/v1/audit", { token: wrong })).status, 401);
    }
    const made = await call(system, "POST", "/api/v1/suppressions", {
      token,
      body: { rule: "auth.brute_force", reason: "drill", duration_s: 60 },
    });
    assert.equal(made.json.author, "dana", "changes are recorded as the user");
  }, users);
});

Deno.test("A users file or tokens that cannot be used are refused with the reason", async () => {
  const hash = await hashToken("x.y");
  const cases: [string, RegExp][] = [
    ["{", /Cannot parse the users file/],
    ['{"people": []}', /must be \{"users"/],
    [JSON.stringify({ users: [{ name: "Ana", role: "analyst", token_hash: hash }] }), /"name"/],
    [JSON.stringify({ users: [{ name: "ana", role: "root", token_hash: hash }] }), /"role"/],
    [JSON.stringify({ users: [{ name: "ana", role: "admin" }] }), /token_hash/],
    [
      JSON.stringify({ users: [{ name: "ana", role: "admin", token_hash: "plain" }] }),
      /scrypt\$N/,
    ],
    [
      JSON.stringify({
        users: [{ name: "ana", role: "admin", token_hash: hash.replace("16384", "2") }],
      }),
      /power of two/,
    ],
    [
      JSON.stringify({
        users: [
          { name: "ana", role: "admin", token_hash: hash },
          { name: "ana", role: "viewer", token_hash: hash },
        ],
      }),
      /twice/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseUsers(text, "users.json"), (err: Error) => {
      assert.ok(err instanceof AuthConfigError);
      assert.match(err.message, message);
      return true;
    }, text);
  }
  assert.throws(
    () => new Authenticator({ tokens: { admin: "same", viewer: "same" }, cache_entries: 0 }),
    /VIEWER_TOKEN and ADMIN_TOKEN are the same/,
  );
});

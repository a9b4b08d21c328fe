import assert from "node:assert/strict";
import { post, request, TOKEN, waitFor, withSystem } from "./system.ts";
import { appOf } from "../../api/system_app.ts";

/** Five failed logins of `user` within a minute, ending now: a brute force. */
function bruteForce(user: string): string {
  const now = Date.now();
  return Array.from({ length: 5 }, (_, i) =>
    JSON.stringify({
      kind: "auth",
      type: "login_failure",
      user_id: user,
      ip: "203.0.113.9",
      event_id: `${user}-f${i + 1}`,
      timestamp: new Date(now - (4 - i) * 10_000).toISOString(),
    })).join("\n");
}

Deno.test("GET / and /console/*: the page and its files from this process, with no token", async () => {
  await withSystem(async (system) => {
    const page = await appOf(system).request("/");
    assert.equal(page.status, 200);
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
    const html = await page.text();
    assert.match(
      html,
      /<script type="importmap">\{"imports":\{"preact":"\/console\/vendor\/preact.mjs"/,
    );
    // Every file the page and its import map name is served, and nothing from elsewhere.
    const named = [...html.matchAll(/"(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    assert.ok(named.length >= 7, named.join(" "));
    assert.doesNotMatch(html, /https?:\/\//);
    for (const path of named) {
      const res = await appOf(system).request(path);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("content-type")!, /^text\/(javascript|css)/);
      const etag = res.headers.get("etag")!;
      const text = await res.text();
      assert.ok(text.length > 500, `${path} has its content`);
      const again = await appOf(system).request(path, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
    }
    const preact = await (await appOf(system).request("/console/vendor/preact.mjs")).text();
    assert.match(preact, /export\s*\{/, "Preact's ES module");
    const missing = await appOf(system).request("/console/nothing.js");
    assert.equal(missing.status, 404);
    assert.match((await missing.json()).error, /No console file nothing.js/);
  });
});

Deno.test("GET /api/v1/stream: needs the token; streams new alerts, their incidents and triage changes", async () => {
  await withSystem(async (system) => {
    assert.equal((await appOf(system).request("/api/v1/stream")).status, 401);
    const res = await appOf(system).request("/api/v1/stream", {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`The stream ended before ${pattern}: ${text}`);
        text += decoder.decode(value);
      }
    };
    await until(/event: hello/);
    assert.equal(
      (await post(system, "/api/v1/events", bruteForce("sse-u"), "application/x-ndjson")).status,
      202,
    );
    await until(/event: alert\n[^\n]*\ndata: \{[^\n]*"rule":"auth.brute_force"/);
    await until(/event: incident\n[^\n]*\ndata: \{[^\n]*"incident_id"/);
    const incident = JSON.parse(/event: incident\n[^\n]*\ndata: (.*)\n/.exec(text)![1]!);
    const changed = await appOf(system).request(`/api/v1/incidents/${incident.incident_id}`, {
      method: "PATCH",
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "if-match": '"0"',
        "content-type": "application/json",
      },
      body: JSON.stringify({ status: "acknowledged" }),
    });
    assert.equal(changed.status, 200);
    await until(/event: triage\n/);
    const triage = JSON.parse(/event: triage\n[^\n]*\ndata: (.*)\n/.exec(text)![1]!);
    assert.equal(triage.kind, "incident");
    assert.equal(triage.id, incident.incident_id);
    assert.equal(triage.triage.status, "acknowledged");
    await reader.cancel();
  });
});

Deno.test("GET /api/v1/stream: one client past VIGIL_CONSOLE_STREAM_MAX_CLIENTS gets 503", async () => {
  await withSystem(async (system) => {
    const open = () =>
      appOf(system).request("/api/v1/stream", { headers: { authorization: `Bearer ${TOKEN}` } });
    const first = await open();
    assert.equal(first.status, 200);
    const second = await open();
    assert.equal(second.status, 503);
    assert.equal(second.headers.get("retry-after"), "5");
    assert.match((await second.json()).error, /VIGIL_CONSOLE_STREAM_MAX_CLIENTS/);
    await first.body!.cancel();
  }, (c) => c.console.stream_max_clients = 1);
});

Deno.test("GET /api/v1/alert-volume and /api/v1/archive by event ids and entity", async () => {
  await withSystem(async (system) => {
    assert.equal(
      (await post(system, "/api/v1/events", bruteForce("vol-u"), "application/x-ndjson")).status,
      202,
    );
    const volume = await waitFor("the alert counted", async () => {
      const r = await request(system, "/api/v1/alert-volume?buckets=5&rule=auth.brute_force");
      const body = JSON.parse(r.text);
      return body.series[0]?.total > 0 ? body : undefined;
    }, 10_000);
    assert.equal(volume.bucket_s, 60);
    assert.equal(volume.series[0].counts.length, 5);
    assert.equal(volume.series[0].counts[4], 1, "in the newest bar");
    const bad = await request(system, "/api/v1/alert-volume?buckets=0");
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).error, /"buckets" must be a whole number from 1 to 1440/);

    const byUser = JSON.parse(
      (await request(system, "/api/v1/archive?entity_type=user&entity_key=vol-u")).text,
    );
    assert.deepEqual(
      byUser.events.map((e: { event_id: string }) => e.event_id),
      ["vol-u-f5", "vol-u-f4", "vol-u-f3", "vol-u-f2", "vol-u-f1"],
    );
    const byIds = JSON.parse(
      (await request(system, "/api/v1/archive?event_ids=vol-u-f2,vol-u-f4,nope")).text,
    );
    assert.deepEqual(byIds.events.map((e: { event_id: string }) => e.event_id), [
      "vol-u-f4",
      "vol-u-f2",
    ]);
    const other = JSON.parse(
      (await request(system, "/api/v1/archive?entity_type=ip&entity_key=198.51.100.1")).text,
    );
    assert.equal(other.count, 0);
    const wrong = await request(system, "/api/v1/archive?entity_type=planet&entity_key=x");
    assert.equal(wrong.status, 400);
    assert.match(
      JSON.parse(wrong.text).error,
      /"entity_type": Invalid option: expected one of "user"\|"ip"\|"src"\|"service"\|"page"/,
    );
    assert.equal((await request(system, "/api/v1/archive?entity_type=user")).status, 400);
  }, (c) => c.io.archive_raw_events = true);
});

/**
 * Hostile requests to the HTTP API, in memory (a real `VigilSystem` behind `app.request`):
 * prototype names, huge and deep values. Each bad event is one rejection with its reason;
 * the request, the system and `/metrics` are unharmed.
 *
 * @module
 */

import assert from "node:assert/strict";
import { pageLabel } from "../../io/metrics.ts";
import { assertAllAccepted, countsOf, post, TOKEN, waitFor, withSystem } from "./system.ts";
import { PROTOTYPE_NAMES } from "../unit/hostile.ts";
import { appOf } from "../../api/system_app.ts";

const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("A field nested 50,000 levels deep is one rejected event with its reason, not a 500: as an object, in an array, in NDJSON", async () => {
  await withSystem(async (system) => {
    const ts = iso(Date.now() - MINUTE);
    const deep = '{"a":'.repeat(50_000) + "1" + "}".repeat(50_000);
    const bad = `{"kind":"metric","service":"s","x":${deep},"timestamp":"${ts}"}`;
    const good = `{"kind":"metric","service":"s","cpu":3,"timestamp":"${ts}"}`;
    const reason = 'Cannot accept event: field "x" is nested more than 32 levels deep';
    const one = await post(system, "/api/v1/events", bad);
    assert.equal(one.status, 202, one.text.slice(0, 200));
    assert.deepEqual(countsOf(one.json), {
      accepted: 0,
      rejected: 1,
      errors: [{ index: 0, reason }],
    });
    assert.deepEqual(one.json.items, [{ index: 0, verdict: "invalid", reason }]);
    const array = await post(system, "/api/v1/events", `[${bad},${good}]`);
    assert.equal(array.status, 202, array.text.slice(0, 200));
    assert.deepEqual(countsOf(array.json), {
      accepted: 1,
      rejected: 1,
      errors: [{ index: 0, reason }],
    });
    assert.deepEqual(array.json.items.map((i: { verdict: string }) => i.verdict), [
      "invalid",
      "accepted",
    ]);
    const deepArray = `[${"[".repeat(50_000)}${"]".repeat(50_000)}, ${good}]`;
    const arrays = await post(system, "/api/v1/events", deepArray);
    assert.equal(arrays.status, 202, arrays.text.slice(0, 200));
    assert.equal(arrays.json.accepted, 1);
    assert.match(arrays.json.errors[0].reason, /must be a JSON object/);
    const ndjson = await post(system, "/api/v1/events", `${good}\n${bad}`, "application/x-ndjson");
    assert.deepEqual(countsOf(ndjson.json), {
      accepted: 1,
      rejected: 1,
      errors: [{ index: 1, reason }],
    });
    const letters = await system.store.findDeadLetters(10);
    assert.ok(letters.some((d) => d.reason === reason && d.raw.startsWith('{"kind":"metric"')));
  });
});

Deno.test("Metric fields named after Object.prototype properties are followed by the service's actor through the API, which never fails", async () => {
  await withSystem(async (system) => {
    const start = Date.now() - 10 * MINUTE;
    const events = Array.from({ length: 40 }, (_, i) => {
      const fields = PROTOTYPE_NAMES.map((n) => `${JSON.stringify(n)}:${i % 3}`);
      return `{"kind":"metric","service":"proto","timestamp":"${iso(start + i * 1_000)}",` +
        `${fields.join(",")}}`;
    });
    // 600 more from 600 services, as the probe that stopped the process sent them.
    for (let i = 0; i < 600; i++) {
      events.push(
        `{"kind":"metric","service":"s${i}","constructor":1,"toString":2,"__proto__":3,` +
          `"timestamp":"${iso(start + i)}"}`,
      );
    }
    const r = await post(system, "/api/v1/events", events.join("\n"), "application/x-ndjson");
    assertAllAccepted(r.json, 640);
    const view = await waitFor("the proto service's 40 metric events", async () => {
      const got = await appOf(system).request("/api/v1/actors/service/proto", {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const body = await got.json();
      return got.status === 200 && body.state.metrics === 40 ? body.state : undefined;
    });
    assert.equal(Object.keys(view.baselines).length, PROTOTYPE_NAMES.length);
    assert.equal(view.baselines.constructor.samples, 40);
    await system.whenIdle();
    const stats = system.runtime.stats();
    assert.equal(stats.quarantined, 0);
    assert.equal(stats.partition_restarts, 0);
    const letters = await system.store.findDeadLetters(1_000);
    assert.deepEqual(letters.map((d) => d.reason), [], "nothing failed");
  });
});

Deno.test("A 900 KB page name is refused and /metrics stays small; a long page's label is cut with a hash", async () => {
  await withSystem(async (system) => {
    const minute = Math.floor((Date.now() - 5 * MINUTE) / MINUTE) * MINUTE;
    const click = (page: string, ts: number) =>
      JSON.stringify({ kind: "click", session_id: "s1", page, timestamp: iso(ts) });
    // A short page's views and a refused click first, so the request, decision and
    // dead-letter metrics such posts add once are in the figure before (they do not grow
    // with pages).
    const warm = [
      click("/warm", minute - MINUTE),
      click("/warm", minute + 3 * MINUTE),
      click("", minute),
    ];
    assert.equal((await post(system, "/api/v1/events", `[${warm.join(",")}]`)).json.accepted, 2);
    await waitFor("the warm-up page's window to show", async () => {
      const t = await (await appOf(system).request("/metrics")).text();
      return t.includes('vigil_page_views_last_window{page="/warm"}') ? t : undefined;
    });
    const before = (await (await appOf(system).request("/metrics")).text()).length;
    const huge = "/" + "p".repeat(900_000);
    const r = await post(system, "/api/v1/events", click(huge, minute));
    assert.match(r.json.errors[0].reason, /field "page" is 900001 characters long/);
    const long = "/" + "q".repeat(255);
    const views = [
      click(long, minute),
      click(long, minute + 1_000),
      click(long, minute + 3 * MINUTE),
    ];
    const ok = await post(system, "/api/v1/events", `[${views.join(",")}]`);
    assert.equal(ok.json.accepted, 3);
    const label = `vigil_page_views_last_window{page="${pageLabel(long)}"}`;
    const text = await waitFor("the long page's window to show under its cut label", async () => {
      const t = await (await appOf(system).request("/metrics")).text();
      return t.includes(label) ? t : undefined;
    });
    assert.ok(text.length < before + 2_000, `/metrics grew from ${before} to ${text.length}`);
  });
  assert.equal(pageLabel("/pay"), "/pay");
  const a = pageLabel("/" + "x".repeat(300) + "a"), b = pageLabel("/" + "x".repeat(300) + "b");
  assert.ok(a.length <= 128 && b.length <= 128 && a !== b, `${a} ${b}`);
});

Deno.test("PATCH /api/v1/rules/{rule} refuses 1e308 with a 400 that says the range, and the rule stays on", async () => {
  await withSystem(async (system) => {
    const r = await post(
      system,
      "/api/v1/rules/auth.brute_force",
      '{"params":{"brute_force_failures":1e308}}',
      "application/json",
      "PATCH",
    );
    assert.equal(r.status, 400, r.text);
    assert.equal(
      r.json.error,
      "Cannot set brute_force_failures to 1e+308: it must be a whole number from 1 to 1000",
    );
    const deep = await post(
      system,
      "/api/v1/rules/auth.brute_force",
      `{"params":{"brute_force_failures":${"[".repeat(1_000)}${"]".repeat(1_000)}}}`,
      "application/json",
      "PATCH",
    );
    assert.equal(deep.status, 400, deep.text);
    assert.match(deep.json.error, /must be a number ≥ 0/);
    const proto = await post(
      system,
      "/api/v1/rules/auth.brute_force",
      '{"params":{"__proto__":1,"constructor":2}}',
      "application/json",
      "PATCH",
    );
    assert.equal(proto.status, 400, proto.text);
    assert.match(proto.json.error, /has no parameter "__proto__"/);
    assert.equal(system.config.auth.brute_force_failures, 5, "unchanged");
  });
});

/**
 * The KPI metrics (issue 17) through a real system: events posted to the API move the
 * transaction-amount and decision-time histograms and the active-users gauge, and every
 * request is counted by its route pattern, method and status, never by its path.
 *
 * @module
 */

import assert from "node:assert/strict";
import { post, request, TOKEN, waitFor, withSystem } from "./system.ts";
import type { VigilSystem } from "../../engine/system.ts";
import { appOf } from "../../api/system_app.ts";

/** The value of one sample of the exposition text (NaN when absent). */
function sample(text: string, name: string, labels: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? NaN : Number(line.slice(line.lastIndexOf(" ") + 1));
}

async function metricsText(system: VigilSystem): Promise<string> {
  const res = await appOf(system).request("/metrics");
  assert.equal(res.status, 200);
  return await res.text();
}

const iso = (ms: number) => new Date(ms).toISOString();

Deno.test("KPI metrics: transaction amounts by type, decision time by kind, active users", async () => {
  await withSystem(async (system) => {
    const now = Date.now();
    const tx = (id: string, type: string, amount: number) => ({
      kind: "transaction",
      event_id: id,
      user_id: "kpi-u1",
      account_id: "acc-1",
      type,
      amount,
      currency: "EUR",
      status: "success",
      timestamp: iso(now - 1_000),
    });
    const events = [
      tx("t1", "payment", 3),
      tx("t2", "payment", 700),
      tx("t3", "transfer", 15_000),
      {
        kind: "auth",
        type: "login_success",
        event_id: "l1",
        user_id: "kpi-u1",
        ip: "203.0.113.9",
        session_id: "s1",
        timestamp: iso(now - 900),
      },
      {
        kind: "auth",
        type: "login_success",
        event_id: "l2",
        user_id: "kpi-u2",
        ip: "203.0.113.10",
        session_id: "s2",
        timestamp: iso(now - 800),
      },
      {
        kind: "log",
        event_id: "g1",
        service: "payments-api",
        level: "ERROR",
        message: "upstream timeout",
        timestamp: iso(now - 700),
      },
    ];
    const r = await post(system, "/api/v1/events", JSON.stringify(events));
    assert.equal(r.status, 202, r.text);
    await waitFor("the six events decided", async () => {
      const m = await metricsText(system);
      const done = sample(m, "vigil_event_decision_seconds_count", 'kind="auth"') === 2 &&
        sample(m, "vigil_event_decision_seconds_count", 'kind="transaction"') === 3 &&
        sample(m, "vigil_event_decision_seconds_count", 'kind="log"') === 1;
      return done || undefined;
    });
    const m = await metricsText(system);
    // 3 and 700 are payments: one in the bucket up to 5, both up to 1,000.
    assert.equal(sample(m, "vigil_transaction_amount_bucket", 'le="5",type="payment"'), 1);
    assert.equal(sample(m, "vigil_transaction_amount_bucket", 'le="1000",type="payment"'), 2);
    assert.equal(sample(m, "vigil_transaction_amount_sum", 'type="payment"'), 703);
    assert.equal(sample(m, "vigil_transaction_amount_bucket", 'le="10000",type="transfer"'), 0);
    assert.equal(sample(m, "vigil_transaction_amount_bucket", 'le="20000",type="transfer"'), 1);
    // Each event was decided about a second after its time, within the 2.5 s bucket.
    assert.equal(
      sample(m, "vigil_event_decision_seconds_bucket", 'le="0.5",kind="transaction"'),
      0,
    );
    assert.equal(sample(m, "vigil_event_decision_seconds_bucket", 'le="10",kind="transaction"'), 3);
    assert.equal(m.match(/^vigil_active_users (\d+)/m)?.[1], "2");
    assert.equal(sample(m, "vigil_log_events_total", 'level="error"'), 1);
    assert.equal(sample(m, "vigil_log_events_total", 'level="warn"'), 0);
    const out = await post(
      system,
      "/api/v1/events",
      JSON.stringify([{
        kind: "auth",
        type: "logout",
        event_id: "o1",
        user_id: "kpi-u1",
        ip: "203.0.113.9",
        session_id: "s1",
        timestamp: iso(now - 500),
      }]),
    );
    assert.equal(out.status, 202, out.text);
    await waitFor(
      "one active user after the logout",
      async () => (await metricsText(system)).match(/^vigil_active_users 1$/m) ?? undefined,
    );
  });
});

Deno.test("KPI metrics: HTTP requests by route pattern, method and status, unmatched paths as one", async () => {
  await withSystem(async (system) => {
    assert.equal((await request(system, "/api/v1/alerts?limit=5")).status, 200);
    assert.equal((await request(system, "/api/v1/alerts/no-such-alert")).status, 404);
    const anon = await appOf(system).request("/api/v1/alerts");
    await anon.text();
    assert.equal(anon.status, 401);
    for (const path of ["/nope-1", "/nope-2/x"]) {
      const res = await appOf(system).request(path, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      await res.text();
      assert.equal(res.status, 404);
    }
    const m = await metricsText(system);
    const count = (labels: string) => sample(m, "vigil_http_requests_total", labels);
    assert.equal(count('route="/api/v1/alerts",method="GET",status="200"'), 1);
    assert.equal(count('route="/api/v1/alerts",method="GET",status="401"'), 1);
    assert.equal(count('route="/api/v1/alerts/:id",method="GET",status="404"'), 1);
    assert.equal(count('route="unmatched",method="GET",status="404"'), 2);
    assert.ok(!m.includes("no-such-alert") && !m.includes("nope-"), "no path in a label");
    assert.equal(
      sample(m, "vigil_http_request_duration_seconds_count", 'route="/api/v1/alerts",method="GET"'),
      2,
    );
  });
});

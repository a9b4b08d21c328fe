/**
 * `deno task start` end to end (docs/commands.md and docs/api.md): the real process on a free port,
 * with its built-in simulator injecting attacks every 10 s; the API answers, the
 * simulator's brute-force attacks come out as alerts, and SIGTERM stops it cleanly
 * with exit code 0. Needs --allow-all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { get, startProcess, waitFor } from "./workers.ts";
import { FLOW_FEATURES } from "../../io/flow_csv.ts";

const ROOT = new URL("../../", import.meta.url);
const TOKEN = "e2e-token-0123456789";

/** `p`, or null when it takes longer than `ms` (the timer is always cleared). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<null>((r) => timer = setTimeout(() => r(null), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test({
  name: "deno task start: serves the API, alerts on simulated brute force, stops on SIGTERM",
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const started = startProcess({
    ADMIN_TOKEN: TOKEN,
    VIGIL_SIMULATOR_ATTACK_INTERVAL_S: "10",
    // From now, no backfill: this test times the simulator's first attacks.
    VIGIL_SIMULATOR_BACKFILL_S: "0",
  });
  const { child, base, status, stdoutDone, stderrDone, exited } = started;
  const tail = () => started.stderr().slice(-4_000);

  try {
    await waitFor(
      "GET /health",
      20_000,
      async () => {
        const r = await get(`${base}/health`);
        return r?.status === 200 ? r : undefined;
      },
      exited,
      tail,
    ).then((r) => assert.deepEqual(JSON.parse(r.text), { status: "ok" }));

    const ready = await waitFor(
      "GET /ready",
      10_000,
      async () => {
        const r = await get(`${base}/ready`);
        return r?.status === 200 ? r : undefined;
      },
      exited,
      tail,
    );
    assert.equal(JSON.parse(ready.text).ready, true);

    // Everything under /api/v1 needs the token.
    const denied = await get(`${base}/api/v1/alerts?rule=auth.brute_force`);
    assert.ok(denied, "the API answers");
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get("www-authenticate") ?? "", /^Bearer/);
    assert.equal(typeof JSON.parse(denied.text).error, "string");
    const wrong = await get(`${base}/api/v1/alerts?rule=auth.brute_force`, "not-the-token");
    assert.equal(wrong?.status, 401);

    // The metrics are served without a token.
    const metrics = await get(`${base}/metrics`);
    assert.equal(metrics?.status, 200);
    assert.match(metrics!.text, /vigil_events_ingested_total/);

    // The simulator's first attack starts 5 s in; its failures are 1–8 s apart.
    /** The alerts of a rule, once there are some. */
    const alertsOf = (query: string, timeout_ms: number) =>
      waitFor(
        `an alert for ${query}`,
        timeout_ms,
        async () => {
          const r = await get(`${base}/api/v1/alerts?${query}`, TOKEN);
          if (r?.status !== 200) return undefined;
          const body = JSON.parse(r.text);
          return body.count > 0 ? body.alerts as Record<string, unknown>[] : undefined;
        },
        exited,
        tail,
      );
    const alerts = await alertsOf("rule=auth.brute_force", 60_000);
    for (const a of alerts) {
      assert.equal(a.rule, "auth.brute_force");
      assert.equal((a.entity as { type: string }).type, "user");
      assert.match((a.entity as { key: string }).key, /^u\d+$/, "a simulated user");
      assert.equal(typeof a.alert_id, "string");
      assert.ok(Array.isArray(a.event_ids) && a.event_ids.length >= 5);
      assert.equal(a.mode, "enforce");
    }

    // A flow posted by hand is scored by the flow classifier (the DDoS class's median row
    // of the model's fixtures) and comes out as flow.ddos for its source.
    const fixtures = JSON.parse(
      await Deno.readTextFile(new URL("models/flow_classifier/v2.fixtures.json", ROOT)),
    ) as { rows: (number | string | null)[][] };
    const features = Object.fromEntries(
      FLOW_FEATURES.map((f, j) => [f, fixtures.rows[2]![j] ?? "NaN"]),
    );
    const posted = await fetch(`${base}/api/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        kind: "flow",
        event_id: "e2e-flow-1",
        timestamp: new Date().toISOString(),
        src_ip: "203.0.113.77",
        dst_ip: "192.0.2.10",
        dst_port: 80,
        features,
      }),
    });
    assert.equal(posted.status, 202, await posted.text());
    const [flowAlert] = await alertsOf("rule=flow.ddos&entity_key=203.0.113.77", 20_000);
    assert.ok(flowAlert);
    assert.deepEqual(flowAlert.entity, { type: "src", key: "203.0.113.77" });
    assert.deepEqual(flowAlert.event_ids, ["e2e-flow-1"]);
    assert.equal(flowAlert.model, "flow_classifier@2");
    const scored = await get(`${base}/metrics`);
    assert.match(scored!.text, /vigil_model_active\{model="flow_classifier",version="2"\} 1/);
    assert.match(
      scored!.text,
      /vigil_model_predictions_total\{model="flow_classifier",class="DDoS"\} [1-9]/,
    );

    // Logins posted by hand: two at home, then one from São Paulo on a new device a minute
    // later. The user actor scores it with the login-risk model: auth.risky_login.
    const now = Date.now();
    const login = (id: string, ago_ms: number, place: Record<string, unknown>) => ({
      kind: "auth",
      type: "login_success",
      event_id: id,
      user_id: "e2e-traveller",
      timestamp: new Date(now - ago_ms).toISOString(),
      ...place,
    });
    const oslo = { ip: "84.10.20.30", country: "NO", lat: 59.91, lon: 10.75, device_id: "d-own" };
    const logins = await fetch(`${base}/api/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify([
        login("e2e-login-1", 50_000, oslo),
        login("e2e-login-2", 40_000, oslo),
        login("e2e-login-3", 0, {
          ip: "177.10.20.30",
          country: "BR",
          lat: -23.55,
          lon: -46.63,
          device_id: "d-unknown",
        }),
      ]),
    });
    assert.equal(logins.status, 202, await logins.text());
    const [risky] = await alertsOf("rule=auth.risky_login&entity_key=e2e-traveller", 20_000);
    assert.ok(risky);
    assert.deepEqual(risky.event_ids, ["e2e-login-3"]);
    assert.equal(risky.model, "login_risk@2");
    const evidence = risky.evidence as Record<string, unknown>;
    assert.ok(
      (risky.score as number) >= 0.5 && ["allow", "step_up", "block"].includes(
        evidence.action as string,
      ),
    );
    assert.equal((evidence.features as Record<string, number>).new_country, 1);

    // The simulator also emits flows (from the model's class prototypes) with a flow attack
    // every attack interval: one comes out as flow.<class> for its source.
    const simulatedFlow = await waitFor(
      "a flow alert for a simulated attacking source",
      40_000,
      async () => {
        const r = await get(`${base}/api/v1/alerts?entity_type=src`, TOKEN);
        if (r?.status !== 200) return undefined;
        const alerts = JSON.parse(r.text).alerts as { rule: string; entity: { key: string } }[];
        return alerts.find((a) => a.entity.key.startsWith("198.18."));
      },
      exited,
      tail,
    );
    assert.match(simulatedFlow.rule, /^flow\.[a-z_]+$/);
    assert.match(
      (await get(`${base}/metrics`))!.text,
      /vigil_events_ingested_total\{kind="flow"\} [1-9]/,
    );

    // The simulator's traffic is being consumed.
    const later = await get(`${base}/metrics`);
    assert.ok(
      /vigil_events_ingested_total\{kind="auth"\} [1-9]/.test(later!.text),
      "auth events were ingested",
    );

    // A graceful stop: exit code 0 within 15 s, "Stopped cleanly" on stderr.
    child.kill("SIGTERM");
    const result = await within(status, 15_000);
    assert.ok(result !== null, `the process did not exit within 15 s of SIGTERM:\n${tail()}`);
    assert.equal(result.code, 0, `exit code ${result.code} (signal ${result.signal}):\n${tail()}`);
    await stderrDone;
    assert.match(started.stderr(), /Stopped cleanly/);
    // And nothing listens on the port any more.
    assert.equal(await get(`${base}/health`), null, "the server is closed");
  } finally {
    // `deno task` passes SIGTERM on to the server it runs; a SIGKILL would kill only the
    // task runner and leave the server holding the pipes open.
    for (const signal of ["SIGTERM", "SIGKILL"] as const) {
      if (exited()) break;
      try {
        child.kill(signal);
      } catch {
        // Already gone.
      }
      await within(status, 15_000);
    }
    await within(status, 5_000);
    await within(stdoutDone, 5_000);
    await within(stderrDone, 5_000);
  }
});

import assert from "node:assert/strict";
import type { Alert } from "../../events/types.ts";
import { loadConfig } from "../../config/load.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import type { VigilSystem } from "../../engine/system.ts";
import { metricSum, TOKEN, waitFor, withSystem } from "./system.ts";
import { appOf } from "../../api/system_app.ts";

const MINUTE = 60_000;

async function send(
  system: VigilSystem,
  path: string,
  o: { method?: string; body?: unknown } = {},
) {
  const res = await appOf(system).request(path, {
    method: o.method ?? "GET",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  // deno-lint-ignore no-explicit-any
  return { status: res.status, json: await res.json() as any };
}

/** Five failed logins of `user` from one address, ten seconds apart, from `t`. */
const failures = (user: string, t: number) =>
  Array.from({ length: 5 }, (_, i) => ({
    kind: "auth",
    type: "login_failure",
    user_id: user,
    ip: "203.0.113.7",
    event_id: `${user}-f${i}`,
    timestamp: new Date(t + i * 10_000).toISOString(),
  }));

Deno.test("Suppressions: a suppressed alert is kept and counted as suppressed, notifies no one, ends when ended; made from an incident in one action; a replay given them agrees", async () => {
  let suppressions: unknown[] = [];
  let live: Alert[] = [];
  const events = [
    ...failures("alice", Date.now() - 4 * MINUTE),
    ...failures("bob", Date.now() - 3 * MINUTE),
  ];
  await withSystem(async (system) => {
    const made = await send(system, "/api/v1/suppressions", {
      method: "POST",
      body: {
        rule: "auth.brute_force",
        entity_type: "user",
        entity_key: "alice",
        reason: "alice's password manager retries a stale password",
        starts_at: Date.now() - 10 * MINUTE,
        duration_s: 3600,
      },
    });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    assert.equal(made.json.author, "admin");
    const posted = await send(system, "/api/v1/events", { method: "POST", body: events });
    assert.equal(posted.json.accepted, 10);
    live = await waitFor("two brute-force alerts", async () => {
      const r = await send(system, "/api/v1/alerts?rule=auth.brute_force");
      return r.json.count === 2 ? r.json.alerts as Alert[] : undefined;
    });
    const byUser = new Map(live.map((a) => [a.entity.key, a]));
    assert.equal(byUser.get("alice")!.mode, "suppressed");
    assert.equal(byUser.get("alice")!.suppressed_by, made.json.id);
    assert.equal(byUser.get("bob")!.mode, "enforce");
    const metrics = (await appOf(system).request("/metrics")).text();
    assert.equal(metricSum(await metrics, "vigil_alerts_total", 'mode="suppressed"'), 1);
    // Suppressed alerts join no incident: bob's hour is the only one.
    const incidents = await send(system, "/api/v1/incidents");
    assert.deepEqual(
      incidents.json.incidents.map((i: { anchor: { key: string } }) => i.anchor.key),
      ["bob"],
    );

    // From bob's incident, in one action: its anchor, the rule given.
    const incident = incidents.json.incidents[0].incident_id;
    const fromIncident = await send(system, `/api/v1/incidents/${incident}/suppress`, {
      method: "POST",
      body: { reason: "bob is testing the lockout", duration_s: 600 },
    });
    assert.equal(fromIncident.status, 201, JSON.stringify(fromIncident.json));
    assert.equal(fromIncident.json.entity_key, "bob");
    assert.equal(fromIncident.json.incident_id, incident);
    const own = await send(system, `/api/v1/incidents/${incident}/suppress`, {
      method: "POST",
      body: { reason: "x", duration_s: 60, cidr: "10.0.0.0/8" },
    });
    assert.equal(own.status, 400);
    for (const body of [[], "bob", 5]) {
      const r = await send(system, `/api/v1/incidents/${incident}/suppress`, {
        method: "POST",
        body,
      });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error, /an object/, JSON.stringify(body));
    }

    // Ended: listed, not active.
    const ended = await send(system, `/api/v1/suppressions/${fromIncident.json.id}`, {
      method: "DELETE",
    });
    assert.equal(ended.status, 200);
    assert.ok(Date.parse(ended.json.expires_at) <= Date.now());
    const active = await send(system, "/api/v1/suppressions?active=true");
    assert.deepEqual(active.json.suppressions.map((s: { id: string }) => s.id), [made.json.id]);
    const all = await send(system, "/api/v1/suppressions");
    assert.equal(all.json.count, 2);
    suppressions = all.json.suppressions;
  });

  // A replay with the same suppressions gives the same alerts, suppressed the same way.
  const config = loadConfig({});
  const lines = events.map((e) => JSON.stringify(e)).join("\n");
  // deno-lint-ignore no-explicit-any
  const again = await replay(linesOf(lines), config, null, suppressions as any);
  const shape = (list: Alert[]) =>
    list.map((a) => [a.alert_id, a.mode, a.suppressed_by ?? null]).sort();
  assert.deepEqual(shape(again.alerts.filter((a) => a.rule === "auth.brute_force")), shape(live));
  const without = await replay(linesOf(lines), config, null);
  assert.ok(
    without.alerts.every((a) => a.mode === "enforce"),
    "without them, nothing is suppressed",
  );
});

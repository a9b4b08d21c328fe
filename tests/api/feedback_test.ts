import assert from "node:assert/strict";
import type { Alert } from "../../events/types.ts";
import type { VigilSystem } from "../../engine/system.ts";
import { applyTriage, UNTOUCHED } from "../../engine/triage.ts";
import { sendJson, waitFor, withSystem } from "./system.ts";
import { appOf } from "../../api/system_app.ts";

const send = sendJson;

const resolve = (system: VigilSystem, path: string, label: string, match = '"0"') =>
  send(system, path, { method: "PATCH", match, body: { status: "resolved", label } });

function alert(id: string, rule: string, incident: string | null, at = Date.now()): Alert {
  const iso = new Date(at).toISOString();
  const entity = { type: "ip", key: "203.0.113.9" };
  return {
    alert_id: id,
    rule,
    severity: "medium",
    entity,
    timestamp: iso,
    detected_at: iso,
    evidence: {},
    event_ids: [],
    mode: "enforce",
    ...(incident ? { incident: { id: incident, anchor: entity, episode: "spray:1" } } : {}),
  };
}

const feedbackOf = async (system: VigilSystem, rule: string) =>
  (await send(system, `/api/v1/rules/${rule}`)).json.feedback;

Deno.test("resolving with a label changes the rule's precision in GET /api/v1/rules at once, an incident's for each of its alerts' rules", async () => {
  await withSystem(async (system) => {
    const store = system.store;
    await store.saveIncidents(
      await store.saveAlerts([
        alert("s1", "ip.password_spray", "i1"),
        alert("t1", "ip.throttle", "i1"),
        alert("t2", "ip.throttle", "i1"),
      ]),
    );
    await store.saveAlerts([alert("b1", "auth.brute_force", null)]);
    const before = await send(system, "/api/v1/rules");
    const spray = before.json.rules.find((r: { rule: string }) => r.rule === "ip.password_spray");
    assert.deepEqual(spray.feedback, {
      precision: null,
      true_positive: 0,
      false_positive: 0,
      benign: 0,
      window_days: 7,
    });
    // t2 judged on its own first: its label wins over the incident's.
    assert.equal((await resolve(system, "/api/v1/alerts/t2", "true_positive")).status, 200);
    assert.equal((await feedbackOf(system, "ip.throttle")).precision, 1);
    assert.equal((await resolve(system, "/api/v1/incidents/i1", "false_positive")).status, 200);
    assert.deepEqual(await feedbackOf(system, "ip.password_spray"), {
      precision: 0,
      true_positive: 0,
      false_positive: 1,
      benign: 0,
      window_days: 7,
    });
    const throttle = await feedbackOf(system, "ip.throttle");
    assert.deepEqual([throttle.true_positive, throttle.false_positive], [1, 1]);
    assert.equal(throttle.precision, 0.5);
    // Benign is counted, not judged.
    assert.equal((await resolve(system, "/api/v1/alerts/b1", "benign")).status, 200);
    const brute = await feedbackOf(system, "auth.brute_force");
    assert.deepEqual([brute.benign, brute.precision], [1, null]);
    // Reopening takes the label back.
    const reopened = await send(system, "/api/v1/incidents/i1", {
      method: "PATCH",
      match: '"1"',
      body: { status: "open" },
    });
    assert.equal(reopened.status, 200);
    assert.equal((await feedbackOf(system, "ip.password_spray")).precision, null);
    // The gauge: present for a rule with a precision, absent for one without.
    const metrics = await (await appOf(system).request("/metrics")).text();
    assert.match(metrics, /^vigil_rule_precision\{rule="ip.throttle"\} 1$/m);
    assert.doesNotMatch(metrics, /^vigil_rule_precision\{rule="ip.password_spray"\}/m);
    assert.doesNotMatch(metrics, /^vigil_rule_precision\{rule="auth.brute_force"\}/m);
    assert.match(metrics, /^vigil_rule_labels\{rule="auth.brute_force",label="benign"\} 1$/m);
  });
});

Deno.test("a label another process stored is counted at the next read of the store", async () => {
  await withSystem(async (system) => {
    const store = system.store;
    await store.saveAlerts([alert("p1", "net.port_scan", null)]);
    const limits = { max_triage_notes: 5, max_note_chars: 100, max_assignee_chars: 20 };
    const t = applyTriage(
      UNTOUCHED,
      { status: "resolved", label: "false_positive" },
      "bo",
      new Date().toISOString(),
      limits,
    );
    assert.ok(await store.saveTriage("alert", "p1", t));
    await waitFor(
      "the other process's label counted",
      async () => (await feedbackOf(system, "net.port_scan")).false_positive === 1 || undefined,
    );
    assert.equal((await feedbackOf(system, "net.port_scan")).precision, 0);
  }, (c) => {
    c.rules.feedback_refresh_ms = 50;
  });
});

Deno.test("a rule over its alert budget is flagged; one configured for it goes to shadow mode once, in the audit log as the system's change", async () => {
  await withSystem(async (system) => {
    const now = Date.now();
    const many = (rule: string, n: number, at = now) =>
      Array.from({ length: n }, (_, i) => alert(`${rule}-${at}-${i}`, rule, null, at));
    await system.store.saveAlerts([
      ...many("ip.throttle", 4),
      ...many("ip.password_spray", 4),
      ...many("ip.password_spray", 10, now - 2 * 3_600_000), // over an hour ago
      ...many("net.port_scan", 50),
      ...many("auth.brute_force", 3),
      { ...alert("sup", "auth.brute_force", null), mode: "suppressed" },
    ]);
    await waitFor(
      "ip.throttle moved to shadow mode",
      async () =>
        (await send(system, "/api/v1/rules/ip.throttle")).json.mode === "shadow" || undefined,
    );
    const rule = async (name: string) => (await send(system, `/api/v1/rules/${name}`)).json;
    assert.deepEqual((await rule("ip.throttle")).budget, {
      per_hour: 3,
      last_hour: 4,
      over: true,
      auto_shadow: true,
    });
    // Flagged, not moved: not configured for it.
    const spray = await rule("ip.password_spray");
    assert.deepEqual([spray.budget.last_hour, spray.budget.over, spray.mode], [4, true, "enforce"]);
    // No budget; and the suppressed alert is not counted.
    assert.deepEqual((await rule("net.port_scan")).budget.per_hour, null);
    assert.equal((await rule("net.port_scan")).budget.over, false);
    assert.deepEqual((await rule("auth.brute_force")).budget.last_hour, 3);
    assert.equal((await rule("auth.brute_force")).budget.over, false);
    const audited = async () =>
      (await send(system, "/api/v1/audit?target_id=ip.throttle")).json.entries;
    const [moved, ...others] = await audited();
    assert.deepEqual(others, []);
    assert.equal(moved.action, "rule.auto_shadow");
    assert.deepEqual([moved.principal, moved.role], ["system", "system"]);
    assert.deepEqual([moved.before.mode, moved.after.mode], ["enforce", "shadow"]);
    assert.deepEqual(moved.after.budget, {
      per_hour: 3,
      last_hour: 4,
      over: true,
      auto_shadow: true,
    });
    const metrics = await (await appOf(system).request("/metrics")).text();
    assert.match(metrics, /^vigil_rule_over_budget\{rule="ip.throttle"\} 1$/m);
    assert.match(metrics, /^vigil_rule_over_budget\{rule="ip.password_spray"\} 1$/m);
    assert.match(metrics, /^vigil_rule_over_budget\{rule="auth.brute_force"\} 0$/m);
    assert.match(metrics, /^vigil_rule_alert_budget\{rule="ip.throttle"\} 3$/m);
    assert.doesNotMatch(metrics, /^vigil_rule_alert_budget\{rule="net.port_scan"\}/m);
    assert.match(metrics, /^vigil_rule_alerts_last_hour\{rule="net.port_scan"\} 50$/m);
    // A person puts it back while it is still over: it stays as they said.
    const back = await send(system, "/api/v1/rules/ip.throttle", {
      method: "PATCH",
      body: { mode: "enforce" },
    });
    assert.equal(back.json.mode, "enforce");
    assert.equal(back.json.budget.over, true);
    await new Promise((r) => setTimeout(r, 300)); // several reads of the store
    assert.equal((await rule("ip.throttle")).mode, "enforce");
    assert.deepEqual(
      (await audited()).map((e: { action: string; principal: string }) => [e.action, e.principal]),
      [["rule.change", "admin"], ["rule.auto_shadow", "system"]],
    );
  }, (c) => {
    c.rules.feedback_refresh_ms = 50;
    c.rules.budget_per_hour = 3;
    c.rules.budgets = "net.port_scan=0";
    c.rules.auto_shadow = "ip.throttle";
  });
});

Deno.test("GET /openapi.json describes a rule's feedback and budget as the API gives them", async () => {
  await withSystem(async (system) => {
    const doc = (await send(system, "/openapi.json")).json;
    // deno-lint-ignore no-explicit-any
    const resolved = (s: any) =>
      s.$ref ? doc.components.schemas[s.$ref.replace("#/components/schemas/", "")] : s;
    const schema = resolved(
      doc.paths["/api/v1/rules/{rule}"].get.responses["200"].content["application/json"].schema,
    );
    const listed = resolved(
      doc.paths["/api/v1/rules"].get.responses["200"].content["application/json"].schema
        .properties.rules.items,
    );
    assert.deepEqual(listed, schema);
    const one = (await send(system, "/api/v1/rules/auth.brute_force")).json;
    assert.deepEqual([...schema.required].sort(), Object.keys(one).sort());
    for (const part of ["feedback", "budget"]) {
      assert.deepEqual(
        [...schema.properties[part].required].sort(),
        Object.keys(one[part]).sort(),
        part,
      );
    }
  });
});

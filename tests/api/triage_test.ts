import assert from "node:assert/strict";
import type { Alert } from "../../events/types.ts";
import { applyTriage, triageChangeOf, TriageError, UNTOUCHED } from "../../engine/triage.ts";
import type { VigilSystem } from "../../engine/system.ts";
import { sendJson, withSystem } from "./system.ts";

const LIMITS = { max_triage_notes: 2, max_note_chars: 20, max_assignee_chars: 8 };

const send = sendJson;

const patch = (system: VigilSystem, path: string, match: string, body: unknown) =>
  send(system, path, { method: "PATCH", match, body });

function alert(id: string, incident: string): Alert {
  const at = new Date().toISOString();
  return {
    alert_id: id,
    rule: "ip.password_spray",
    severity: "medium",
    entity: { type: "ip", key: "203.0.113.9" },
    timestamp: at,
    detected_at: at,
    evidence: {},
    event_ids: [],
    mode: "enforce",
    incident: { id: incident, anchor: { type: "ip", key: "203.0.113.9" }, episode: "spray:1" },
  };
}

Deno.test("triageChangeOf() and applyTriage(): what a change may say, and what it makes", () => {
  const bad = (body: unknown, why: RegExp) =>
    assert.throws(
      () => triageChangeOf(body, LIMITS),
      (e) => e instanceof TriageError && why.test(e.message),
    );
  bad([], /an object/);
  bad({}, /Nothing to change/);
  bad({ state: "open" }, /Cannot use field\(s\) state/);
  bad({ status: "closed" }, /status must be one of open, acknowledged, resolved/);
  bad({ label: "maybe" }, /label must be one of true_positive, false_positive, benign/);
  bad({ assignee: "" }, /assignee must be a name/);
  bad({ assignee: "a-very-long-name" }, /longer than 8/);
  bad({ note: 5 }, /note must be some text/);
  bad({ note: "x".repeat(21) }, /longer than 20/);
  const at = "2026-03-02T10:00:00.000Z";
  const apply = (prev = UNTOUCHED, body: unknown = {}) =>
    applyTriage(prev, triageChangeOf(body, LIMITS), "ana", at, LIMITS);
  assert.throws(() => apply(UNTOUCHED, { status: "resolved" }), /Resolving needs a label/);
  assert.throws(() => apply(UNTOUCHED, { label: "benign" }), /A label goes with resolving/);
  const acked = apply(UNTOUCHED, { status: "acknowledged", assignee: "ana" });
  assert.deepEqual(acked, {
    status: "acknowledged",
    assignee: "ana",
    label: null,
    labelled_at: null,
    notes: [],
    revision: 1,
    updated_at: at,
    updated_by: "ana",
  });
  const resolved = apply(acked, { status: "resolved", label: "false_positive", note: "office" });
  assert.equal(resolved.label, "false_positive");
  assert.equal(resolved.revision, 2);
  assert.deepEqual(resolved.notes, [{ at, by: "ana", text: "office" }]);
  // A note on a resolved case keeps its label; reopening clears it; notes are bounded.
  const noted = apply(resolved, { note: "two" });
  assert.equal(noted.label, "false_positive");
  const reopened = apply(noted, { status: "open", note: "three", assignee: null });
  assert.equal(reopened.label, null);
  assert.equal(reopened.assignee, null);
  assert.deepEqual(reopened.notes.map((n) => n.text), ["two", "three"], "the newest 2 kept");
});

Deno.test("PATCH /api/v1/incidents/{id} and /api/v1/alerts/{id}: acknowledge, assign, resolve with a label, stale writes refused", async () => {
  await withSystem(async (system) => {
    await system.store.saveIncidents(
      await system.store.saveAlerts([alert("a1", "i1"), alert("a2", "i1")]),
    );
    // Untouched: open, revision 0, in the listings and in one read.
    const listed = await send(system, "/api/v1/incidents");
    assert.deepEqual(listed.json.incidents[0].triage, UNTOUCHED);
    const read = await send(system, "/api/v1/incidents/i1");
    assert.equal(read.etag, '"0"');
    assert.deepEqual(read.json.alerts.map((a: Alert) => a.alert_id).sort(), ["a1", "a2"]);

    const acked = await patch(system, "/api/v1/incidents/i1", '"0"', {
      status: "acknowledged",
      assignee: "ana",
    });
    assert.equal(acked.status, 200, JSON.stringify(acked.json));
    assert.equal(acked.etag, '"1"');
    assert.equal(acked.json.triage.status, "acknowledged");
    assert.equal(acked.json.triage.updated_by, "admin", "the one token's principal");

    // Someone else's write with what they read before: 409 and the stored triage.
    const stale = await patch(system, "/api/v1/incidents/i1", '"0"', { assignee: "bo" });
    assert.equal(stale.status, 409);
    assert.equal(stale.etag, '"1"');
    assert.equal(stale.json.triage.assignee, "ana");
    assert.match(stale.json.error, /changed since it was read/);

    const noLabel = await patch(system, "/api/v1/incidents/i1", '"1"', { status: "resolved" });
    assert.equal(noLabel.status, 400);
    assert.match(noLabel.json.error, /Resolving needs a label/);
    const missing = await send(system, "/api/v1/incidents/i1", {
      method: "PATCH",
      body: { status: "resolved", label: "true_positive" },
    });
    assert.equal(missing.status, 428);
    const resolved = await patch(system, "/api/v1/incidents/i1", '"1"', {
      status: "resolved",
      label: "true_positive",
      note: "the campaign broke into one account; reset",
    });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.json));
    const after = await send(system, "/api/v1/incidents/i1");
    assert.equal(after.etag, '"2"');
    assert.equal(after.json.triage.label, "true_positive");
    assert.equal(after.json.triage.notes[0].text, "the campaign broke into one account; reset");
    // The fold goes on under it: a new alert of the incident changes the incident, not its triage.
    await system.store.saveIncidents(await system.store.saveAlerts([alert("a3", "i1")]));
    const grown = await send(system, "/api/v1/incidents/i1");
    assert.equal(grown.json.alert_count, 3);
    assert.equal(grown.json.triage.status, "resolved");

    // An alert has its own triage.
    const one = await send(system, "/api/v1/alerts/a2");
    assert.equal(one.status, 200);
    assert.equal(one.etag, '"0"');
    assert.equal(one.json.triage.status, "open");
    const fp = await patch(system, "/api/v1/alerts/a2", '"0"', {
      status: "resolved",
      label: "false_positive",
    });
    assert.equal(fp.status, 200);
    const alerts = await send(system, "/api/v1/alerts?incident_id=i1");
    const byId = new Map(alerts.json.alerts.map((a: Alert & { triage: { label: string } }) => [
      a.alert_id,
      a.triage.label,
    ]));
    assert.deepEqual(Object.fromEntries(byId), { a1: null, a2: "false_positive", a3: null });
    assert.equal((await send(system, "/api/v1/alerts/nope")).status, 404);
    assert.equal((await patch(system, "/api/v1/incidents/nope", '"0"', { note: "x" })).status, 404);

    // Two writes from the same read at once: one wins, the other is told.
    const both = await Promise.all([
      patch(system, "/api/v1/alerts/a1", '"0"', { assignee: "ana" }),
      patch(system, "/api/v1/alerts/a1", '"0"', { assignee: "bo" }),
    ]);
    assert.deepEqual(both.map((r) => r.status).sort(), [200, 409]);
    const won = both.find((r) => r.status === 200)!.json.triage.assignee;
    assert.equal((await send(system, "/api/v1/alerts/a1")).json.triage.assignee, won);
  });
});

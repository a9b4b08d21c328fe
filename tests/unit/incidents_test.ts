import assert from "node:assert/strict";
import fc from "fast-check";
import { incidentOf } from "../../actors/incident.ts";
import type { AlertDraft } from "../../actors/types.ts";
import {
  foldIncident,
  incidentMatches,
  incidentsOf,
  newestFirst,
  summaryOf,
} from "../../engine/incidents.ts";
import type { Alert, Incident, Severity } from "../../events/types.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import { StoreQueryError } from "../../io/store.ts";

const T0 = Date.parse("2026-03-02T10:00:00Z");
const MIN = 60_000;
const HOUR = 60 * MIN;
const LIMITS = { max_incident_members: 50 };

function draft(over: Partial<AlertDraft> = {}): AlertDraft {
  return {
    rule: "auth.brute_force",
    severity: "medium",
    entity: { type: "user", key: "u1" },
    ts: T0,
    evidence: {},
    event_ids: ["e1"],
    dedup: "e1",
    ...over,
  };
}

/** An alert as the runtime raises it, with its incident. */
function alert(id: string, d: Partial<AlertDraft> = {}, mode: Alert["mode"] = "enforce"): Alert {
  const x = draft(d);
  return {
    alert_id: id,
    rule: x.rule,
    severity: x.severity,
    entity: x.entity,
    timestamp: new Date(x.ts).toISOString(),
    detected_at: new Date(x.ts + 1000).toISOString(),
    evidence: x.evidence,
    event_ids: x.event_ids,
    mode,
    incident: incidentOf(x, HOUR),
  };
}

const campaign = { anchor: { type: "ip", key: "203.0.113.9" }, episode: "ip.password_spray:7" };

Deno.test("incidentOf(): a rule's hint names the incident; otherwise the entity's hour (UTC)", () => {
  const a = incidentOf(draft({ ts: T0 + 5 * MIN }), HOUR);
  const b = incidentOf(draft({ ts: T0 + 59 * MIN, rule: "auth.impossible_travel" }), HOUR);
  assert.deepEqual(a, b, "one user's alerts of one hour: one incident");
  assert.equal(a.episode, "window:2026-03-02T10:00:00.000Z");
  assert.deepEqual(a.anchor, { type: "user", key: "u1" });
  assert.match(a.id, /^[0-9a-f]{16}$/);
  assert.notEqual(incidentOf(draft({ ts: T0 + HOUR }), HOUR).id, a.id, "the next hour");
  assert.notEqual(incidentOf(draft({ entity: { type: "user", key: "u2" } }), HOUR).id, a.id);
  const hinted = incidentOf(draft({ incident: campaign }), HOUR);
  assert.deepEqual(hinted.anchor, campaign.anchor);
  assert.equal(hinted.episode, campaign.episode);
  assert.equal(incidentOf(draft({ incident: campaign, ts: T0 + 3 * HOUR }), HOUR).id, hinted.id);
});

Deno.test("foldIncident(): an address's campaign with the users it tried and the one it broke into", () => {
  const spray = alert("a1", {
    rule: "ip.password_spray",
    entity: { type: "ip", key: "203.0.113.9" },
    evidence: { most_tried_users: { u1: 4, u2: 3, u3: 3 } },
    incident: campaign,
  });
  const broken = alert("a2", {
    rule: "user.compromise_after_attack",
    severity: "critical",
    ts: T0 + 10 * MIN,
    incident: campaign,
  });
  const i = foldIncident(null, [broken, spray], LIMITS)!;
  assert.equal(i.incident_id, spray.incident!.id);
  assert.equal(i.severity, "critical");
  assert.deepEqual(i.rules, ["ip.password_spray", "user.compromise_after_attack"]);
  assert.deepEqual(i.entities.map((e) => `${e.type}:${e.key}`), [
    "ip:203.0.113.9",
    "user:u1",
    "user:u2",
    "user:u3",
  ]);
  assert.deepEqual(i.alert_ids, ["a1", "a2"]);
  assert.equal(i.alert_count, 2);
  assert.equal(i.first_seen, "2026-03-02T10:00:00.000Z");
  assert.equal(i.last_seen, "2026-03-02T10:10:00.000Z");
  assert.equal(
    i.summary,
    "critical: ip.password_spray, user.compromise_after_attack on ip 203.0.113.9; 2 alerts; " +
      "3 users named (2026-03-02T10:00:00.000Z to 2026-03-02T10:10:00.000Z)",
  );
  assert.equal(i.version, 1);
  // Folding again what it holds changes nothing but the write count.
  const again = foldIncident(i, [spray], LIMITS)!;
  assert.deepEqual({ ...again, version: 1 }, i);
  // Shadow alerts and another incident's alerts stay out.
  const shadow = alert("a3", { severity: "critical", incident: campaign }, "shadow");
  const other = alert("a4", { entity: { type: "user", key: "u9" } });
  assert.equal(foldIncident(null, [shadow], LIMITS), null);
  assert.deepEqual({ ...foldIncident(i, [shadow, other], LIMITS)!, version: 1 }, i);
});

/** Alerts of a few incidents: entities, rules, severities and times drawn. */
const alertsArb = fc.uniqueArray(
  fc.record({
    id: fc.hexaString({ minLength: 4, maxLength: 4 }),
    user: fc.constantFrom("u1", "u2", "u3"),
    rule: fc.constantFrom("auth.brute_force", "auth.impossible_travel", "tx.large_amount"),
    severity: fc.constantFrom<Severity>("info", "low", "medium", "high", "critical"),
    minute: fc.integer({ min: 0, max: 150 }),
    campaign: fc.boolean(),
    tried: fc.subarray(["u4", "u5", "u6", "u7"]),
  }),
  { selector: (r) => r.id, minLength: 1, maxLength: 40 },
).map((rows) =>
  rows.map((r) =>
    alert(r.id, {
      rule: r.rule,
      severity: r.severity,
      entity: { type: "user", key: r.user },
      ts: T0 + r.minute * MIN,
      evidence: { most_tried_users: Object.fromEntries(r.tried.map((u) => [u, 1])) },
      ...(r.campaign ? { incident: campaign } : {}),
    })
  )
);

Deno.test("foldIncident() gives the same incidents whatever the order, the batches and the repeats", () => {
  fc.assert(
    fc.property(
      alertsArb,
      fc.array(fc.nat(), { minLength: 60, maxLength: 60 }),
      fc.integer({ min: 2, max: 60 }),
      (alerts, draws, bound) => {
        const limits = { max_incident_members: bound };
        const expected = incidentsOf(alerts, limits);
        // The same alerts shuffled, some sent twice, saved in batches of drawn sizes.
        const sent = alerts.concat(alerts.filter((_, i) => draws[i % draws.length]! % 3 === 0));
        for (let i = sent.length - 1; i > 0; i--) {
          const j = draws[i % draws.length]! % (i + 1);
          [sent[i], sent[j]] = [sent[j]!, sent[i]!];
        }
        const store = new Map<string, Incident>();
        let at = 0;
        for (let k = 0; at < sent.length; k++) {
          const batch = sent.slice(at, at += 1 + (draws[k % draws.length]! % 7));
          for (const a of batch) {
            const prev = store.get(a.incident!.id) ?? null;
            store.set(a.incident!.id, foldIncident(prev, [a], limits)!);
          }
        }
        const folded = [...store.values()].map((i) => ({ ...i, version: 1 }))
          .sort((a, b) => (a.incident_id < b.incident_id ? -1 : 1));
        // Past the bound, an alert sent twice may be counted twice: compare counts only within it.
        const within = (list: Incident[]) =>
          list.map((i) => i.alert_count > bound ? { ...i, alert_count: -1, summary: "" } : i);
        assert.deepEqual(within(folded), within(expected));
        for (const i of expected) {
          assert.ok(i.alert_ids.length <= bound && i.entities.length <= bound, "bounded");
          assert.deepEqual(i.alert_ids, [...i.alert_ids].sort(), "the smallest ids, sorted");
        }
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("incidentMatches() and newestFirst(): the filters and the order of a listing", () => {
  const [a, b] = incidentsOf([
    alert("x1", { rule: "ip.password_spray", entity: { type: "ip", key: "1.2.3.4" } }),
    alert("x2", { severity: "critical", ts: T0 + 2 * HOUR }),
  ], LIMITS).sort(newestFirst);
  assert.equal(a!.severity, "critical", "the newest first");
  assert.ok(incidentMatches(a!, { min_severity: "high" }));
  assert.ok(!incidentMatches(b!, { min_severity: "high" }));
  assert.ok(incidentMatches(b!, { rule: "ip.password_spray" }));
  assert.ok(!incidentMatches(a!, { rule: "ip.password_spray" }));
  assert.ok(incidentMatches(b!, { entity_type: "ip", entity_key: "1.2.3.4" }));
  assert.ok(!incidentMatches(b!, { entity_type: "user", entity_key: "1.2.3.4" }));
  assert.ok(incidentMatches(a!, { since_ms: T0 + 2 * HOUR }));
  assert.ok(!incidentMatches(b!, { since_ms: T0 + 1 }));
  assert.equal(
    summaryOf(a!),
    "critical: auth.brute_force on user u1; 1 alert (2026-03-02T12:00:00.000Z)",
  );
});

Deno.test("MemoryStore keeps incidents: changed ones returned, filters, paging, bounded", async () => {
  const store = new MemoryStore({
    max_alerts: 100,
    max_dead_letters: 10,
    max_incidents: 3,
    max_incident_members: 10,
  });
  const alerts = [0, 1, 2, 3].map((h) =>
    alert(`a${h}`, { ts: T0 + h * HOUR, severity: h === 2 ? "high" : "low" })
  );
  const saved = await store.saveAlerts(alerts);
  const changed = await store.saveIncidents(saved);
  assert.equal(changed.length, 4, "one incident an hour");
  assert.deepEqual(await store.saveIncidents(saved.slice(1)), [], "saved again: nothing changed");
  assert.equal(await store.getIncident(alerts[0]!.incident!.id), null, "the oldest dropped");
  const all = await store.findIncidents({ limit: 10 });
  assert.deepEqual(all.map((i) => i.alert_ids[0]), ["a3", "a2", "a1"]);
  const page = await store.findIncidents({ limit: 1, before: all[0]!.incident_id });
  assert.deepEqual(page.map((i) => i.alert_ids[0]), ["a2"]);
  const high = await store.findIncidents({ limit: 10, min_severity: "high" });
  assert.deepEqual(high.map((i) => i.alert_ids[0]), ["a2"]);
  await assert.rejects(store.findIncidents({ limit: 1, before: "nope" }), StoreQueryError);
  const ofIncident = await store.findAlerts({ limit: 10, incident_id: alerts[1]!.incident!.id });
  assert.deepEqual(ofIncident.map((a) => a.alert_id), ["a1"]);
  // A later alert of the same hour changes the incident, and it is returned changed.
  const later = alert("a9", { ts: T0 + 3 * HOUR + 5 * MIN, rule: "auth.impossible_travel" });
  const [grown] = await store.saveIncidents(await store.saveAlerts([later]));
  assert.deepEqual(grown!.alert_ids, ["a3", "a9"]);
  assert.equal(grown!.version, 2);
});

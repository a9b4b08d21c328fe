import assert from "node:assert/strict";
import type { Alert } from "../../events/types.ts";
import { MongoStore } from "../../io/mongo_store.ts";
import { incidentMatches, incidentsOf, newestFirst } from "../../engine/incidents.ts";
import type { IncidentQuery } from "../../io/store.ts";
import { applyTriage, UNTOUCHED } from "../../engine/triage.ts";
import { mongoUri, unique } from "./servers.ts";
import { auditEntry } from "../../engine/audit.ts";

function alert(id: string, rule: string, key: string, ts: number): Alert {
  return {
    alert_id: id,
    rule,
    severity: "medium",
    entity: { type: "user", key },
    timestamp: new Date(ts).toISOString(),
    detected_at: new Date(ts + 5).toISOString(),
    evidence: { n: 1 },
    event_ids: ["e1"],
    mode: "enforce",
  };
}

Deno.test({
  name: "MongoStore keeps each alert once, answers filters newest first, and keeps dead letters",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const store = await MongoStore.connect({
      uri: mongoUri(),
      database: unique("db"),
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
    });
    try {
      await store.ping();
      const t = Date.UTC(2026, 0, 5);
      const a1 = alert("a1", "auth.brute_force", "alice", t);
      await store.saveAlerts([a1, alert("a2", "auth.brute_force", "bob", t + 1000)]);
      const again = await store.saveAlerts([
        { ...a1, severity: "high" },
        alert("a3", "auth.success_after_failures", "alice", t + 2000),
      ]);
      assert.deepEqual(again[0], a1, "a resent alert comes back as first stored");
      assert.deepEqual((await store.alertIds()).sort(), ["a1", "a2", "a3"]);
      const all = await store.findAlerts({ limit: 10 });
      assert.deepEqual(all.map((a) => a.alert_id), ["a3", "a2", "a1"]);
      // Paging: what was stored before a cursor, with the filters.
      const page = (before: string, more: Partial<Parameters<typeof store.findAlerts>[0]> = {}) =>
        store.findAlerts({ limit: 1, before, ...more }).then((l) => l.map((a) => a.alert_id));
      assert.deepEqual(await page("a3"), ["a2"]);
      assert.deepEqual(await page("a2"), ["a1"]);
      assert.deepEqual(await page("a1"), []);
      assert.deepEqual(await page("a3", { entity_key: "alice" }), ["a1"]);
      await assert.rejects(page("nope"), /No alert nope is stored/);
      assert.equal(all[2]!.severity, "medium", "the first write wins; a resend changes nothing");
      assert.deepEqual(all[2], a1, "stored alerts come back exactly as given");
      assert.deepEqual(
        (await store.findAlerts({ limit: 10, rule: "auth.brute_force" })).map((a) => a.alert_id),
        [
          "a2",
          "a1",
        ],
      );
      assert.deepEqual(
        (await store.findAlerts({ limit: 10, entity_key: "alice" })).map((a) => a.alert_id),
        [
          "a3",
          "a1",
        ],
      );
      assert.deepEqual(
        (await store.findAlerts({ limit: 10, since_ms: t + 1000 })).map((a) => a.alert_id),
        [
          "a3",
          "a2",
        ],
      );
      assert.equal((await store.findAlerts({ limit: 1 })).length, 1);

      await store.saveDeadLetters([
        {
          source: "auth-events/0/1",
          reason: "bad",
          raw: "{",
          raw_bytes: 1,
          at: new Date(t).toISOString(),
          category: "invalid",
        },
        {
          source: "auth-events/0/2",
          reason: "worse",
          raw: "[",
          raw_bytes: 1,
          at: new Date(t).toISOString(),
          category: "future",
        },
      ]);
      const e1 = {
        event_id: "e1",
        kind: "auth",
        ts: t,
        raw: { user_id: "alice", extra: { kept: true } },
      };
      const e2 = { event_id: "e2", kind: "auth", ts: t + 1, raw: { user_id: "bob" } };
      await store.archiveEvents([e1, e2]);
      await store.archiveEvents([e1]);
      const archived = await store.findArchived(10);
      assert.equal(archived.length, 2, "archived once each");
      assert.deepEqual(archived.find((e) => e.event_id === "e1"), e1, "unknown fields kept");

      const dead = await store.findDeadLetters(10);
      assert.deepEqual(dead.map((d) => d.source), ["auth-events/0/2", "auth-events/0/1"]);
      assert.equal(dead[0]!.reason, "worse");
      // Re-drive takes them out, by category, as they were kept.
      const taken = await store.takeDeadLetters(10, "invalid");
      assert.deepEqual(taken.map((d) => [d.source, d.category, d.raw]), [
        ["auth-events/0/1", "invalid", "{"],
      ]);
      assert.deepEqual((await store.findDeadLetters(10)).map((d) => d.source), ["auth-events/0/2"]);
      assert.deepEqual((await store.takeDeadLetters(10)).map((d) => d.source), ["auth-events/0/2"]);
      assert.deepEqual(await store.findDeadLetters(10), []);
    } finally {
      await store.close();
    }
  },
});

Deno.test({
  name: "MongoStore keeps a checkpoint in chunks, replaces it whole, and drops the old chunks",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const database = unique("db");
    const store = await MongoStore.connect({
      uri: mongoUri(),
      database,
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
      checkpoint_chunk_chars: 1_000,
    });
    const { MongoClient } = await import("mongodb");
    const raw = new MongoClient(mongoUri());
    try {
      assert.equal(await store.loadCheckpoint("g/3"), null);
      const image = JSON.stringify({ actors: [["user:é", "x".repeat(5_400)]] });
      const first = {
        id: "g/3",
        offsets: { "vigil.auth-events": 120, "vigil.transactions": 7 },
        partitions: 12,
        image,
        created_at: new Date(Date.UTC(2026, 0, 5)).toISOString(),
      };
      await store.saveCheckpoint(first);
      assert.deepEqual(await store.loadCheckpoint("g/3"), first);
      const chunks = raw.db(database).collection("checkpoint_chunks");
      assert.equal(await chunks.countDocuments({ checkpoint: "g/3" }), 6);

      const second = { ...first, offsets: { "vigil.auth-events": 300 }, image: "{}" };
      await store.saveCheckpoint(second);
      assert.deepEqual(await store.loadCheckpoint("g/3"), second);
      assert.equal(await chunks.countDocuments({ checkpoint: "g/3" }), 1, "old chunks removed");
      assert.equal(await store.loadCheckpoint("g/4"), null);
    } finally {
      await raw.close();
      await store.close();
    }
  },
});

Deno.test({
  name:
    "MongoStore keeps the notifications outbox: queued once, leased to one claimer, claimable again when the lease runs out, gone when done",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const store = await MongoStore.connect({
      uri: mongoUri(),
      database: unique("db"),
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
    });
    try {
      const t = Date.UTC(2026, 0, 5);
      const item = (id: string) => ({
        id: `webhook:${id}`,
        target: "webhook",
        alert: alert(id, "auth.brute_force", "alice", t),
      });
      await store.queueNotifications([item("n1"), item("n2")]);
      await store.queueNotifications([item("n1")]); // again: still one
      const now = Date.now();
      const claimed = await store.claimNotifications("webhook", now, 60_000, 10);
      assert.deepEqual(claimed.map((c) => c.id).sort(), ["webhook:n1", "webhook:n2"]);
      assert.deepEqual(claimed.find((c) => c.id === "webhook:n1")!.alert.alert_id, "n1");
      assert.deepEqual(
        await store.claimNotifications("webhook", now + 1, 60_000, 10),
        [],
        "leased",
      );
      assert.deepEqual(await store.claimNotifications("slack", now, 60_000, 10), [], "per target");
      const later = await store.claimNotifications("webhook", now + 60_001, 60_000, 1);
      assert.equal(later.length, 1, "the lease ran out (its process died): claimable again");
      await store.doneNotifications(["webhook:n1", "webhook:n2"]);
      assert.deepEqual(await store.claimNotifications("webhook", now + 999_999, 1, 10), []);
    } finally {
      await store.close();
    }
  },
});

/** Two stores (as two processes) on one fresh database, both closed after `fn`. */
async function twoStores(fn: (one: MongoStore, two: MongoStore) => Promise<void>) {
  const database = unique("db");
  const connect = () =>
    MongoStore.connect({
      uri: mongoUri(),
      database,
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
      max_incident_members: 100,
    });
  const [one, two] = await Promise.all([connect(), connect()]);
  try {
    await fn(one, two);
  } finally {
    await one.close();
    await two.close();
  }
}

Deno.test({
  name:
    "MongoStore folds incidents: two processes writing the same alerts at once give replay's incidents",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    twoStores(async (one, two) => {
      const t = Date.UTC(2026, 0, 5, 9);
      const campaign = {
        id: "c0ffee0000000001",
        anchor: { type: "ip", key: "203.0.113.9" },
        episode: "ip.password_spray:7",
      };
      // Two campaigns' worth of alerts on one incident, and each user's own hour.
      const alerts: Alert[] = [];
      for (let k = 0; k < 40; k++) {
        const user = `u${k % 5}`;
        const a = alert(`a${String(k).padStart(2, "0")}`, "auth.brute_force", user, t + k * 60_000);
        a.severity = k === 18 ? "critical" : "medium";
        a.incident = k % 2 === 0 ? campaign : {
          id: `user-${user}`,
          anchor: { type: "user", key: user },
          episode: "window:2026-01-05T09:00:00.000Z",
        };
        alerts.push(a);
      }
      const expected = incidentsOf(alerts, { max_incident_members: 100 });
      // Each process saves every alert (a resend after a crash), in its own order and batches.
      const save = async (store: MongoStore, order: Alert[], batch: number) => {
        for (let i = 0; i < order.length; i += batch) {
          await store.saveIncidents(await store.saveAlerts(order.slice(i, i + batch)));
        }
      };
      await Promise.all([save(one, alerts, 3), save(two, [...alerts].reverse(), 4)]);
      const stored = (await one.findIncidents({ limit: 100 })).map((i) => ({ ...i, version: 1 }))
        .sort((a, b) => a.incident_id < b.incident_id ? -1 : 1);
      assert.deepEqual(stored, expected);
      assert.deepEqual(await one.saveIncidents(alerts), [], "nothing new: nothing written");
      // Filters and paging, as the memory store answers them.
      const ids = (list: { incident_id: string }[]) => list.map((i) => i.incident_id);
      const all = await one.findIncidents({ limit: 100 });
      assert.deepEqual(ids(all), ids([...expected].sort(newestFirst)));
      const queries: Omit<IncidentQuery, "limit">[] = [
        { min_severity: "critical" },
        { min_severity: "medium" },
        { entity_type: "user", entity_key: "u1" },
        { entity_type: "ip", entity_key: "203.0.113.9" },
        { entity_type: "ip", entity_key: "u1" },
        { since_ms: t + 38 * 60_000 },
        { rule: "auth.brute_force", min_severity: "high" },
      ];
      for (const q of queries) {
        // As the embedded store answers it (incidentMatches), and not everything or nothing.
        const want = ids(expected.filter((i) => incidentMatches(i, q)).sort(newestFirst));
        assert.deepEqual(
          ids(await one.findIncidents({ limit: 100, ...q })),
          want,
          JSON.stringify(q),
        );
      }
      assert.deepEqual(
        ids(await one.findIncidents({ limit: 100, entity_type: "user", entity_key: "u1" })),
        ["user-u1", campaign.id],
        "u1's own hour, and the campaign that named it",
      );
      assert.equal((await one.findIncidents({ limit: 100, rule: "net.port_scan" })).length, 0);
      const paged: string[] = [];
      let before: string | undefined;
      while (paged.length <= all.length) {
        const page = await one.findIncidents({ limit: 2, ...(before ? { before } : {}) });
        if (page.length === 0) break;
        paged.push(...ids(page));
        before = page[page.length - 1]!.incident_id;
      }
      assert.deepEqual(paged, ids(all));
      await assert.rejects(one.findIncidents({ limit: 1, before: "nope" }), /No incident nope/);
      const got = await two.getIncident(campaign.id);
      assert.equal(got?.alert_count, 20);
      assert.equal(got?.severity, "critical");
      assert.equal(await two.getIncident("nope"), null);
      const members = await two.findAlerts({ limit: 100, incident_id: campaign.id });
      assert.deepEqual(members.map((a) => a.alert_id).sort(), got!.alert_ids);
    }),
});

Deno.test({
  name:
    "MongoStore keeps triage by revision: the first write inserts, a stale one is refused, two at once: one wins",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    twoStores(async (one, two) => {
      const t = Date.UTC(2026, 0, 5, 9);
      await one.saveAlerts([alert("a1", "auth.brute_force", "alice", t)]);
      assert.equal((await two.getAlert("a1"))?.entity.key, "alice");
      assert.equal(await two.getAlert("nope"), null);
      const at = new Date(t).toISOString();
      const limits = { max_triage_notes: 5, max_note_chars: 100, max_assignee_chars: 20 };
      const acked = applyTriage(UNTOUCHED, { status: "acknowledged" }, "ana", at, limits);
      assert.deepEqual(await one.getTriages("alert", ["a1"]), new Map());
      // Two first writes at once: the unique id lets one in.
      const firsts = await Promise.all([
        one.saveTriage("alert", "a1", acked),
        two.saveTriage("alert", "a1", { ...acked, assignee: "bo" }),
      ]);
      assert.deepEqual(firsts.sort(), [false, true]);
      const stored = (await one.getTriages("alert", ["a1", "a2"])).get("a1")!;
      assert.equal(stored.revision, 1);
      const next = applyTriage(stored, { status: "resolved", label: "benign" }, "ana", at, limits);
      assert.equal(await two.saveTriage("alert", "a1", next), true);
      assert.equal(await one.saveTriage("alert", "a1", next), false, "revision 1 is gone");
      assert.deepEqual((await one.getTriages("alert", ["a1"])).get("a1"), next);
      assert.deepEqual(await one.getTriages("incident", ["a1"]), new Map(), "kinds apart");
    }),
});

Deno.test({
  name:
    "MongoStore keeps suppressions: one per id (ended in place), newest first, seen by another process",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    twoStores(async (one, two) => {
      const s = (id: string, created: string) => ({
        id,
        rule: "net.port_scan",
        entity_type: null,
        entity_key: null,
        cidr: "198.18.0.0/15",
        reason: "the scanner we run",
        author: "ana",
        starts_at: "2026-01-05T09:00:00.000Z",
        expires_at: "2026-01-05T10:00:00.000Z",
        created_at: created,
        incident_id: null,
      });
      await one.saveSuppression(s("a", "2026-01-05T09:00:00.000Z"));
      await one.saveSuppression(s("b", "2026-01-05T09:01:00.000Z"));
      await one.saveSuppression({
        ...s("a", "2026-01-05T09:00:00.000Z"),
        expires_at: "2026-01-05T09:30:00.000Z",
      });
      const seen = await two.findSuppressions(10);
      assert.deepEqual(seen.map((x) => x.id), ["b", "a"]);
      assert.equal(seen[1]!.expires_at, "2026-01-05T09:30:00.000Z", "ended in place");
      assert.deepEqual((await two.findSuppressions(1)).map((x) => x.id), ["b"]);
    }),
});

Deno.test({
  name:
    "MongoStore appends the audit log: newest first, filtered and paged, an entry written twice kept once, seen by another process",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    twoStores(async (one, two) => {
      const who = { name: "ana", role: "analyst" as const };
      const t0 = Date.UTC(2026, 0, 5, 9);
      const entries = [0, 1, 2, 3].map((i) =>
        auditEntry(
          i === 3 ? { name: "system", role: "system" } : who,
          i % 2 === 0 ? "incident.triage" : "suppression.create",
          { kind: i % 2 === 0 ? "incident" : "suppression", id: `t${i % 2}` },
          i === 0 ? null : { n: i - 1 },
          { n: i },
          t0 + i * 1_000,
        )
      );
      for (const e of entries) await one.appendAudit(e);
      await two.appendAudit(entries[1]!); // a retried request
      const all = await two.findAudit({ limit: 10 });
      assert.deepEqual(all.map((e) => e.after), [{ n: 3 }, { n: 2 }, { n: 1 }, { n: 0 }]);
      assert.deepEqual(all[3], entries[0], "kept as written");
      const page = await two.findAudit({ limit: 2 });
      const rest = await two.findAudit({ limit: 2, before: page[1]!.id });
      assert.deepEqual([...page, ...rest].map((e) => e.id), all.map((e) => e.id));
      assert.deepEqual(
        (await two.findAudit({ limit: 10, principal: "system" })).map((e) => e.after),
        [{ n: 3 }],
      );
      assert.deepEqual(
        (await two.findAudit({ limit: 10, action: "incident.triage", target_id: "t0" }))
          .map((e) => e.after),
        [{ n: 2 }, { n: 0 }],
      );
      assert.deepEqual(
        (await two.findAudit({ limit: 10, since_ms: t0 + 2_000 })).map((e) => e.after),
        [{ n: 3 }, { n: 2 }],
      );
    }),
});

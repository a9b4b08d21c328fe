import assert from "node:assert/strict";
import type { Alert } from "../../events/types.ts";
import { MongoStore } from "../../io/mongo_store.ts";
import { mongoUri, unique } from "./servers.ts";

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
        },
        {
          source: "auth-events/0/2",
          reason: "worse",
          raw: "[",
          raw_bytes: 1,
          at: new Date(t).toISOString(),
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
    } finally {
      await store.close();
    }
  },
});

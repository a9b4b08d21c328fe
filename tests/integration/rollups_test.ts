/**
 * The roll-ups on the real MongoDB wire protocol (mongo-java-server): the aggregation
 * pipelines give, hour by hour and day by day, the rows the in-memory rule gives over the
 * same archive and alerts; a re-run replaces rows instead of adding to them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MongoStore } from "../../io/mongo_store.ts";
import { daysOf, HOUR_MS, rollupEvents } from "../../io/rollups.ts";
import type { ArchivedEvent } from "../../io/store.ts";
import type { Alert } from "../../events/types.ts";
import { seededRandom } from "../../actors/random.ts";
import { mongoUri, unique } from "./servers.ts";

const T0 = Date.UTC(2026, 11, 6, 20); // two days: the 6th from 20:00, the 7th to 04:00

function history(): { events: ArchivedEvent[]; alerts: Alert[] } {
  const r = seededRandom(11);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const events: ArchivedEvent[] = [];
  for (let i = 0; i < 2_000; i++) {
    const ts = T0 + Math.floor(r() * 8 * HOUR_MS);
    const kind = pick(["auth", "transaction", "transaction", "click", "log", "flow"] as const);
    const raw: Record<string, unknown> = { kind };
    if (kind === "auth") raw.type = pick(["login_success", "login_failure", "logout"]);
    if (kind === "transaction") {
      raw.type = pick(["payment", "transfer"]);
      raw.status = pick(["success", "success", "success", "declined", "failed"]);
      raw.amount = Math.round(Math.exp(r() * 12) * 100) / 100;
    }
    if (kind === "click") raw.page = pick(["/", "/login", "/transfer"]);
    if (kind === "log") Object.assign(raw, { level: pick(["INFO", "ERROR"]), service: "ledger" });
    events.push({ event_id: `r${i}`, kind, ts, raw });
  }
  const alerts: Alert[] = Array.from({ length: 120 }, (_, i) => {
    const ts = T0 + Math.floor(r() * 8 * HOUR_MS);
    return {
      alert_id: `al${i}`,
      rule: pick(["auth.brute_force", "tx.rapid_transfers"]),
      severity: pick(["medium", "high"] as const),
      entity: { type: "user", key: `u${i % 7}` },
      timestamp: new Date(ts).toISOString(),
      detected_at: new Date(ts + 10).toISOString(),
      evidence: {},
      event_ids: [],
      mode: "enforce",
    };
  });
  return { events, alerts };
}

Deno.test({
  name:
    "MongoDB's roll-up pipelines give the hours and days the in-memory rule gives; a re-run replaces",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { events, alerts } = history();
    const store = await MongoStore.connect({
      uri: mongoUri(),
      database: unique("rollups"),
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
    });
    try {
      await store.archiveEvents(events);
      await store.saveAlerts(alerts);
      const range = { from_ms: T0, to_ms: T0 + 8 * HOUR_MS };
      const hours = rollupEvents(events, alerts, range);
      const days = daysOf(hours);
      const written = await store.rollups.rollup(range.from_ms, range.to_ms);
      assert.equal(written, hours.length + days.length);
      const q = { from_ms: T0 - 86_400_000, to_ms: T0 + 86_400_000 };
      assert.deepEqual(await store.rollups.find({ period: "hour", ...q }, 10_000), hours);
      assert.deepEqual(await store.rollups.find({ period: "day", ...q }, 10_000), days);
      // What the rows mean: every event and alert counted once, in its hour.
      const total = (rows: typeof hours, kind: string) =>
        rows.filter((x) => x.kind === kind).reduce((n, x) => n + x.count, 0);
      for (const kind of ["auth", "transaction", "click", "log", "flow"]) {
        assert.equal(total(hours, kind), events.filter((e) => e.kind === kind).length, kind);
        assert.equal(total(days, kind), total(hours, kind), kind);
      }
      assert.equal(total(days, "alert"), alerts.length);
      assert.deepEqual(days.map((d) => d.start_ms).filter((v, i, a) => a.indexOf(v) === i), [
        Date.UTC(2026, 11, 6),
        Date.UTC(2026, 11, 7),
      ]);
      // Later events of one hour, rolled up again: that hour's rows are replaced.
      const late: ArchivedEvent = {
        event_id: "late",
        kind: "transaction",
        ts: T0 + 30 * 60_000,
        raw: { type: "payment", status: "success", amount: 42 },
      };
      await store.archiveEvents([late]);
      await store.rollups.rollup(T0, T0 + HOUR_MS);
      const again = rollupEvents([...events, late], alerts, range);
      assert.deepEqual(await store.rollups.find({ period: "hour", ...q }, 10_000), again);
      assert.deepEqual(await store.rollups.find({ period: "day", ...q }, 10_000), daysOf(again));
    } finally {
      await store.close();
    }
  },
});

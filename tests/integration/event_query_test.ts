/**
 * `Store.findEvents` on the real MongoDB wire protocol (mongo-java-server) answers every
 * filter, range and page as the in-memory store does over the same archive, newest first
 * by event time then id, and pages through all of a user's events without a repeat.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MongoStore } from "../../io/mongo_store.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import type { ArchivedEvent, EventQuery, Store } from "../../io/store.ts";
import { seededRandom } from "../../actors/random.ts";
import { mongoUri, unique } from "./servers.ts";

const T0 = Date.UTC(2026, 11, 7, 8);
const USERS = ["alice", "bob", "carol"];
const IPS = ["203.0.113.1", "203.0.113.2", "198.51.100.3"];

/** 600 events of every kind over two hours, some at the same millisecond. */
function archive(): ArchivedEvent[] {
  const r = seededRandom(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const out: ArchivedEvent[] = [];
  for (let i = 0; i < 600; i++) {
    const ts = T0 + Math.floor(r() * 7_200) * 1_000;
    const kind = pick(["auth", "transaction", "flow", "click", "log"] as const);
    const raw: Record<string, unknown> = { kind, event_id: `e${i}` };
    if (kind === "auth") Object.assign(raw, { user_id: pick(USERS), ip: pick(IPS) });
    if (kind === "transaction") {
      Object.assign(raw, { user_id: pick(USERS), account_id: `a-${pick(USERS)}`, amount: i });
    }
    if (kind === "flow") Object.assign(raw, { src_ip: pick(IPS), dst_ip: pick(IPS) });
    if (kind === "click") Object.assign(raw, { page: pick(["/", "/login"]) });
    if (kind === "log") Object.assign(raw, { service: pick(["ledger", "web"]), level: "INFO" });
    out.push({ event_id: `e${String(i).padStart(3, "0")}`, kind, ts, raw });
  }
  return out;
}

/** Every page of a query, following each page's last event. */
async function allPages(store: Store, q: EventQuery): Promise<string[]> {
  const ids: string[] = [];
  let after: EventQuery["after"];
  for (let pages = 0; pages < 1_000; pages++) {
    const page = await store.findEvents({ ...q, ...(after ? { after } : {}) });
    ids.push(...page.map((e) => e.event_id));
    if (page.length < q.limit) return ids;
    const last = page.at(-1)!;
    after = { ts: last.ts, event_id: last.event_id };
  }
  throw new Error("no last page");
}

Deno.test({
  name: "findEvents on MongoDB answers each filter, range and page as the in-memory store does",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const events = archive();
    const mongo = await MongoStore.connect({
      uri: mongoUri(),
      database: unique("events"),
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
    });
    const memory = new MemoryStore({ max_alerts: 10, max_dead_letters: 10_000 });
    try {
      for (let i = 0; i < events.length; i += 100) {
        await mongo.archiveEvents(events.slice(i, i + 100));
        await memory.archiveEvents(events.slice(i, i + 100));
      }
      const queries: EventQuery[] = [
        { limit: 50 },
        { limit: 1_000, kind: "auth" },
        { limit: 1_000, match: { user_id: "alice" } },
        {
          limit: 1_000,
          match: { user_id: "alice" },
          from_ms: T0 + 1_800_000,
          to_ms: T0 + 5_400_000,
        },
        { limit: 1_000, match: { ip: "203.0.113.2" } },
        { limit: 1_000, kind: "flow", match: { ip: "198.51.100.3" } },
        { limit: 1_000, match: { account_id: "a-bob" } },
        { limit: 1_000, match: { service: "web" }, kind: "log" },
        { limit: 1_000, match: { page: "/login" }, from_ms: T0 + 3_600_000 },
        { limit: 1_000, match: { user_id: "nobody" } },
      ];
      for (const q of queries) {
        const want = await memory.findEvents(q);
        const got = await mongo.findEvents(q);
        assert.deepEqual(got, want, JSON.stringify(q));
      }
      // The in-memory answers are what the query means.
      const alice = await memory.findEvents(queries[3]!);
      assert.ok(alice.length > 10, `${alice.length} of alice's events in the hour`);
      for (const e of alice) {
        assert.equal(e.raw.user_id, "alice");
        assert.ok(e.ts >= T0 + 1_800_000 && e.ts < T0 + 5_400_000);
      }
      const expected = events.filter((e) =>
        e.raw.user_id === "alice" && e.ts >= T0 + 1_800_000 && e.ts < T0 + 5_400_000
      ).sort((a, b) => b.ts - a.ts || (a.event_id < b.event_id ? 1 : -1));
      assert.deepEqual(alice, expected);
      const byIp = await memory.findEvents(queries[4]!);
      assert.ok(byIp.some((e) => e.kind === "flow") && byIp.some((e) => e.kind === "auth"));
      // Pages of 7 go through all of alice's events once each, on both stores.
      const everyAlice = { limit: 7, match: { user_id: "alice" } };
      const whole = (await memory.findEvents({ ...everyAlice, limit: 10_000 })).map((e) =>
        e.event_id
      );
      assert.deepEqual(await allPages(memory, everyAlice), whole);
      assert.deepEqual(await allPages(mongo, everyAlice), whole);
      assert.equal(new Set(whole).size, whole.length);
    } finally {
      await mongo.close();
    }
  },
});

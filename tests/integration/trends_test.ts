/**
 * Issue 17's "done when", on the real MongoDB wire protocol: a day and a half of simulated
 * logins and payments go in through the API of a system on MongoDB (the archive on by
 * default there), `main.ts aggregate --from --to` rolls them up in a process of its own,
 * and then `GET /api/v1/stats` shows yesterday's and today's logins and transactions as the
 * simulator made them, and `GET /api/v1/events` gives one user's events over an hour.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";
import { MongoStore } from "../../io/mongo_store.ts";
import { Simulator } from "../../sim/simulator.ts";
import { mongoUri, unique } from "./servers.ts";

const TOKEN = "trends-token";
const DAY = 86_400_000;

Deno.test({
  name:
    "yesterday's and today's login and transaction trends from the roll-ups, and one user's hour of events, on MongoDB",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const now = Date.now();
    const yesterday = Math.floor(now / DAY) * DAY - DAY;
    const start = Math.max(yesterday + 12 * 3_600_000, now - 36 * 3_600_000);
    const sim = new Simulator({
      seed: 17,
      users: 200,
      start_ms: start,
      events_per_second: 0.25,
      attack_interval_s: 0,
    });
    const events = sim.take(1_000_000, now - 60_000);
    assert.ok(events.length > 10_000, `${events.length} events`);
    const database = unique("trends");
    const env = { MONGODB_URI: mongoUri(), VIGIL_IO_MONGODB_DATABASE: database };
    const config = loadConfig(env);
    assert.equal(config.io.archive_raw_events, true, "the archive is on with MongoDB");
    config.aggregate.enabled = false; // the back-fill below does it
    const store = await MongoStore.connect({
      uri: env.MONGODB_URI,
      database,
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
    });
    const system = new VigilSystem({ config, token: TOKEN, store });
    await system.start({ simulate: false });
    const call = async (path: string, init: RequestInit = {}) => {
      const res = await system.app.request(path, {
        ...init,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      });
      return { status: res.status, json: await res.json() };
    };
    try {
      for (let i = 0; i < events.length; i += 2_000) {
        const r = await call("/api/v1/events", {
          method: "POST",
          body: JSON.stringify(events.slice(i, i + 2_000)),
        });
        assert.equal(r.status, 202, JSON.stringify(r.json).slice(0, 500));
        assert.equal(r.json.rejected, 0, JSON.stringify(r.json.errors));
      }
      const deadline = Date.now() + 60_000;
      for (;;) {
        const n = (await store.findEvents({ limit: 1_000_000 })).length;
        if (n === events.length) break;
        if (Date.now() > deadline) assert.fail(`${n} of ${events.length} events archived`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // The back-fill, as an operator runs it.
      const cmd = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "main.ts",
          "aggregate",
          "--from",
          new Date(yesterday).toISOString(),
          "--to",
          String(now),
        ],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(cmd.stdout);
      assert.equal(cmd.code, 0, new TextDecoder().decode(cmd.stderr));
      assert.match(out, /^ok: .* rows in \d+ ms$/m);

      // Yesterday and today, per day: the simulator's own counts.
      const stats = await call(`/api/v1/stats?period=day&from=${yesterday}&to=${now}`);
      assert.equal(stats.status, 200, JSON.stringify(stats.json));
      assert.equal(stats.json.last_run.outcome, "ok");
      for (const day of [yesterday, yesterday + DAY]) {
        const ofDay = events.filter((e) => {
          const t = Date.parse(e.timestamp);
          return t >= day && t < day + DAY;
        });
        const count = (kind: string, type: string) =>
          stats.json.rows.filter((r: { start_ms: number; kind: string; type: string }) =>
            r.start_ms === day && r.kind === kind && r.type === type
          ).reduce((n: number, r: { count: number }) => n + r.count, 0);
        const logins = ofDay.filter((e) => e.kind === "auth" && e.type === "login_success").length;
        const payments = ofDay.filter((e) => e.kind === "transaction" && e.type === "payment");
        assert.ok(
          logins > 100 && payments.length > 20,
          `${logins} logins, ${payments.length} payments`,
        );
        assert.equal(count("auth", "login_success"), logins, new Date(day).toISOString());
        assert.equal(count("transaction", "payment"), payments.length);
      }
      const totals = stats.json.totals;
      assert.equal(totals.events.auth + totals.events.transaction, events.length);
      const declined = totals.amounts.find((a: { status: string }) => a.status === "declined");
      assert.ok(declined?.count > 0 && declined.p50 > 0, JSON.stringify(totals.amounts));
      // Hourly rows for today's trend.
      const hours = await call(
        `/api/v1/stats?period=hour&kind=auth&from=${yesterday + DAY}&to=${now}`,
      );
      assert.ok(hours.json.rows.length >= Math.min(12, Math.floor((now % DAY) / 3_600_000)));

      // One user over an hour.
      const user = String(events[Math.floor(events.length / 2)]!.user_id);
      const from = Date.parse(events[Math.floor(events.length / 2)]!.timestamp) - 30 * 60_000;
      const want = events.filter((e) =>
        e.user_id === user && Date.parse(e.timestamp) >= from &&
        Date.parse(e.timestamp) < from + 3_600_000
      ).map((e) => e.event_id).reverse();
      const got = await call(`/api/v1/events?user_id=${user}&from=${from}&to=${from + 3_600_000}`);
      assert.equal(got.status, 200);
      assert.deepEqual(
        [...got.json.events.map((e: { event_id: string }) => e.event_id)].sort(),
        [...want].sort(),
      );
      assert.ok(want.length > 0);
    } finally {
      await system.stop();
    }
  },
});

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
import { mongoUri, unique } from "./servers.ts";
import { assertTrends, simulatedDays } from "./trend_checks.ts";
import { appOf } from "../../api/system_app.ts";

const TOKEN = "trends-token";

Deno.test({
  name:
    "yesterday's and today's login and transaction trends from the roll-ups, and one user's hour of events, on MongoDB",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const now = Date.now();
    const { yesterday, events } = simulatedDays(now);
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
      const res = await appOf(system).request(path, {
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

      await assertTrends((path) => call(path), events, yesterday, now);
    } finally {
      await system.stop();
    }
  },
});

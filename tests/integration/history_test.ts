/**
 * `deno task start`'s trends on the embedded store (issue 17): the simulator's history
 * since the start of yesterday is counted in the roll-ups (not detected, not kept), the
 * backfill and the live part go through the pipeline into the archive's counts, and
 * `GET /api/v1/stats` per day then equals what the same simulator makes for yesterday and
 * today. The clock stands still, so the live part is the backfill alone.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Clock, systemClock } from "../../actors/clock.ts";
import { loadConfig } from "../../config/load.ts";
import { rollupRange } from "../../engine/rollup_job.ts";
import { VigilSystem } from "../../engine/system.ts";
import { DAY_MS } from "../../io/rollups.ts";
import { type SimEvent, Simulator } from "../../sim/simulator.ts";
import { TOKEN, waitFor } from "../api/system.ts";
import { appOf } from "../../api/system_app.ts";

Deno.test({
  name:
    "start on the embedded store: yesterday's and today's trends from the simulated history and the live pipeline",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  const now = Date.now();
  const clock: Clock = { ...systemClock, now: () => now };
  const config = loadConfig({});
  Object.assign(config.simulator, {
    users: 300,
    events_per_second: 1,
    attack_interval_s: 0,
    flows_per_second: 0,
    clicks_per_second: 0,
    backfill_s: 600,
    payment_outage_after_s: 0,
    history_days: 1,
  });
  config.io.archive_raw_events = true;
  config.aggregate.enabled = false;
  const s = config.simulator;
  const from = Math.floor(now / DAY_MS) * DAY_MS - DAY_MS;
  const live = now - s.backfill_s * 1000;
  const made = (start_ms: number, to: number): SimEvent[] => [
    ...new Simulator({
      seed: s.seed,
      users: s.users,
      start_ms,
      events_per_second: s.events_per_second,
      attack_interval_s: 0,
    }).until(to),
  ];
  // What the simulator makes: the history up to the backfill, then the backfill.
  const expected = [...made(from, live), ...made(live, now)];
  const backfill = expected.length - made(from, live).length;
  assert.ok(backfill > 300, `${backfill} events in the backfill`);

  const system = new VigilSystem({ config, token: TOKEN, clock });
  await system.start({ simulate: true });
  try {
    await waitFor(
      "the history's roll-up",
      async () =>
        (await system.store.findJobRuns("rollup", 5)).some((r) => r.by === "simulated history") ||
        undefined,
      60_000,
    );
    await waitFor(
      "the backfill archived",
      async () => (await system.store.findArchived(100_000)).length >= backfill || undefined,
      30_000,
    );
    const run = await rollupRange(system.store, from, now, "test", clock.now);
    assert.equal(run.outcome, "ok");

    const res = await appOf(system).request(`/api/v1/stats?period=day&from=${from}&to=${now + 1}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    assert.equal(res.status, 200);
    const stats = await res.json();
    for (const day of [from, from + DAY_MS]) {
      const ofDay = expected.filter((e) => {
        const t = Date.parse(e.timestamp);
        return t >= day && t < day + DAY_MS;
      });
      const rows = stats.rows.filter((r: { start_ms: number }) => r.start_ms === day);
      const count = (kind: string, type?: string) =>
        rows.filter((r: { kind: string; type: string }) =>
          r.kind === kind && (type === undefined || r.type === type)
        ).reduce((n: number, r: { count: number }) => n + r.count, 0);
      const date = new Date(day).toISOString().slice(0, 10);
      for (const type of ["login_success", "login_failure", "logout"]) {
        const want = ofDay.filter((e) => e.kind === "auth" && e.type === type).length;
        assert.equal(count("auth", type), want, `${date} ${type}`);
      }
      const payments = ofDay.filter((e) => e.kind === "transaction");
      assert.equal(count("transaction"), payments.length, `${date} transactions`);
      const sum = payments.reduce((n, e) => n + Number(e.amount), 0);
      const got = rows.filter((r: { kind: string }) => r.kind === "transaction")
        .reduce((n: number, r: { amount_sum: number }) => n + r.amount_sum, 0);
      assert.ok(Math.abs(got - sum) < 1e-3 * Math.max(1, sum), `${date} amounts ${got} ≠ ${sum}`);
    }
    // The history is counted, not kept: the raw archive holds the backfill only.
    const kept = await system.store.findArchived(100_000);
    assert.equal(kept.length, backfill);
  } finally {
    await system.stop();
  }
});

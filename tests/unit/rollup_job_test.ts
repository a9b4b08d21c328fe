import assert from "node:assert/strict";
import { MemoryStore } from "../../io/memory_store.ts";
import { defaults } from "../../config/defaults.ts";
import { ROLLUP_JOB, RollupJob, rollupRange } from "../../engine/rollup_job.ts";
import { amountQuantile, HOUR_MS } from "../../io/rollups.ts";
import type { JobRun } from "../../io/store.ts";
import { totalsOf } from "../../api/stats.ts";

const T0 = Date.UTC(2026, 11, 7, 9);

function store(): MemoryStore {
  return new MemoryStore({ max_alerts: 100, max_dead_letters: 1_000 });
}

Deno.test("RollupJob: one of two processes runs it under the lease; the next run goes on from the last", async () => {
  const s = store();
  let now = T0;
  await s.archiveEvents([
    { event_id: "a", kind: "auth", ts: T0 - 3 * HOUR_MS, raw: { type: "login_success" } },
    { event_id: "b", kind: "auth", ts: T0 - 30 * 60_000, raw: { type: "logout" } },
  ]);
  const seen: JobRun[] = [];
  const job = (owner: string) =>
    new RollupJob(s, defaults.aggregate, {
      owner,
      now: () => now,
      telemetry: { rollupRan: (run) => seen.push(run) },
    });
  const one = job("w1"), two = job("w2");
  const first = await one.runOnce();
  assert.equal(first?.outcome, "ok");
  assert.equal(first?.from, new Date(T0 - defaults.aggregate.first_lookback_ms).toISOString());
  assert.equal(await two.runOnce(), null, "the lease is w1's");
  now += 5 * 60_000;
  const next = await one.runOnce();
  assert.equal(next?.from, new Date(T0 - defaults.aggregate.lookback_ms).toISOString());
  assert.equal(next?.to, new Date(now).toISOString());
  // Once w1's lease runs out, w2 takes over.
  now += defaults.aggregate.lease_ms + 1;
  assert.equal((await two.runOnce())?.by, "w2");
  assert.deepEqual(seen.map((r) => r.by), ["w1", "w1", "w2"]);
  assert.deepEqual((await s.findJobRuns(ROLLUP_JOB, 10)).map((r) => r.by), ["w2", "w1", "w1"]);
  const rows = await s.findRollups({ period: "hour", from_ms: T0 - 86_400_000, to_ms: T0 }, 100);
  assert.deepEqual(rows.map((r) => [r.start_ms, r.type, r.count]), [
    [T0 - 3 * HOUR_MS, "login_success", 1],
    [T0 - HOUR_MS, "logout", 1],
  ]);
});

Deno.test("RollupJob: a store that fails makes a failed run, recorded and told", async () => {
  const s = store();
  s.rollup = () => Promise.reject(new Error("disk full"));
  const seen: JobRun[] = [];
  const run = await new RollupJob(s, defaults.aggregate, {
    owner: "w1",
    now: () => T0,
    telemetry: { rollupRan: (r) => seen.push(r) },
  }).runOnce();
  assert.equal(run?.outcome, "failed");
  assert.equal(run?.error, "disk full");
  assert.equal(seen[0]?.outcome, "failed");
  assert.equal((await s.findJobRuns(ROLLUP_JOB, 1))[0]?.outcome, "failed");
  const direct = await rollupRange(s, T0 - HOUR_MS, T0, "cli");
  assert.equal(direct.outcome, "failed");
});

Deno.test("the roll-ups' totals: events per kind, alerts per rule and severity, amount percentiles from the buckets", async () => {
  const s = store();
  const amounts = [3, 8, 15, 40, 90, 150, 400, 900, 2_500, 60_000];
  await s.archiveEvents(amounts.map((amount, i) => ({
    event_id: `t${i}`,
    kind: "transaction",
    ts: T0 + i * 60_000,
    raw: { type: "payment", status: "success", amount },
  })));
  await s.saveAlerts([{
    alert_id: "al1",
    rule: "tx.large_amount",
    severity: "high",
    entity: { type: "user", key: "u1" },
    timestamp: new Date(T0 + 5 * 60_000).toISOString(),
    detected_at: new Date(T0 + 5 * 60_000).toISOString(),
    evidence: {},
    event_ids: ["t9"],
    mode: "enforce",
  }]);
  const run = await rollupRange(s, T0, T0 + HOUR_MS, "cli");
  assert.equal(run.outcome, "ok");
  assert.equal(run.rows, 4, "an hour and a day, of transactions and of alerts");
  const days = await s.findRollups({
    period: "day",
    from_ms: T0 - 86_400_000,
    to_ms: T0 + 86_400_000,
  }, 10);
  const totals = totalsOf(days);
  assert.deepEqual(totals.events, { transaction: 10 });
  assert.deepEqual(totals.alerts_by_rule, { "tx.large_amount": 1 });
  assert.deepEqual(totals.alerts_by_severity, { high: 1 });
  const [pay] = totals.amounts;
  assert.equal(pay?.count, 10);
  assert.equal(pay?.sum, amounts.reduce((a, b) => a + b, 0));
  // The median lies in the bucket of the 5th and 6th amounts (50 < x ≤ 100 and 100 < x ≤ 200).
  assert.ok(pay!.p50! > 50 && pay!.p50! <= 200, String(pay?.p50));
  assert.ok(pay!.p99! > 50_000 && pay!.p99! <= 100_000, String(pay?.p99));
  // Four amounts in (2, 5]: the median halfway through it.
  assert.equal(amountQuantile([0, 0, 4], 0.5), 3.5, "interpolated within its bucket");
  assert.equal(amountQuantile([], 0.5), null);
});

/**
 * Test helper for issue 17's "done when": a day and a half of simulated logins and
 * payments, and the checks that a system's `GET /api/v1/stats` shows them per day as the
 * simulator made them and `GET /api/v1/events` gives one user's hour of them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type SimEvent, Simulator } from "../../sim/simulator.ts";

export const DAY = 86_400_000;

/** A GET of the system's API: its status and JSON body. */
// deno-lint-ignore no-explicit-any
export type Call = (path: string) => Promise<{ status: number; json: any }>;

/**
 * The first of the two days checked (UTC) and the simulated events from its noon (at most
 * 36 h back) to a minute ago. The two days are yesterday and today, or, in the first 6
 * hours of a day, when today holds too few events to check, the day before and yesterday.
 */
export function simulatedDays(now: number): { yesterday: number; events: SimEvent[] } {
  const today = Math.floor(now / DAY) * DAY;
  const yesterday = now - today < 6 * 3_600_000 ? today - 2 * DAY : today - DAY;
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
  return { yesterday, events };
}

/**
 * The per-day logins and payments of yesterday and today in the stats as in `events`
 * (all of them counted, declined amounts with percentiles), hourly rows for today, and
 * one user's events over an hour.
 */
export async function assertTrends(
  call: Call,
  events: SimEvent[],
  yesterday: number,
  now: number,
): Promise<void> {
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
  const hours = await call(`/api/v1/stats?period=hour&kind=auth&from=${yesterday + DAY}&to=${now}`);
  assert.ok(hours.json.rows.length >= Math.min(12, Math.floor((now % DAY) / 3_600_000)));

  // One user over an hour.
  const middle = events[Math.floor(events.length / 2)]!;
  const user = String(middle.user_id);
  const from = Date.parse(middle.timestamp) - 30 * 60_000;
  const want = events.filter((e) =>
    e.user_id === user && Date.parse(e.timestamp) >= from &&
    Date.parse(e.timestamp) < from + 3_600_000
  ).map((e) => e.event_id);
  const got = await call(`/api/v1/events?user_id=${user}&from=${from}&to=${from + 3_600_000}`);
  assert.equal(got.status, 200);
  assert.ok(want.length > 0);
  assert.deepEqual(
    got.json.events.map((e: { event_id: string }) => e.event_id).sort(),
    want.map(String).sort(),
  );
}

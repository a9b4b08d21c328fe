/**
 * The one rule of an event's time (`events/timeliness.ts`) that the intake dead-letters
 * by and the HTTP ingest answers by.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  aheadOfClock,
  futureReason,
  isLate,
  lateReason,
  timeliness,
} from "../../events/timeliness.ts";

const bounds = { now_ms: 1_000_000, max_future_ms: 600_000 };

Deno.test("isLate() is strictly older than the watermark: at the watermark is in time", () => {
  assert.equal(isLate(99, 100), true);
  assert.equal(isLate(100, 100), false);
  assert.equal(isLate(101, 100), false);
  assert.equal(isLate(0, -Infinity), false, "a lane with no event yet takes anything");
});

Deno.test("aheadOfClock() is how far ahead past the margin, null within it", () => {
  assert.equal(aheadOfClock(1_600_000, 1_000_000, 600_000), null, "exactly the margin is in time");
  assert.equal(aheadOfClock(1_600_001, 1_000_000, 600_000), 600_001);
  assert.equal(aheadOfClock(0, 1_000_000, 600_000), null, "the past is never future");
});

Deno.test("timeliness() judges future first, then late against the watermark when given", () => {
  const table: [number, number | undefined, ReturnType<typeof timeliness>][] = [
    [1_000_000, 999_000, { verdict: "on_time" }],
    [998_000, 999_000, { verdict: "late", behind_ms: 1_000, watermark_ms: 999_000 }],
    [998_000, undefined, { verdict: "on_time" }],
    [998_000, -Infinity, { verdict: "on_time" }],
    [1_700_000, 1_800_000, { verdict: "future", ahead_ms: 700_000, max_future_ms: 600_000 }],
  ];
  for (const [event_ms, watermark_ms, want] of table) {
    const b = watermark_ms === undefined ? bounds : { ...bounds, watermark_ms };
    assert.deepEqual(timeliness(event_ms, b), want, `event ${event_ms}, watermark ${watermark_ms}`);
  }
});

Deno.test("the reasons name the event, the amounts and what to do", () => {
  assert.equal(
    futureReason("e1", 700_000, 600_000),
    "Cannot accept event e1: its time is 700000 ms ahead of the clock (more than the " +
      "allowed 600000 ms); check the producer's clock",
  );
  assert.equal(
    lateReason("e2", 1_000, "user", 3),
    "Cannot accept event e2: it is 1000 ms older than the user watermark of partition 3 " +
      "(past the allowed lateness)",
  );
});

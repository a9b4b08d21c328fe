/**
 * Watermark holds (`actors/holds.ts`): the table's bounds and order, and a runtime lane
 * kept at or below a held time until the hold is released or runs out.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VirtualClock } from "../../actors/clock.ts";
import { laneId, WatermarkHolds } from "../../actors/holds.ts";
import { ActorRuntime } from "../../actors/runtime.ts";
import type { Behaviour } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";

Deno.test("WatermarkHolds.floor() is the lowest time held on a lane, per lane", () => {
  const h = new WatermarkHolds(10, 1_000);
  assert.equal(h.floor(laneId(0, "user")), Infinity);
  h.place(0, "user", "a", 500, 0);
  h.place(0, "user", "b", 300, 0);
  h.place(1, "user", "c", 100, 0);
  h.place(0, "ip", "a", 50, 0);
  assert.equal(h.floor("0/user"), 300);
  assert.equal(h.floor("1/user"), 100);
  assert.equal(h.floor("0/ip"), 50);
  assert.deepEqual(h.release("user", "b"), { partition: 0, type: "user" });
  assert.equal(h.floor("0/user"), 500);
  assert.equal(h.release("user", "b"), null, "released once");
  assert.equal(h.floor("0/ip"), 50, "another type's hold of the same event stays");
  assert.equal(h.size, 3);
});

Deno.test("WatermarkHolds is bounded: full, place() refuses; holds run out after max_hold_ms", () => {
  const h = new WatermarkHolds(2, 1_000);
  assert.equal(h.place(0, "user", "a", 1, 0), true);
  assert.equal(h.place(0, "user", "b", 2, 500), true);
  assert.equal(h.hasRoom(1), false);
  assert.equal(h.place(0, "user", "c", 3, 600), false);
  assert.equal(h.nextExpiry(), 1_000);
  assert.deepEqual(h.expire(999), []);
  assert.deepEqual(h.expire(1_000), [{ partition: 0, type: "user" }]);
  assert.equal(h.size, 1);
  assert.equal(h.floor("0/user"), 2);
  assert.equal(h.nextExpiry(), 1_500);
  assert.equal(h.release("user", "a"), null, "an expired hold is gone");
  h.clearPartition(0);
  assert.equal(h.size, 0);
  assert.equal(h.floor("0/user"), Infinity);
});

Deno.test("WatermarkHolds keeps its heaps near its live holds when most are released", () => {
  const h = new WatermarkHolds(100_000, 60_000);
  h.place(0, "user", "keep", 0, 0);
  for (let i = 0; i < 10_000; i++) {
    h.place(0, "user", `e${i}`, i + 1, 0);
    h.release("user", `e${i}`);
  }
  assert.equal(h.size, 1);
  assert.equal(h.floor("0/user"), 0);
  assert.equal(h.release("user", "keep")?.type, "user");
  assert.equal(h.floor("0/user"), Infinity);
});

const sink: Behaviour<null, unknown> = {
  type: "t",
  initial: () => null,
  receive: () => ({ state: null, effects: [] }),
};

function runtime(holds: WatermarkHolds, clock: VirtualClock) {
  const c = structuredClone(defaults) as Config;
  c.runtime.partitions = 1;
  c.runtime.allowed_lateness_ms = 1_000;
  return new ActorRuntime({
    behaviours: [sink],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock,
    holds,
  });
}

Deno.test("ActorRuntime keeps a held lane's watermark at the held time until released, then moves it on", () => {
  const clock = new VirtualClock(0);
  const rt = runtime(new WatermarkHolds(10, 5_000), clock);
  assert.equal(rt.hold(0, "t", "e1", 10_000), true);
  assert.equal(rt.holding, true);
  rt.deliverEvent("t", "k", {}, 60_000, null);
  assert.equal(rt.watermark(0, "t"), 10_000, "held at the event's time, not 59,000");
  const late = rt.deliverEvent("t", "k", {}, 10_000, null);
  assert.equal(late, null, "the held event is not late");
  rt.releaseHold("t", "e1");
  assert.equal(rt.holding, false);
  assert.equal(rt.watermark(0, "t"), 59_000, "released: where it would have been");
});

Deno.test("ActorRuntime.expireHolds() lets a lane go on once its hold has run out", () => {
  const clock = new VirtualClock(0);
  const rt = runtime(new WatermarkHolds(10, 5_000), clock);
  rt.hold(0, "t", "e1", 10_000);
  rt.deliverEvent("t", "k", {}, 60_000, null);
  clock.advance(4_999);
  rt.expireHolds();
  assert.equal(rt.watermark(0, "t"), 10_000);
  clock.advance(1);
  rt.expireHolds();
  assert.equal(rt.watermark(0, "t"), 59_000);
  assert.notEqual(rt.deliverEvent("t", "k", {}, 10_000, null), null, "late now: nothing holds it");
});

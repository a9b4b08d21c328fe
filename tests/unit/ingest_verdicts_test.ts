/**
 * The ingest's judgement of one event (`engine/ingest_verdicts.ts`): the lanes it goes
 * to, late or future by the shared rule, and forwarded where a lane is owned elsewhere.
 *
 * @module
 */

import assert from "node:assert/strict";
import { IP } from "../../actors/ip.ts";
import { USER } from "../../actors/user.ts";
import { destinationsOf, judgeEvent, type LaneView } from "../../engine/ingest_verdicts.ts";
import { parseEvent } from "../../events/validate.ts";
import type { VigilEvent } from "../../events/types.ts";

const NOW = 10_000_000;
const MAX_FUTURE = 600_000;

function event(ts: number): VigilEvent {
  const p = parseEvent(JSON.stringify({
    kind: "auth",
    type: "login_failure",
    user_id: "u1",
    ip: "192.0.2.1",
    event_id: "e1",
    timestamp: ts,
  }));
  if (!p.ok) throw new Error(p.reason);
  return p.event;
}

/** Users on partition 0, IPs on partition 1; `owned` the partitions known here. */
const view = (owned: number[], watermark = -Infinity): LaneView => ({
  partitionFor: (key) => key === "u1" ? 0 : 1,
  owns: (p) => owned.includes(p),
  watermark: () => watermark,
});

Deno.test("destinationsOf() is the event's actor, and its IP's for a re-keyed login attempt", () => {
  const e = event(NOW);
  assert.deepEqual(destinationsOf(e, true), [{ type: USER, key: "u1" }, {
    type: IP,
    key: "192.0.2.1",
  }]);
  assert.deepEqual(destinationsOf(e, false), [{ type: USER, key: "u1" }]);
});

Deno.test("judgeEvent(): accepted holds every lane; late and future name the rule's reason", () => {
  const e = event(NOW);
  const to = destinationsOf(e, true);
  assert.deepEqual(judgeEvent(e, to, view([0, 1]), NOW, MAX_FUTURE), {
    verdict: "accepted",
    holds: [{ partition: 0, type: USER }, { partition: 1, type: IP }],
  });
  const late = judgeEvent(e, to, view([0, 1], NOW + 5), NOW, MAX_FUTURE);
  assert.deepEqual(late, {
    verdict: "late",
    reason: "Cannot accept event e1: it is 5 ms older than the user watermark of partition 0 " +
      "(past the allowed lateness)",
  });
  const ahead = event(NOW + MAX_FUTURE + 1);
  assert.equal(judgeEvent(ahead, to, view([0, 1]), NOW, MAX_FUTURE).verdict, "future");
});

Deno.test("judgeEvent(): a lane owned by another worker makes the event forwarded, with why, and the owned lanes held", () => {
  const e = event(NOW);
  const to = destinationsOf(e, true);
  const j = judgeEvent(e, to, view([0]), NOW, MAX_FUTURE);
  assert.equal(j.verdict, "forwarded");
  assert.ok(j.verdict === "forwarded");
  assert.deepEqual(j.holds, [{ partition: 0, type: USER }]);
  assert.match(j.reason, /ip partition 1 is owned by another worker/);
  assert.match(j.reason, /watermark is not known here/);
  // Not owned at all: forwarded, unless the clock alone says it is too far ahead.
  assert.equal(judgeEvent(e, to, view([]), NOW, MAX_FUTURE).verdict, "forwarded");
  const ahead = event(NOW + MAX_FUTURE + 1);
  assert.equal(judgeEvent(ahead, to, view([]), NOW, MAX_FUTURE).verdict, "future");
});

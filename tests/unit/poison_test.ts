/**
 * Poisonous entities: actors whose turn throws on every message. Each is isolated (its
 * messages dead-lettered with the error, the key quarantined when it keeps failing), the
 * rest goes on, and nothing a flood of them does stops the runtime.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VirtualClock } from "../../actors/clock.ts";
import { ActorRuntime, type Escalation, type RuntimeOptions } from "../../actors/runtime.ts";
import { Ticket } from "../../actors/ticket.ts";
import type { Behaviour, Effect } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { replayStrategy } from "../../engine/replay.ts";
import type { DeadLetter } from "../../events/types.ts";

type Msg = { poison?: boolean; timer?: number } | { fired: true };

/** Counts its turns; throws on a poisonous message, as a behaviour with a bug would. */
function poisonable() {
  const turns = { n: 0 };
  const behaviour: Behaviour<number, Msg> = {
    type: "p",
    initial: () => 0,
    receive(state, m) {
      turns.n++;
      if ("poison" in m && m.poison) throw new TypeError("b.recent is not iterable");
      const effects: Effect[] = [];
      if ("timer" in m && m.timer !== undefined) {
        effects.push({ kind: "timer", name: "t", at_ms: m.timer, message: { fired: true } });
      }
      return { state: state + 1, effects };
    },
  };
  return { behaviour, turns };
}

function setup(tune: (c: Config) => void = () => {}, over: Partial<RuntimeOptions> = {}) {
  const c = structuredClone(defaults) as Config;
  c.runtime.allowed_lateness_ms = 0;
  tune(c);
  const clock = new VirtualClock(1_000_000);
  const dead: DeadLetter[] = [];
  const escalations: Escalation[] = [];
  const { behaviour, turns } = poisonable();
  const rt = new ActorRuntime({
    behaviours: [behaviour],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock,
    random: () => 0.5,
    deadLetters: { deadLetter: (d) => dead.push(d) },
    onEscalation: (e) => escalations.push(e),
    ...over,
  });
  /** Lets backoff delays pass (processing time) until nothing is in flight. */
  const settle = async () => {
    for (let i = 0; i < 50 && rt.stats().inflight > 0; i++) {
      clock.advance(1_000);
      for (let k = 0; k < 5; k++) await Promise.resolve();
    }
    await rt.whenIdle();
  };
  return { rt, clock, dead, escalations, turns, c, settle };
}

const at = (key: string) => ({ type: "p", key });

Deno.test("A flood of poisonous messages for 1,000 keys dead-letters each with its error, the other keys go on, and the runtime holds rather than stops", async () => {
  const { rt, dead, escalations, settle } = setup((c) => {
    c.supervision.max_failures_per_partition = 20;
    c.supervision.max_partition_restarts = 3;
  });
  for (let i = 0; i < 1_000; i++) rt.deliver(at(`bad-${i}`), { poison: true });
  await settle();
  assert.equal(dead.length, 1_000);
  for (const d of dead) {
    assert.match(d.reason, /^Actor p:bad-\d+ failed 4 times: b\.recent is not iterable$/);
    assert.equal(d.category, "failed");
  }
  assert.ok(escalations.length > 0, "partitions escalated");
  for (const e of escalations) {
    assert.match(e.actor, /^p:bad-\d+$/);
    assert.equal(e.partition, rt.partitionFor(e.actor.slice(2)));
    assert.equal(e.error, "b.recent is not iterable");
  }
  assert.ok(escalations.some((e) => e.action === "hold"), "past the root's intensity it holds");
  for (let i = 0; i < 100; i++) rt.deliver(at(`good-${i}`), {});
  await settle();
  for (let i = 0; i < 100; i++) assert.equal(await rt.stateOf("p", `good-${i}`), 1, `good-${i}`);
  assert.equal(dead.length, 1_000, "nothing of the good keys is dead-lettered");
});

Deno.test("A flood of one poisonous key: quarantined after a few messages, the rest dead-lettered without a turn, a couple of partition failures only", async () => {
  const { rt, dead, escalations, turns, settle } = setup((c) => {
    c.supervision.max_failures_per_partition = 2;
  });
  rt.deliver(at("good"), {});
  for (let i = 0; i < 1_000; i++) rt.deliver(at("bad"), { poison: true }); // fits the mailbox
  await settle();
  assert.equal(dead.length, 1_000, "every message of the key is dead-lettered");
  assert.match(dead[0]!.reason, /failed 4 times: b\.recent is not iterable/);
  assert.match(dead[1]!.reason, /quarantined after repeated failures: b\.recent is not iterable/);
  assert.ok(dead.slice(1).every((d) => d.category === "quarantined"));
  assert.equal(turns.n, 1 + 6, "the good turn, four tries of the first message, two of the second");
  assert.deepEqual(escalations, [], "two messages failed: not past the partition's intensity");
  assert.equal(rt.stats().quarantined, 1);
  rt.deliver(at("good"), {});
  assert.equal(await rt.stateOf("p", "good"), 2);
});

Deno.test("A quarantined actor's own timer does not wake it: the timer's message is dead-lettered", async () => {
  const { rt, dead, turns, settle } = setup();
  rt.deliverEvent("p", "bad", { timer: 2_000 }, 1_000, null);
  for (let i = 0; i < 2; i++) rt.deliver(at("bad"), { poison: true });
  await settle();
  assert.equal(rt.stats().quarantined, 1);
  const before = turns.n;
  rt.advanceWatermark(rt.partitionFor("bad"), 5_000);
  await rt.whenIdle();
  assert.equal(turns.n, before, "no turn");
  assert.equal(dead.at(-1)!.category, "quarantined");
  assert.equal(dead.at(-1)!.raw, '{"fired":true}');
});

Deno.test("replayStrategy() retries a failed message at once: its batch settles on a virtual clock that does not move", async () => {
  const { clock, dead, c } = setup();
  const replaying = new ActorRuntime({
    behaviours: [poisonable().behaviour],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock,
    strategyOf: () => replayStrategy(c.supervision),
    deadLetters: { deadLetter: (d) => dead.push(d) },
  });
  const ticket = new Ticket();
  replaying.deliver(at("bad"), { poison: true }, ticket);
  replaying.deliver(at("bad"), {}, ticket);
  await ticket.settled(); // would wait for ever with a backoff on the virtual clock
  assert.equal(clock.pending, 0, "nothing waits for processing time");
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.reason, /failed 4 times/);
  assert.equal(await replaying.stateOf("p", "bad"), 1, "the next message goes on");
});

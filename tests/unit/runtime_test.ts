import assert from "node:assert/strict";
import { VirtualClock } from "../../actors/clock.ts";
import { MemorySnapshots } from "../../actors/ports.ts";
import { seededRandom } from "../../actors/random.ts";
import { ActorRuntime, type Escalation, type RuntimeOptions } from "../../actors/runtime.ts";
import { Ticket } from "../../actors/ticket.ts";
import type { Behaviour, Effect } from "../../actors/types.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import type { Alert, DeadLetter } from "../../events/types.ts";
import type { Strategy } from "../../supervisors/strategy.ts";

type Msg = {
  n: number;
  fail?: boolean;
  slow?: number;
  /** Score without holding the actor (a detached `infer`). */
  aside?: number;
  alert?: boolean;
  timer?: number;
  after?: number;
};
type S = { seen: number[] };

const recorder: Behaviour<S, Msg | { fired: string }> = {
  type: "rec",
  initial: () => ({ seen: [] }),
  receive(state, m, ctx) {
    if ("fired" in m) return { state: { seen: [...state.seen, -1] }, effects: [] };
    if (m.fail) throw new Error(`boom ${m.n}`);
    const effects: Effect[] = [];
    if (m.slow) {
      effects.push({
        kind: "infer",
        model: "m",
        features: new Float32Array([m.slow]),
        reply: () => ({ fired: "reply" }),
      });
    }
    if (m.aside) {
      effects.push({
        kind: "infer",
        model: "m",
        features: new Float32Array([m.aside]),
        reply: () => ({ fired: `scored ${m.n}` }),
        detached: true,
      });
    }
    if (m.alert) {
      effects.push({
        kind: "alert",
        alert: {
          rule: "test.rule",
          severity: "low",
          entity: { type: "rec", key: ctx.self.key },
          ts: 1_000,
          evidence: {},
          event_ids: [String(m.n)],
          dedup: String(m.n),
        },
      });
    }
    if (m.after !== undefined) {
      effects.push({
        kind: "processing_timer",
        name: "p",
        after_ms: m.after,
        message: { fired: "p" },
      });
    }
    if (m.timer !== undefined) {
      effects.push({ kind: "timer", name: "t", at_ms: m.timer, message: { fired: "t" } });
    }
    return { state: { seen: [...state.seen, m.n] }, effects };
  },
};

function setup(over: Partial<RuntimeOptions> = {}, tune: (c: Config) => void = () => {}) {
  const c = structuredClone(defaults) as Config;
  c.runtime.partitions = 4;
  c.runtime.mailbox_capacity = 2;
  c.runtime.allowed_lateness_ms = 0;
  tune(c);
  const clock = new VirtualClock(10_000);
  const alerts: Alert[] = [];
  const dead: DeadLetter[] = [];
  const snapshots = new MemorySnapshots();
  const rt = new ActorRuntime({
    behaviours: [recorder],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock,
    random: seededRandom(7),
    snapshots,
    alertSink: { publish: (a) => alerts.push(a) },
    deadLetters: { deadLetter: (d) => dead.push(d) },
    inference: {
      infer: (_m, f) => new Promise((r) => clock.setTimeout(() => r(f), f[0]!)),
    },
    ...over,
  });
  return { rt, clock, alerts, dead, snapshots, c };
}

const at = (key: string) => ({ type: "rec", key });
const seen = async (rt: ActorRuntime, key: string) => ((await rt.stateOf("rec", key)) as S).seen;
const tick = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

Deno.test("ActorRuntime.deliver() runs one message at a time per key while a turn awaits a model", async () => {
  const { rt, clock } = setup();
  rt.deliver(at("a"), { n: 1, slow: 50 });
  rt.deliver(at("a"), { n: 2 });
  rt.deliver(at("b"), { n: 1 });
  await tick();
  assert.deepEqual(await seen(rt, "a"), [], "a's slow turn has not committed yet");
  assert.deepEqual(await seen(rt, "b"), [1], "b is not held up by a");
  clock.advance(50);
  await tick();
  assert.deepEqual(await seen(rt, "a"), [1, -1, 2], "the reply comes before the next message");
  await rt.whenIdle();
});

Deno.test("A detached model turn takes effect at once; its reply comes behind what arrived meanwhile, in the asking message's batch", async () => {
  const { rt, clock, dead } = setup();
  const ticket = new Ticket();
  rt.deliver(at("a"), { n: 1, aside: 50 }, ticket);
  rt.deliver(at("a"), { n: 2 }, ticket);
  await tick();
  assert.deepEqual(await seen(rt, "a"), [1, 2], "the actor did not wait for the score");
  let settled = false;
  ticket.settled().then(() => settled = true);
  await tick();
  assert.equal(settled, false, "the batch waits for the reply");
  clock.advance(50);
  await tick();
  assert.deepEqual(await seen(rt, "a"), [1, 2, -1], "the reply, after the message behind it");
  assert.equal(settled, true);
  assert.deepEqual(dead, []);

  // A score that fails is dead-lettered; the batch still ends.
  const failing = setup({ inference: { infer: () => Promise.reject(new Error("no session")) } });
  const t2 = new Ticket();
  failing.rt.deliver(at("b"), { n: 1, aside: 1 }, t2);
  await t2.settled();
  assert.deepEqual(await seen(failing.rt, "b"), [1]);
  assert.equal(failing.dead.length, 1);
  assert.match(failing.dead[0]!.reason, /Cannot score for rec:b: no session/);
  assert.equal(failing.dead[0]!.category, "failed");
  await failing.rt.whenIdle();
});

Deno.test("A detached reply of null is not delivered: no turn, and the batch still ends", async () => {
  const quiet: Behaviour<number, { n: number } | { scored: number }> = {
    type: "rec",
    initial: () => 0,
    receive(state, m) {
      if ("scored" in m) return { state: state + 100, effects: [] };
      return {
        state: state + 1,
        effects: [{
          kind: "infer",
          model: "m",
          features: new Float32Array([m.n]),
          detached: true,
          reply: (scores) => scores[0]! > 5 ? { scored: scores[0]! } : null,
        }],
      };
    },
  };
  const { rt, clock, dead } = setup({ behaviours: [quiet] });
  const ticket = new Ticket();
  rt.deliver(at("a"), { n: 1 }, ticket);
  rt.deliver(at("a"), { n: 9 }, ticket);
  for (let i = 0; i < 3; i++) {
    clock.advance(10);
    await tick();
  }
  await ticket.settled();
  await rt.whenIdle();
  assert.equal(await rt.stateOf("rec", "a"), 102, "two turns, one reply delivered");
  assert.deepEqual(dead, []);
});

Deno.test("A turn awaiting two scores commits once both are in, their replies in the effects' order; a reply that throws fails the turn", async () => {
  type M = { n: number; bad?: boolean } | { reply: string };
  const two: Behaviour<string[], M> = {
    type: "rec",
    initial: () => [],
    receive(state, m) {
      if ("reply" in m) return { state: [...state, m.reply], effects: [] };
      const infer = (model: string, after: number): Effect => ({
        kind: "infer",
        model,
        features: new Float32Array([after]),
        reply: (scores) => {
          if (m.bad && model === "y") throw new Error("cannot read the score");
          return { reply: `${model}${m.n}:${scores[0]}` };
        },
      });
      return { state: [...state, `n${m.n}`], effects: [infer("x", 30), infer("y", 10)] };
    },
  };
  const { rt, clock, dead } = setup({ behaviours: [two] }, (c) => {
    c.supervision.max_message_retries = 0;
  });
  rt.deliver(at("a"), { n: 1 });
  rt.deliver(at("a"), { n: 2, bad: true });
  rt.deliver(at("a"), { n: 3 });
  for (let i = 0; i < 12; i++) {
    clock.advance(10);
    await tick();
  }
  await rt.whenIdle();
  // 2's turn failed on its reply: not committed, dead-lettered; 3 went on.
  assert.deepEqual(await rt.stateOf("rec", "a"), ["n1", "x1:30", "y1:10", "n3", "x3:30", "y3:10"]);
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.reason, /cannot read the score/);
});

Deno.test("A score a message can name ahead of its turn is asked for on admission: queued messages are scored together, each turn takes its own", async () => {
  type M = { n: number } | { scored: number; p: number };
  const scorer: Behaviour<number[], M> = {
    type: "rec",
    initial: () => [],
    receive(state, m) {
      if ("scored" in m) return { state: [...state, m.scored * 100 + m.p], effects: [] };
      return {
        state: [...state, m.n],
        effects: [{
          kind: "infer",
          model: "m",
          features: new Float32Array([m.n]),
          reply: (scores) => ({ scored: m.n, p: scores[0]! }),
        }],
      };
    },
    prefetch: (m) => "n" in m ? { model: "m", features: new Float32Array([m.n]) } : null,
  };
  const asked: number[] = [];
  let failOnce = true;
  const { rt, clock, dead } = setup({
    behaviours: [scorer],
    inference: {
      infer: (_m, f) => {
        asked.push(f[0]!);
        if (f[0] === 3 && failOnce) {
          failOnce = false;
          return Promise.reject(new Error("flaky"));
        }
        return new Promise((r) => clock.setTimeout(() => r(new Float32Array([f[0]! * 2])), 10));
      },
    },
  });
  for (const n of [1, 2, 3]) rt.deliver(at("a"), { n });
  assert.deepEqual(asked, [1, 2, 3], "all three asked for at once, not one turn after another");
  for (let i = 0; i < 6; i++) {
    clock.advance(10);
    await tick();
  }
  await rt.whenIdle();
  // 3's score failed: its turn failed and was retried, asking again (not the failed one).
  assert.deepEqual(asked, [1, 2, 3, 3]);
  assert.deepEqual(await rt.stateOf("rec", "a"), [1, 102, 2, 204, 3, 306]);
  assert.deepEqual(dead, []);
});

Deno.test("ActorRuntime.deliver() asks the sender to wait when a mailbox is full", async () => {
  const { rt, clock } = setup();
  assert.equal(rt.deliver(at("a"), { n: 1, slow: 10 }), null);
  assert.equal(rt.deliver(at("a"), { n: 2 }), null);
  assert.equal(rt.deliver(at("a"), { n: 3 }), null);
  const waiting = rt.deliver(at("a"), { n: 4 });
  assert.ok(waiting instanceof Promise, "the fourth message waits for room");
  assert.equal(rt.stats().max_mailbox_depth, 2);
  let accepted = false;
  waiting.then(() => accepted = true);
  await tick();
  assert.equal(accepted, false);
  clock.advance(10);
  await tick();
  assert.equal(accepted, true);
  await rt.whenIdle();
  assert.deepEqual(await seen(rt, "a"), [1, -1, 2, 3, 4]);
});

Deno.test("ActorRuntime tickets count a batch until every message is done", async () => {
  const { rt, clock } = setup();
  const ticket = new Ticket();
  rt.deliver(at("a"), { n: 1, slow: 5 }, ticket);
  rt.deliver(at("b"), { n: 1 }, ticket);
  assert.equal(ticket.pending, 1);
  let settled = false;
  ticket.settled().then(() => settled = true);
  clock.advance(5);
  await tick();
  assert.equal(settled, true);
});

Deno.test("ActorRuntime retries a failed message from the last good state, then dead-letters it", async () => {
  let failures = 0;
  const flaky: Behaviour<number, string> = {
    type: "flaky",
    initial: () => 0,
    receive(state, m) {
      if (m === "twice" && failures++ < 2) throw new Error("transient");
      if (m === "always") throw new Error("poison");
      return { state: state + 1, effects: [] };
    },
  };
  const { rt, clock, dead } = setup({ behaviours: [flaky] }, (c) => {
    c.supervision.max_restarts_per_key = 10;
  });
  rt.deliver({ type: "flaky", key: "k" }, "twice");
  clock.advance(10_000);
  await tick();
  assert.equal(await rt.stateOf("flaky", "k"), 1, "succeeded on the third attempt, counted once");
  rt.deliver({ type: "flaky", key: "k" }, "always");
  for (let i = 0; i < 10; i++) {
    clock.advance(2_000);
    await tick();
  }
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.reason, /failed 4 times: poison/);
  assert.equal(dead[0]!.raw, '"always"');
  assert.equal(await rt.stateOf("flaky", "k"), 1, "the poison message left the state alone");
  rt.deliver({ type: "flaky", key: "k" }, "ok");
  assert.equal(
    await rt.stateOf("flaky", "k"),
    2,
    "the actor goes on after a dead-lettered message",
  );
});

Deno.test("ActorRuntime quarantines a key that keeps failing, without stopping its partition", async () => {
  const restart: Strategy = { kind: "restart", max_retries: 0, max_restarts: 3, within_ms: 60_000 };
  const { rt, clock, dead } = setup({ strategyOf: () => restart });
  for (let n = 1; n <= 4; n++) rt.deliver(at("bad"), { n, fail: true });
  assert.equal(dead.length, 4);
  assert.doesNotMatch(dead[2]!.reason, /quarantined/, "three restarts are allowed");
  assert.match(dead[3]!.reason, /quarantined/, "the fourth failure quarantines the key");
  rt.deliver(at("bad"), { n: 4 });
  assert.equal(dead.length, 5, "a quarantined key's messages are dead-lettered");
  assert.match(dead[4]!.reason, /quarantined/);
  rt.deliver(at("good"), { n: 1 });
  assert.deepEqual(await seen(rt, "good"), [1], "other keys go on");
  assert.equal(rt.stats().quarantined, 1);
  clock.advance(defaults.supervision.quarantine_ms);
  rt.deliver(at("bad"), { n: 5 });
  assert.deepEqual(await seen(rt, "bad"), [5], "the quarantine is lifted after quarantine_ms");
});

Deno.test("ActorRuntime escalates a failing partition to the root, which restarts it, then holds past its intensity; each escalation names the actor, its partition and the error", async () => {
  const escalations: Escalation[] = [];
  const resume: Strategy = { kind: "resume" };
  const { rt } = setup(
    { strategyOf: () => resume, onEscalation: (e) => escalations.push(e) },
    (c) => {
      c.supervision.max_failures_per_partition = 2;
      c.supervision.max_partition_restarts = 1;
    },
  );
  rt.deliver(at("x"), { n: 0 });
  assert.ok(rt.isResident("rec", "x"));
  const p = rt.partitionFor("x");
  for (let n = 1; n <= 3; n++) rt.deliver(at("x"), { n, fail: true });
  assert.equal(rt.stats().partition_restarts, 1);
  assert.equal(rt.isResident("rec", "x"), false, "the partition's actors were passivated");
  assert.deepEqual(escalations, [{
    partition: p,
    actor: "rec:x",
    error: "boom 3",
    action: "restart_partition",
    reason: "",
  }]);
  rt.deliver(at("x"), { n: 4 });
  for (let n = 5; n <= 7; n++) rt.deliver(at("x"), { n, fail: true });
  assert.equal(escalations.length, 2);
  assert.equal(
    escalations[1]!.action,
    "hold",
    `partition ${p} escalated past the root's intensity`,
  );
  assert.match(escalations[1]!.reason, /escalated more than 1 times/);
  assert.equal(escalations[1]!.error, "boom 7");
  assert.equal(rt.stats().partition_restarts, 1, "held: not restarted");
  assert.ok(rt.isResident("rec", "x"), "held: its actors stay");
  rt.deliver(at("x"), { n: 8 });
  assert.deepEqual(await seen(rt, "x"), [0, 4, 8], "the actor goes on between its failures");
});

Deno.test("ActorRuntime stop strategy drops the state; resume keeps it", async () => {
  const { rt: stopRt } = setup({ strategyOf: () => ({ kind: "stop" }) });
  stopRt.deliver(at("a"), { n: 1 });
  stopRt.deliver(at("a"), { n: 2, fail: true });
  assert.deepEqual(await seen(stopRt, "a"), []);
  const { rt: resumeRt, dead } = setup({ strategyOf: () => ({ kind: "resume" }) });
  resumeRt.deliver(at("a"), { n: 1 });
  resumeRt.deliver(at("a"), { n: 2, fail: true });
  resumeRt.deliver(at("a"), { n: 3 });
  assert.deepEqual(await seen(resumeRt, "a"), [1, 3]);
  assert.equal(dead.length, 1);
});

Deno.test("ActorRuntime fires event-time timers when the partition watermark passes them", async () => {
  const { rt } = setup();
  rt.deliver(at("a"), { n: 1, timer: 5_000 });
  rt.deliver(at("a"), { n: 2, timer: 6_000 }); // replaces the first
  const p = rt.partitionFor("a");
  rt.advanceWatermark(p, 5_500);
  assert.deepEqual(await seen(rt, "a"), [1, 2], "the replaced timer does not fire");
  rt.advanceWatermark(p, 6_000);
  assert.deepEqual(await seen(rt, "a"), [1, 2, -1]);
  rt.advanceWatermark(p, 4_000);
  assert.equal(rt.watermark(p), 6_000, "watermarks never go back");
});

Deno.test("A cancel_timer effect drops the actor's pending event-time timer of that name only", async () => {
  type M = { set?: string; cancel?: string } | { fired: string };
  const b: Behaviour<string[], M> = {
    type: "rec",
    initial: () => [],
    receive(state, m) {
      if ("fired" in m) return { state: [...state, m.fired], effects: [] };
      const effects: Effect[] = [];
      if (m.set) {
        effects.push({ kind: "timer", name: m.set, at_ms: 5_000, message: { fired: m.set } });
      }
      if (m.cancel) effects.push({ kind: "cancel_timer", name: m.cancel });
      return { state, effects };
    },
  };
  const { rt } = setup({ behaviours: [b] });
  rt.deliver(at("a"), { set: "x" });
  rt.deliver(at("a"), { set: "y" });
  rt.deliver(at("b"), { set: "x" });
  rt.deliver(at("a"), { cancel: "x" });
  rt.deliver(at("a"), { cancel: "z" }); // none pending: nothing happens
  const stats = rt.stats();
  assert.equal(stats.timers, 2, "a's y and b's x are pending");
  for (const k of ["a", "b"]) rt.advanceWatermark(rt.partitionFor(k), 6_000);
  assert.deepEqual(await rt.stateOf("rec", "a"), ["y"]);
  assert.deepEqual(await rt.stateOf("rec", "b"), ["x"]);
});

Deno.test("ActorRuntime passivates idle and least recently used actors and restores them", async () => {
  const { rt, clock, snapshots } = setup({}, (c) => {
    c.runtime.max_resident_actors = 2;
    c.runtime.idle_timeout_ms = 1_000;
  });
  rt.deliver(at("a"), { n: 1 });
  clock.advance(1);
  rt.deliver(at("b"), { n: 1 });
  clock.advance(1);
  rt.deliver(at("a"), { n: 2 });
  clock.advance(1);
  rt.deliver(at("c"), { n: 1 }); // evicts b, the least recently used
  assert.equal(rt.isResident("rec", "b"), false);
  assert.ok(snapshots.map.has("rec:b"));
  assert.equal(rt.stats().resident.rec, 2);
  rt.deliver(at("b"), { n: 2 });
  assert.deepEqual(await seen(rt, "b"), [1, 2], "b came back from its snapshot");
  clock.advance(1_001);
  assert.equal(rt.sweep(), 2);
  assert.equal(rt.stats().resident.rec, 0);
  assert.deepEqual(await seen(rt, "a"), [1, 2]);
});

Deno.test("ActorRuntime's sweep goes round the actors a bounded slice at a time", async () => {
  const { rt, clock } = setup({}, (c) => {
    c.runtime.idle_timeout_ms = 1_000;
    c.runtime.sweep_max_actors = 3;
  });
  for (let i = 0; i < 10; i++) rt.deliver(at(`k${i}`), { n: 1 });
  await rt.whenIdle();
  clock.advance(1_001);
  rt.deliver(at("k5"), { n: 2 }); // active again: stays
  await rt.whenIdle();
  const passivated: number[] = [];
  for (let i = 0; i < 4; i++) passivated.push(rt.sweep());
  assert.deepEqual(passivated, [3, 2, 3, 1], "three looked at each time, k5 passed over");
  assert.equal(rt.stats().resident.rec, 1);
  assert.equal(rt.isResident("rec", "k5"), true);
  assert.equal(rt.sweep(), 0, "nothing idle is left");
});

Deno.test("ActorRuntime gives alerts deterministic ids and the rule's mode", () => {
  const run = () => {
    const { rt, alerts } = setup({ modeOf: (r) => r === "test.rule" ? "shadow" : "enforce" });
    rt.deliver(at("a"), { n: 1, alert: true });
    rt.deliver(at("a"), { n: 2, alert: true });
    return alerts;
  };
  const a = run(), b = run();
  assert.equal(a.length, 2);
  assert.deepEqual(a.map((x) => x.alert_id), b.map((x) => x.alert_id));
  assert.notEqual(a[0]!.alert_id, a[1]!.alert_id);
  assert.equal(a[0]!.mode, "shadow");
  assert.equal(a[0]!.timestamp, new Date(1_000).toISOString());
  assert.equal(a[0]!.detected_at, new Date(10_000).toISOString());
});

Deno.test("ActorRuntime fails a model turn when no model service is configured", async () => {
  const { rt, clock, dead } = setup({ inference: undefined as never }, (c) => {
    c.supervision.max_message_retries = 0;
  });
  rt.deliver(at("a"), { n: 1, slow: 1 });
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000);
    await tick();
  }
  assert.equal(dead.length, 1);
  assert.match(dead[0]!.reason, /no model service is configured/);
});

Deno.test("ActorRuntime fires processing-time timers on the injected clock, replacing by name", async () => {
  const { rt, clock } = setup();
  rt.deliver(at("a"), { n: 1, after: 100 });
  rt.deliver(at("a"), { n: 2, after: 300 }); // replaces the first
  assert.equal(rt.stats().timers, 1);
  clock.advance(200);
  assert.deepEqual(await seen(rt, "a"), [1, 2], "the replaced timer does not fire");
  rt.passivateAll();
  clock.advance(100);
  assert.deepEqual(await seen(rt, "a"), [1, 2, -1], "a timer reactivates a passivated actor");
  rt.deliver(at("b"), { n: 1, after: 10 });
  rt.cancelTimers();
  clock.advance(50);
  assert.deepEqual(await seen(rt, "b"), [1]);
  assert.equal(rt.stats().timers, 0);
});

Deno.test("ActorRuntime.advanceIdle() moves event time on only in partitions that went quiet", async () => {
  const { rt, clock } = setup();
  rt.deliverEvent("rec", "a", { n: 1, timer: 2_000 + 60_000 }, 2_000, null);
  const p = rt.partitionFor("a");
  rt.advanceIdle(1_000);
  assert.equal(rt.watermark(p), 2_000, "not quiet yet");
  clock.advance(1_000 + 60_000);
  rt.advanceIdle(1_000);
  assert.equal(rt.watermark(p), 2_000 + 60_000, "quiet for a minute past the delay");
  assert.deepEqual(await seen(rt, "a"), [1, -1], "the timer fired");
  for (let q = 0; q < rt.partitions; q++) {
    if (q !== p) {
      assert.equal(rt.watermark(q), -Infinity, "partitions that never saw an event stay put");
    }
  }
});

Deno.test("ActorRuntime.retainPartitions() forgets the actors, snapshots and timers of dropped partitions", async () => {
  const { rt, snapshots } = setup();
  const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
  for (const k of keys) rt.deliverEvent("rec", k, { n: 1, timer: 99_999 }, 1_000, null);
  rt.passivateAll();
  rt.deliver(at("a"), { n: 2 });
  const pa = rt.partitionFor("a");
  const dropped = rt.retainPartitions([pa]);
  assert.ok(!dropped.includes(pa));
  for (const k of keys) {
    const mine = rt.partitionFor(k) === pa;
    assert.equal(snapshots.map.has(`rec:${k}`) || rt.isResident("rec", k), mine, k);
    if (!mine) assert.equal(rt.watermark(rt.partitionFor(k)), -Infinity);
  }
  assert.deepEqual(await seen(rt, "a"), [1, 2]);
});

Deno.test("An actor type's watermark follows its slowest active input stream; an idle one stops holding it", () => {
  const { rt, clock, c } = setup();
  const p = rt.partitionFor("a");
  rt.deliverEvent("rec", "a", { n: 1 }, 1_000, null, "rekeyed");
  rt.deliverEvent("rec", "a", { n: 2 }, 5_000, null, "direct");
  rt.deliverEvent("rec", "a", { n: 3 }, 9_000, null, "direct");
  assert.equal(rt.watermark(p, "rec"), 1_000, "held back by the lagging stream");
  // The lagging stream's next event is not late, though the direct one ran ahead.
  assert.equal(rt.deliverEvent("rec", "a", { n: 4 }, 2_000, null, "rekeyed"), null);
  assert.equal(rt.watermark(p, "rec"), 2_000);
  rt.deliverEvent("rec", "a", { n: 5 }, 7_000, null, "rekeyed");
  assert.equal(rt.watermark(p, "rec"), 7_000);
  const late = rt.deliverEvent("rec", "a", { n: 6 }, 6_999, null, "rekeyed");
  assert.deepEqual(late, { partition: p, watermark: 7_000 }, "older than the watermark: late");
  assert.equal(rt.watermark(p, "other"), -Infinity, "other types keep their own event time");
  // The rekeyed stream goes silent past the idle delay: it holds event time back no more.
  clock.advance(c.runtime.idle_watermark_delay_ms + 1);
  rt.deliverEvent("rec", "a", { n: 7 }, 20_000, null, "direct");
  assert.equal(rt.watermark(p, "rec"), 20_000);
});

Deno.test("A numbered stream's repeated records are skipped, even when they would be late", async () => {
  const { rt } = setup();
  const p = rt.partitionFor("a");
  assert.equal(rt.deliverEvent("rec", "a", { n: 1 }, 1_000, null, "rekey/3", 10), null);
  assert.equal(rt.deliverEvent("rec", "a", { n: 2 }, 5_000, null, "rekey/3", 11), null);
  assert.deepEqual(rt.deliverEvent("rec", "a", { n: 1 }, 1_000, null, "rekey/3", 10), {
    repeat: true,
  });
  assert.deepEqual(rt.deliverEvent("rec", "a", { n: 2 }, 5_000, null, "rekey/3", 11), {
    repeat: true,
  });
  // Another source numbers its own records.
  assert.equal(rt.deliverEvent("rec", "a", { n: 3 }, 5_000, null, "rekey/4", 10), null);
  assert.equal(rt.deliverEvent("rec", "a", { n: 4 }, 6_000, null, "rekey/3", 12), null);
  assert.deepEqual(await seen(rt, "a"), [1, 2, 3, 4]);
  assert.equal(rt.watermark(p, "rec"), 5_000);
});

Deno.test("A lane waits for its expected streams until each delivers or goes idle, also after a checkpoint", async () => {
  const { rt, c } = setup({ expected_streams: { rec: ["s1", "s2"] } });
  const p = rt.partitionFor("a");
  rt.deliverEvent("rec", "a", { n: 1 }, 5_000, null, "s1");
  rt.deliverEvent("rec", "a", { n: 2 }, 9_000, null, "s1");
  assert.equal(rt.watermark(p, "rec"), -Infinity, "s2 has not delivered yet");
  assert.equal(rt.deliverEvent("rec", "a", { n: 3 }, 1_000, null, "s2"), null, "not late");
  assert.equal(rt.watermark(p, "rec"), 1_000);
  assert.deepEqual(await seen(rt, "a"), [1, 2, 3]);

  // A lane restored from a checkpoint that a stream never fed keeps waiting for it.
  const fresh = setup({ expected_streams: { rec: ["s1", "s2"] } });
  const q = fresh.rt.partitionFor("b");
  fresh.rt.deliverEvent("rec", "b", { n: 1 }, 5_000, null, "s1");
  const image = JSON.parse(JSON.stringify(fresh.rt.exportPartition(q)));
  const restored = setup({ expected_streams: { rec: ["s1", "s2"] } });
  restored.rt.importPartition(q, image);
  restored.rt.deliverEvent("rec", "b", { n: 2 }, 8_000, null, "s1");
  assert.equal(restored.rt.watermark(q, "rec"), -Infinity);
  // Idle for the delay, s2 holds event time back no more.
  restored.clock.advance(c.runtime.idle_watermark_delay_ms + 1);
  restored.rt.deliverEvent("rec", "b", { n: 3 }, 9_000, null, "s1");
  assert.equal(restored.rt.watermark(q, "rec"), 9_000);
});

Deno.test("A lane waits less for an expected stream told to (one that may stay empty)", () => {
  const { rt, clock } = setup({
    expected_streams: { rec: ["s1", "maybe-empty", "s3"] },
    expected_wait_ms: (stream) => stream === "maybe-empty" ? 30_000 : 300_000,
  });
  const p = rt.partitionFor("a");
  rt.deliverEvent("rec", "a", { n: 1 }, 5_000, null, "s1");
  rt.deliverEvent("rec", "a", { n: 2 }, 6_000, null, "s3");
  assert.equal(rt.watermark(p, "rec"), -Infinity, "waiting for the quiet one");
  clock.advance(30_001);
  rt.deliverEvent("rec", "a", { n: 3 }, 7_000, null, "s1");
  rt.deliverEvent("rec", "a", { n: 4 }, 8_000, null, "s3");
  assert.equal(rt.watermark(p, "rec"), 7_000, "30 s on, the quiet one no longer holds it");
});

Deno.test("ActorRuntime raises a message's alerts, and its model reply's, at the time it was delivered when told to (replay), else when raised", async () => {
  const alert = (rule: string, key: string) => ({
    rule,
    severity: "low" as const,
    entity: { type: "rec", key },
    ts: 1_000,
    evidence: {},
    event_ids: ["e"],
    dedup: "e",
  });
  const asker: Behaviour<null, { ask: number } | { scored: true }> = {
    type: "rec",
    initial: () => null,
    receive(state, m, ctx) {
      if ("ask" in m) {
        return {
          state,
          effects: [{
            kind: "infer",
            model: "m",
            features: new Float32Array([m.ask]),
            reply: () => ({ scored: true }),
          }, { kind: "alert", alert: alert("test.asked", ctx.self.key) }],
        };
      }
      return { state, effects: [{ kind: "alert", alert: alert("test.scored", ctx.self.key) }] };
    },
  };
  for (const alerts_at_delivery_time of [true, false]) {
    const { rt, clock, alerts } = setup({ behaviours: [asker], alerts_at_delivery_time });
    rt.deliver(at("a"), { ask: 40 });
    clock.advance(10);
    rt.deliver(at("a"), { ask: 40 }); // waits in the mailbox while the first is scored
    clock.advance(100); // both scores land meanwhile
    for (let i = 0; i < 3; i++) {
      await tick();
      clock.advance(100);
    }
    await rt.whenIdle();
    assert.deepEqual(alerts.map((a) => a.rule), [
      "test.asked",
      "test.scored",
      "test.asked",
      "test.scored",
    ]);
    const times = alerts.map((a) => Date.parse(a.detected_at) - 10_000);
    if (alerts_at_delivery_time) assert.deepEqual(times, [0, 0, 10, 10]);
    else assert.ok(times[0]! >= 40 && times[2]! > times[0]!, `${times}`);
  }
});

Deno.test("ActorRuntime: a turn rebuilding state (replay ticket) raises no alert", async () => {
  const both: Behaviour<null, { n: number }> = {
    type: "rec",
    initial: () => null,
    receive(state, m, ctx) {
      const alert = {
        kind: "alert" as const,
        alert: {
          rule: "test.plain",
          severity: "low" as const,
          entity: { type: "rec", key: ctx.self.key },
          ts: 1_000,
          evidence: {},
          event_ids: [String(m.n)],
          dedup: String(m.n),
        },
      };
      return { state, effects: [alert] };
    },
  };
  const { rt, alerts } = setup({ behaviours: [both] });
  rt.deliver(at("a"), { n: 1 }, new Ticket({ replay: true }));
  rt.deliver(at("a"), { n: 2 }, new Ticket());
  await rt.whenIdle();
  assert.deepEqual(alerts.map((a) => `${a.rule}#${a.event_ids[0]}`), ["test.plain#2"]);
});

/** Records events (`n`) and judge-like timers stamped with their watermark (`-watermark`). */
type WmMsg = { n: number; timer?: number; slow?: number } | { watermark_ms: number };
const stamper: Behaviour<S, WmMsg | { fired: string }> = {
  type: "rec",
  initial: () => ({ seen: [] }),
  receive(state, m) {
    if ("fired" in m) return { state, effects: [] };
    if ("watermark_ms" in m) {
      return { state: { seen: [...state.seen, -m.watermark_ms] }, effects: [] };
    }
    const effects: Effect[] = [];
    if (m.timer !== undefined) {
      effects.push({
        kind: "timer",
        name: "j",
        at_ms: m.timer,
        message: { j: 1 },
        watermark: true,
      });
    }
    if (m.slow !== undefined) {
      effects.push({
        kind: "infer",
        model: "m",
        features: new Float32Array([m.slow]),
        reply: () => ({ fired: "reply" }),
      });
    }
    return { state: { seen: [...state.seen, m.n] }, effects };
  },
};

Deno.test("A watermark timer comes with the watermark it fired at, fires at once when set at or below it, and keeps its stamp in a checkpoint", async () => {
  const { rt, clock } = setup({ behaviours: [stamper] });
  const p = rt.partitionFor("a");
  rt.deliverEvent("rec", "a", { n: 1, timer: 2_000 }, 1_000, null);
  rt.advanceWatermark(p, 2_500);
  assert.deepEqual(await seen(rt, "a"), [1, -2_500], "delivered with the watermark it fired at");
  // Set at or below the watermark: at once, and it replaces one still pending.
  rt.deliver(at("a"), { n: 2, timer: 9_000 });
  rt.deliver(at("a"), { n: 3, timer: 2_400 });
  rt.advanceWatermark(p, 9_500);
  assert.deepEqual(await seen(rt, "a"), [1, -2_500, 2, 3, -2_500], "once, at once");
  // A checkpoint keeps the stamp.
  rt.deliver(at("a"), { n: 4, timer: 12_000 });
  await rt.whenIdle();
  const image = rt.exportPartition(p)!;
  const other = setup({ behaviours: [stamper] }).rt;
  other.importPartition(p, image);
  other.advanceWatermark(p, 12_345);
  assert.deepEqual((await seen(other, "a")).slice(-2), [4, -12_345]);
  rt.advanceWatermark(p, 12_000);
  // Behind the senders waiting for room: a turn awaits a model, the mailbox (2) fills up,
  // two senders wait; the last one's event moves the watermark past the timer.
  rt.deliver(at("a"), { n: 5, timer: 30_000 });
  rt.deliver(at("a"), { n: 6, slow: 100 });
  for (const [n, ts] of [[7, 20_007], [8, 20_008], [9, 20_009], [10, 30_010]] as const) {
    rt.deliverEvent("rec", "a", { n }, ts, null);
  }
  clock.advance(100);
  await rt.whenIdle();
  const tail = (await seen(rt, "a")).slice(-7);
  assert.deepEqual(tail, [5, 6, 7, 8, 9, 10, -30_010], "behind every event before it");
});

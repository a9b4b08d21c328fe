import assert from "node:assert/strict";
import { type Faults, simulate, type SimulationSettings } from "./harness.ts";

/** `deno test tests/sim -- --seed=N` replays one seed. */
const only = Deno.args.find((a) => a.startsWith("--seed="));
const SEEDS = only
  ? [Number(only.slice(7))]
  : Array.from({ length: 12 }, (_, i) => 1000 + i * 7919);

const NO_FAULTS: Faults = {
  crash: 0,
  poison: 0,
  slow: 0,
  infer_error: 0,
  slow_load: 0,
  load_error: 0,
  passivation_storm: 0,
};

function settings(seed: number, faults: Partial<Faults>, more: Partial<SimulationSettings> = {}) {
  return {
    seed,
    steps: 1_500,
    keys: 40,
    producers: 6,
    mailbox_capacity: 4,
    max_resident_actors: 16,
    faults: { ...NO_FAULTS, ...faults },
    ...more,
  };
}

Deno.test("simulate() keeps every invariant with no faults", async () => {
  for (const seed of SEEDS.slice(0, 4)) {
    const r = await simulate(settings(seed, {}, { max_resident_actors: 1_000 }));
    assert.equal(r.handled, r.sent, `seed ${seed}`);
    assert.equal(r.dead_lettered, 0, `seed ${seed}`);
    assert.ok(r.sent > 1_000, `seed ${seed} sent only ${r.sent}`);
  }
});

Deno.test("simulate() keeps every invariant under crashes, slow handlers and full mailboxes", async () => {
  for (const seed of SEEDS) {
    const r = await simulate(settings(seed, { crash: 0.05, slow: 0.2, infer_error: 0.1 }));
    assert.equal(r.handled, r.sent, `seed ${seed}: transient faults must lose nothing`);
    assert.ok(
      r.max_mailbox_depth >= 4,
      `seed ${seed}: mailboxes never filled (${r.max_mailbox_depth})`,
    );
  }
});

Deno.test("simulate() dead-letters poison messages and nothing else", async () => {
  for (const seed of SEEDS.slice(0, 6)) {
    const r = await simulate(settings(seed, { poison: 0.02, crash: 0.03 }));
    assert.ok(r.dead_lettered > 0, `seed ${seed}: no poison message was drawn`);
    assert.equal(r.handled + r.dead_lettered, r.sent, `seed ${seed}`);
  }
});

Deno.test("simulate() keeps state through passivation storms, LRU eviction and flaky snapshot loads", async () => {
  for (const seed of SEEDS) {
    const r = await simulate(
      settings(seed, {
        passivation_storm: 0.05,
        slow_load: 0.3,
        load_error: 0.1,
        slow: 0.1,
        crash: 0.02,
      }, { max_resident_actors: 8 }),
    );
    assert.equal(r.handled, r.sent, `seed ${seed}`);
    assert.ok(r.passivations > 50, `seed ${seed}: only ${r.passivations} passivations`);
    assert.ok(r.activations > r.passivations - 1, `seed ${seed}`);
  }
});

Deno.test("simulate() raises each alert once", async () => {
  const r = await simulate(settings(4242, { crash: 0.1, slow: 0.3, infer_error: 0.2 }));
  // Every seventh sequence number (seq % 7 === 3) alerts; retries must not raise it again.
  assert.ok(r.alerts > 0);
  assert.equal(r.handled, r.sent);
});

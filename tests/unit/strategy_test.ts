import assert from "node:assert/strict";
import {
  type Backoff,
  backoffDelay,
  decide,
  type Directive,
  exceedsIntensity,
  type Failure,
  type Restart,
  type Strategy,
} from "../../supervisors/strategy.ts";
import { PartitionSupervisor } from "../../supervisors/partition.ts";
import { RootSupervisor } from "../../supervisors/root.ts";

const NOW = 1_000_000;

const restart: Restart = { kind: "restart", max_retries: 3, max_restarts: 5, within_ms: 60_000 };
const backoff: Backoff = {
  kind: "backoff",
  max_retries: 10,
  max_restarts: 100,
  within_ms: 60_000,
  min_ms: 10,
  max_ms: 1_000,
  jitter: 0.2,
};

/** A random source that must not be called. */
function noRandom(): number {
  throw new Error("random() was called");
}

function failure(attempt: number, restarts_ms: readonly number[] = []): Failure {
  return { attempt, restarts_ms, now_ms: NOW };
}

/** `n` restart times, 1 s apart, ending 1 s before NOW. */
function recent(n: number): number[] {
  return Array.from({ length: n }, (_, i) => NOW - (i + 1) * 1_000);
}

Deno.test("decide() answers every strategy as its table says", () => {
  const table: [string, Strategy, Failure, Directive][] = [
    ["stop on a first failure", { kind: "stop" }, failure(1), { action: "stop" }],
    ["stop however often", { kind: "stop" }, failure(9, recent(50)), { action: "stop" }],
    ["resume on a first failure", { kind: "resume" }, failure(1), { action: "resume" }],
    ["resume however often", { kind: "resume" }, failure(9, recent(50)), { action: "resume" }],
    ["restart: retry the first failure", restart, failure(1), { action: "retry", delay_ms: 0 }],
    ["restart: retry up to max_retries", restart, failure(3), { action: "retry", delay_ms: 0 }],
    ["restart: skip past max_retries", restart, failure(4), { action: "skip" }],
    ["restart: 4 recent restarts + this = 5", restart, failure(1, recent(4)), {
      action: "retry",
      delay_ms: 0,
    }],
    ["restart: 5 recent restarts + this = 6 > 5", restart, failure(1, recent(5)), {
      action: "quarantine",
    }],
    ["restart: quarantine wins over skip", restart, failure(4, recent(5)), {
      action: "quarantine",
    }],
    [
      "restart: old restarts do not count",
      restart,
      failure(1, [
        ...recent(4),
        NOW - 60_000,
        NOW - 120_000,
        NOW - 600_000,
      ]),
      { action: "retry", delay_ms: 0 },
    ],
    [
      "restart: a restart 1 ms inside the window counts",
      restart,
      failure(1, [
        ...recent(4),
        NOW - 60_000 + 1,
      ]),
      { action: "quarantine" },
    ],
    ["restart: restarts in any order", restart, failure(1, recent(5).reverse()), {
      action: "quarantine",
    }],
    ["backoff: skip past max_retries", { ...backoff, max_retries: 2 }, failure(3), {
      action: "skip",
    }],
    [
      "backoff: quarantine past max_restarts",
      { ...backoff, max_restarts: 2 },
      failure(1, recent(2)),
      {
        action: "quarantine",
      },
    ],
  ];
  for (const [name, strategy, f, expected] of table) {
    assert.deepEqual(decide(strategy, f, noRandom), expected, name);
  }
});

Deno.test("decide() retries a restart strategy until max_retries, then skips", () => {
  const actions = [1, 2, 3, 4, 5].map((attempt) => decide(restart, failure(attempt), noRandom));
  assert.deepEqual(actions.map((d) => d.action), ["retry", "retry", "retry", "skip", "skip"]);
});

Deno.test("decide() doubles backoff delays from min_ms up to max_ms", () => {
  const noJitter = { ...backoff, jitter: 0 };
  const delays = Array.from({ length: 10 }, (_, i) => {
    const d = decide(noJitter, failure(i + 1), () => 0.5);
    assert.equal(d.action, "retry");
    return d.action === "retry" ? d.delay_ms : -1;
  });
  assert.deepEqual(delays, [10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
});

Deno.test("decide() adds backoff jitter from the injected random source", () => {
  const lowest = decide(backoff, failure(3), () => 0);
  const highest = decide(backoff, failure(3), () => 0.999999);
  const half = decide(backoff, failure(3), () => 0.5);
  assert.deepEqual(lowest, { action: "retry", delay_ms: 40 });
  assert.deepEqual(highest, { action: "retry", delay_ms: 48 });
  assert.deepEqual(half, { action: "retry", delay_ms: 44 });
});

Deno.test("backoffDelay() stays within [base, base * (1 + jitter)] for any random value", () => {
  let seed = 12345;
  const random = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  for (let attempt = 1; attempt <= 12; attempt++) {
    const base = Math.min(backoff.max_ms, backoff.min_ms * 2 ** (attempt - 1));
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(backoff, attempt, random);
      assert.ok(d >= base && d <= base * (1 + backoff.jitter), `attempt ${attempt}: ${d}`);
    }
  }
});

Deno.test("backoffDelay() treats attempt 0 like attempt 1", () => {
  assert.equal(backoffDelay({ ...backoff, jitter: 0 }, 0, () => 0), 10);
});

Deno.test("exceedsIntensity() counts failures strictly inside the window and compares with >", () => {
  const table: [string, number[], number, number, number, boolean][] = [
    ["none", [], 100, 0, 10, false],
    ["max exactly", [91, 95, 100], 100, 3, 10, false],
    ["one more than max", [91, 95, 99, 100], 100, 3, 10, true],
    ["edge of the window is outside", [90, 95, 99, 100], 100, 3, 10, false],
    ["1 ms inside the edge counts", [91, 95, 99, 100], 100, 3, 10, true],
    ["old failures do not count", [1, 2, 3, 4, 5, 100], 100, 1, 10, false],
    ["max 0: any failure exceeds", [100], 100, 0, 10, true],
    ["any order", [100, 91, 99, 95], 100, 3, 10, true],
  ];
  for (const [name, failures, now, max, window, expected] of table) {
    assert.equal(exceedsIntensity(failures, now, max, window), expected, name);
  }
});

// ---------------------------------------------------------------------------------------------
// PartitionSupervisor

Deno.test("PartitionSupervisor quarantines a key until quarantine_ms has passed", () => {
  const sup = new PartitionSupervisor(3, {
    max_failures: 10,
    window_ms: 1_000,
    quarantine_ms: 500,
  });
  assert.equal(sup.partition, 3);
  assert.equal(sup.isQuarantined("user/u1", 0), false);
  sup.quarantine("user/u1", 1_000);
  assert.equal(sup.isQuarantined("user/u1", 1_000), true);
  assert.equal(sup.isQuarantined("user/u1", 1_499), true);
  assert.equal(sup.isQuarantined("user/u2", 1_200), false, "only the quarantined key");
  assert.deepEqual(sup.quarantined(1_499), ["user/u1"]);
  assert.deepEqual(sup.quarantined(1_500), []);
  assert.equal(sup.isQuarantined("user/u1", 1_500), false, "lifted at quarantine_ms");
  assert.equal(sup.isQuarantined("user/u1", 1_200), false, "an expired quarantine stays lifted");
});

Deno.test("PartitionSupervisor extends a quarantine when the key is quarantined again", () => {
  const sup = new PartitionSupervisor(0, {
    max_failures: 10,
    window_ms: 1_000,
    quarantine_ms: 500,
  });
  sup.quarantine("k", 0);
  sup.quarantine("k", 400);
  assert.equal(sup.isQuarantined("k", 800), true);
  assert.equal(sup.isQuarantined("k", 900), false);
});

Deno.test("PartitionSupervisor escalates once failures exceed max_failures within the window", () => {
  const sup = new PartitionSupervisor(0, { max_failures: 3, window_ms: 1_000, quarantine_ms: 1 });
  const escalations = [0, 100, 200, 300, 400].map((t) =>
    sup.onFailure({ kind: "resume" }, 1, [], t, noRandom).escalate
  );
  assert.deepEqual(escalations, [false, false, false, true, true]);
});

Deno.test("PartitionSupervisor does not escalate for failures spread wider than the window", () => {
  const sup = new PartitionSupervisor(0, { max_failures: 3, window_ms: 1_000, quarantine_ms: 1 });
  for (let t = 0; t < 20_000; t += 400) {
    assert.equal(sup.onFailure({ kind: "stop" }, 1, [], t, noRandom).escalate, false, `t=${t}`);
  }
});

Deno.test("PartitionSupervisor returns the strategy's directive with each failure", () => {
  const sup = new PartitionSupervisor(0, { max_failures: 100, window_ms: 1_000, quarantine_ms: 1 });
  assert.deepEqual(sup.onFailure(restart, 1, [], NOW, noRandom).directive, {
    action: "retry",
    delay_ms: 0,
  });
  assert.deepEqual(sup.onFailure(restart, 4, [], NOW, noRandom).directive, { action: "skip" });
  assert.deepEqual(sup.onFailure(restart, 1, recent(5), NOW, noRandom).directive, {
    action: "quarantine",
  });
  assert.deepEqual(sup.onFailure(backoff, 2, [], NOW, () => 0).directive, {
    action: "retry",
    delay_ms: 20,
  });
});

Deno.test("PartitionSupervisor counts a message once: its retries' failures do not count towards escalating", () => {
  const sup = new PartitionSupervisor(0, { max_failures: 2, window_ms: 1_000, quarantine_ms: 1 });
  const escalations: boolean[] = [];
  // Three messages, each failing on its first try and on three retries.
  for (let m = 0; m < 3; m++) {
    for (let attempt = 1; attempt <= 4; attempt++) {
      escalations.push(sup.onFailure(restart, attempt, [], m * 10 + attempt, noRandom).escalate);
    }
  }
  assert.deepEqual(escalations.map((e, i) => e ? i : -1).filter((i) => i >= 0), [8]);
  assert.deepEqual(sup.onFailure(restart, 4, [], 40, noRandom).directive, { action: "skip" });
});

Deno.test("PartitionSupervisor forgets its failures on reset()", () => {
  const sup = new PartitionSupervisor(0, { max_failures: 2, window_ms: 1_000, quarantine_ms: 1 });
  for (const t of [0, 1, 2]) sup.onFailure({ kind: "stop" }, 1, [], t, noRandom);
  sup.reset();
  assert.equal(sup.onFailure({ kind: "stop" }, 1, [], 3, noRandom).escalate, false);
  assert.equal(sup.onFailure({ kind: "stop" }, 1, [], 4, noRandom).escalate, false);
  assert.equal(sup.onFailure({ kind: "stop" }, 1, [], 5, noRandom).escalate, true);
});

// ---------------------------------------------------------------------------------------------
// RootSupervisor

Deno.test("RootSupervisor restarts partitions, then holds past its intensity, and restarts again once escalations are fewer", () => {
  const root = new RootSupervisor({ max_partition_restarts: 2, window_ms: 1_000 });
  assert.deepEqual(root.onEscalation(4, 0), { action: "restart_partition", partition: 4 });
  assert.deepEqual(root.onEscalation(7, 100), { action: "restart_partition", partition: 7 });
  assert.equal(root.restarts, 2);
  const third = root.onEscalation(4, 200);
  assert.equal(third.action, "hold");
  assert.equal(third.partition, 4);
  assert.match(third.action === "hold" ? third.reason : "", /more than 2 times within 1000 ms/);
  assert.equal(root.restarts, 2, "a hold is not a restart");
  assert.equal(root.onEscalation(7, 900).action, "hold");
  assert.deepEqual(root.onEscalation(7, 2_500), { action: "restart_partition", partition: 7 });
});

Deno.test("RootSupervisor keeps restarting when escalations are spread wider than its window", () => {
  const root = new RootSupervisor({ max_partition_restarts: 2, window_ms: 1_000 });
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(root.onEscalation(i % 3, i * 500), {
      action: "restart_partition",
      partition: i % 3,
    });
  }
  assert.equal(root.restarts, 20);
});

import assert from "node:assert/strict";
import { defaults, type ModelSettings } from "../../config/defaults.ts";
import { ModelError, ModelService, type ModelTelemetry, versionsOf } from "../../models/service.ts";
import { type Fixtures, scratch, variant } from "./scratch.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;
const FLOW = "flow_classifier";

const fixtures = JSON.parse(
  await Deno.readTextFile(`${MODELS}/${FLOW}/v1.fixtures.json`),
) as Fixtures;

function row(r: (number | string | null)[]): Float32Array {
  return Float32Array.from(
    r.map((v) =>
      v === null ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : Number(v)
    ),
  );
}

function settings(over: Partial<ModelSettings> = {}): ModelSettings {
  return { ...defaults.models, dir: MODELS, ...over };
}

function counting(): ModelTelemetry & { rows: number[]; active: string[] } {
  const t = {
    rows: [] as number[],
    active: [] as string[],
    inferenceBatch(_m: string, _v: string, rows: number) {
      t.rows.push(rows);
    },
    modelActivated(m: string, v: string) {
      t.active.push(`${m}@${v}`);
    },
    predictions() {},
    shadowed() {},
  };
  return t;
}

Deno.test("Each version of the flow classifier: its manifest matches its model, and Deno scores its fixtures as Python did (1e-5)", async () => {
  assert.deepEqual(await versionsOf(MODELS, FLOW), ["1", "2"]);
  for (const version of ["1", "2"]) {
    const telemetry = counting();
    const service = new ModelService(settings(), telemetry);
    try {
      const m = await service.activate(FLOW, version);
      assert.equal(m.version, version);
      assert.equal(m.features.length, 52);
      assert.deepEqual(m.input, { name: "features", dtype: "float32", shape: [-1, 52] });
      assert.deepEqual(m.output, { name: "probabilities", dtype: "float32", shape: [-1, 7] });
      assert.deepEqual(m.classes, [
        "Normal Traffic",
        "DoS",
        "DDoS",
        "Port Scanning",
        "Brute Force",
        "Bots",
        "Web Attacks",
      ]);
      const mine = JSON.parse(
        await Deno.readTextFile(`${MODELS}/${FLOW}/v${version}.fixtures.json`),
      ) as Fixtures;
      // Every fixture row through the batcher at once: one batch, the same probabilities.
      const got = await Promise.all(mine.rows.map((r) => service.infer(FLOW, row(r))));
      got.forEach((p, i) => {
        assert.equal(p.length, 7);
        p.forEach((v, j) => {
          const want = mine.probabilities[i]![j]!;
          assert.ok(
            Math.abs(v - want) <= 1e-5,
            `v${version} row ${i} class ${j}: ${v} here, ${want} in Python`,
          );
        });
      });
      assert.ok(mine.rows.some((r) => r.includes("Infinity")), "fixtures hold Infinity");
      assert.deepEqual(telemetry.rows.slice(-1), [mine.rows.length], "scored in one batch");
    } finally {
      await service.close();
    }
  }
});

Deno.test("The batcher runs at most max_batch_rows per batch, flushes a lone row after max_wait_ms, and bounds its queue", async () => {
  const telemetry = counting();
  const service = new ModelService(
    settings({ max_batch_rows: 64, max_queued_rows: 1_000 }),
    telemetry,
  );
  try {
    await service.activate(FLOW, "1");
    telemetry.rows.length = 0;
    const many = await Promise.all(
      Array.from(
        { length: 300 },
        (_, i) => service.infer(FLOW, row(fixtures.rows[i % fixtures.rows.length]!)),
      ),
    );
    assert.equal(many.length, 300);
    assert.equal(telemetry.rows.reduce((a, b) => a + b, 0), 300);
    assert.ok(telemetry.rows.every((n) => n <= 64), `batches ${telemetry.rows}`);
    const t0 = performance.now();
    await service.infer(FLOW, row(fixtures.rows[0]!));
    assert.ok(performance.now() - t0 < 1_000, "a lone row does not wait for company");
    await assert.rejects(
      service.infer(FLOW, new Float32Array(51)),
      /51 features given, 52 expected/,
    );
    await assert.rejects(service.infer("nope", new Float32Array(52)), /model nope is not loaded/);
    const flood = Array.from({ length: 1_001 }, () => service.infer(FLOW, row(fixtures.rows[1]!)));
    const settled = await Promise.allSettled(flood);
    const refused = settled.filter((s) => s.status === "rejected");
    assert.equal(refused.length, 1, "the row past max_queued_rows is refused");
    assert.match(String((refused[0] as PromiseRejectedResult).reason), /rows already wait/);
  } finally {
    await service.close();
  }
});

Deno.test("Eager scoring (replay): rows asked for in one task go in one batch as soon as it yields, without the max_wait_ms timer", async () => {
  const telemetry = counting();
  // A timer this long would outlast the test: only eager scoring answers.
  const service = new ModelService(settings({ max_wait_ms: 600_000 }), telemetry);
  try {
    await service.activate(FLOW, "1");
    telemetry.rows.length = 0;
    service.eager = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<"timer">((r) => timer = setTimeout(() => r("timer"), 5_000));
    const asked = Promise.all(
      Array.from({ length: 10 }, (_, i) => service.infer(FLOW, row(fixtures.rows[i]!))),
    );
    const got = await Promise.race([asked, guard]);
    assert.notEqual(got, "timer", "scored without waiting for max_wait_ms");
    assert.deepEqual(telemetry.rows, [10], "one batch of the ten");
    const one = await Promise.race([service.infer(FLOW, row(fixtures.rows[0]!)), guard]);
    assert.notEqual(one, "timer");
    assert.deepEqual(telemetry.rows, [10, 1]);
    clearTimeout(timer);
    service.eager = false;
    assert.equal(service.eager, false);
  } finally {
    await service.close();
  }
});

Deno.test("A malformed or mismatched model is refused with the reason, and the active one keeps serving", async () => {
  const dir = await scratch();
  const service = new ModelService(settings({ dir }));
  try {
    await service.activate(FLOW, "1");
    await variant(dir, "2", { onnx: (b) => b.slice(0, 1000) });
    await assert.rejects(
      service.activate(FLOW, "2"),
      (e) => e instanceof ModelError && /onnxruntime refused it/.test(e.message),
    );
    await variant(dir, "3", {
      hash: "keep",
      onnx: (b) => {
        const c = b.slice();
        c[c.length - 1] = c[c.length - 1]! ^ 1;
        return c;
      },
    });
    await assert.rejects(service.activate(FLOW, "3"), /has SHA-256 [0-9a-f]+, the manifest says/);
    await variant(dir, "4", {
      fixtures: (f) => {
        f.probabilities[0]![0]! += 0.01;
      },
    });
    await assert.rejects(service.activate(FLOW, "4"), /fixture row 0, class Normal Traffic/);
    await variant(dir, "5", {
      manifest: (m) => {
        (m.output as { shape: number[] }).shape = [-1, 6];
      },
    });
    await assert.rejects(service.activate(FLOW, "5"), /output width 6 for 7 classes/);
    await variant(dir, "6", {
      manifest: (m) => {
        (m.input as { name: string }).name = "x";
      },
    });
    await assert.rejects(service.activate(FLOW, "6"), /has inputs features, not x/);
    await assert.rejects(service.activate(FLOW, "9"), /Cannot load model flow_classifier v9/);
    assert.deepEqual(service.list(), { [FLOW]: "1" });
    const p = await service.infer(FLOW, row(fixtures.rows[2]!));
    assert.ok(Math.abs(p[0]! - fixtures.probabilities[2]![0]!) <= 1e-5, "v1 still serves");
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Hot reload under load: every request is answered, by one version or the other, none lost", async () => {
  const dir = await scratch();
  await variant(dir, "2");
  const telemetry = counting();
  const service = new ModelService(settings({ dir, max_batch_rows: 32 }), telemetry);
  try {
    await service.activate(FLOW, "1");
    let swapped: Promise<unknown> | null = null;
    const asked: Promise<Float32Array>[] = [];
    for (let i = 0; i < 2_000; i++) {
      const k = i % fixtures.rows.length;
      asked.push(service.infer(FLOW, row(fixtures.rows[k]!)));
      if (i === 700) swapped = service.activate(FLOW, "2");
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    const answers = await Promise.all(asked);
    await swapped;
    answers.forEach((p, i) => {
      const want = fixtures.probabilities[i % fixtures.rows.length]!;
      assert.ok(Math.abs(p[3]! - want[3]!) <= 1e-5, `answer ${i}`);
    });
    assert.deepEqual(service.list(), { [FLOW]: "2" });
    assert.deepEqual(telemetry.active, [`${FLOW}@1`, `${FLOW}@2`]);
    assert.equal(
      telemetry.rows.reduce((a, b) => a + b, 0),
      2_000,
      "each row scored once",
    );
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Drift: each feature's PSI against training is tracked per active model, and a shifted input shows", async () => {
  // Every row counted, so the rows laid out as in training are seen as they are.
  const service = new ModelService(settings({ drift_sample_every: 1 }));
  try {
    const m = await service.activate(FLOW, "1");
    assert.deepEqual(service.drift(), [{ model: FLOW, version: "1", rows: 0, features: [] }]);
    // 1,000 rows distributed over each feature's training deciles as training was: one value
    // per bin (the bin's upper edge, or past the last edge), in the training shares.
    const { edges, shares } = m.drift_baseline!;
    const N = 1_000;
    const rows = Array.from({ length: N }, (_, r) =>
      Float32Array.from(edges.map((e, j) => {
        let bin = 0, cum = shares[j]![0]!;
        while ((r + 0.5) / N > cum && bin < e.length) cum += shares[j]![++bin]!;
        return bin < e.length ? e[bin]! : e[e.length - 1]! * 2 + 1;
      })));
    await Promise.all(rows.map((r) => service.infer(FLOW, r)));
    const like = service.drift()[0]!;
    assert.equal(like.rows, N);
    assert.equal(like.features.length, 52);
    const worst = Math.max(...like.features.map((f) => f.psi));
    assert.ok(worst < 0.02, `rows like training: PSI at most ${worst}`);
    // As many again, with flows longer than any seen in training.
    const duration = m.features.indexOf("Flow Duration");
    await Promise.all(rows.map((r) => {
      const long = r.slice();
      long[duration] = 1e13;
      return service.infer(FLOW, long);
    }));
    const shifted = service.drift()[0]!;
    const psiOf = (name: string) => shifted.features.find((f) => f.feature === name)!.psi;
    assert.ok(psiOf("Flow Duration") > 0.25, `Flow Duration: ${psiOf("Flow Duration")}`);
    assert.ok(psiOf("Total Fwd Packets") < 0.02, "the other features did not move");
  } finally {
    await service.close();
  }
});

Deno.test("Shadow scoring: a candidate scores every batch beside the active version; only their agreement is counted", async () => {
  const dir = await scratch();
  await variant(dir, "2"); // the same model: agrees on every row
  // The same graph with two class names swapped: disagrees wherever DoS or DDoS wins.
  await variant(dir, "3", {
    manifest: (m) => {
      const c = m.classes as string[];
      [c[1], c[2]] = [c[2]!, c[1]!];
    },
  });
  const again = new ModelService(settings({ dir }));
  try {
    await assert.rejects(again.shadow(FLOW, "2"), /no version of it is active/);
    await again.activate(FLOW, "1");
    await again.shadow(FLOW, "2");
    const answers = await Promise.all(fixtures.rows.map((r) => again.infer(FLOW, row(r))));
    answers.forEach((p, i) => {
      assert.ok(Math.abs(p[0]! - fixtures.probabilities[i]![0]!) <= 1e-5, "the active answers");
    });
    await waitShadow(again, fixtures.rows.length);
    assert.deepEqual(again.shadowOf(FLOW), {
      version: "2",
      agree: fixtures.rows.length,
      disagree: 0,
      error: 0,
    });
    await again.shadow(FLOW, "3");
    await Promise.all(fixtures.rows.map((r) => again.infer(FLOW, row(r))));
    await waitShadow(again, fixtures.rows.length);
    const s = again.shadowOf(FLOW)!;
    // Fixture rows 1 and 2 are the DoS and DDoS medians.
    assert.equal(s.version, "3");
    assert.ok(s.disagree >= 2, `disagreements: ${s.disagree}`);
    assert.equal(s.agree + s.disagree, fixtures.rows.length);
    assert.equal(await again.unshadow(FLOW), true);
    assert.equal(again.shadowOf(FLOW), null);
    assert.equal(await again.unshadow(FLOW), false);
  } finally {
    await again.close();
    await Deno.remove(dir, { recursive: true });
  }
});

/** Waits until the shadow has compared `rows` rows (its batch runs after the answers). */
async function waitShadow(service: ModelService, rows: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const s = service.shadowOf(FLOW);
    if (s && s.agree + s.disagree + s.error >= rows) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`the shadow did not compare ${rows} rows`);
}

/**
 * Model scoring: `session.run` rows/s of the flow classifier over batch sizes 1 … 2048
 * (the ceiling), next to rows/s through the service's batcher with many actors asking at
 * once, each for one row, as the runtime's `infer` effect does.
 *
 * @module
 */

import { defaults } from "../config/defaults.ts";
import { LoadedModel, ModelService, versionsOf } from "../models/service.ts";
import type { Figure } from "./replay_bench.ts";

const MODEL = "flow_classifier";
const SIZES = [1, 8, 32, 128, 256, 512, 2048];
/** Each measurement runs this long (after a warm-up). */
const SECONDS = 1.5;

/** Rows of plausible flows: fixture rows repeated. */
async function rows(n: number, version: string): Promise<Float32Array[]> {
  const f = JSON.parse(
    await Deno.readTextFile(`${defaults.models.dir}/${MODEL}/v${version}.fixtures.json`),
  ) as { rows: (number | string | null)[][] };
  const base = f.rows.map((r) =>
    Float32Array.from(r.map((v) => v === null ? NaN : v === "Infinity" ? Infinity : Number(v)))
  );
  return Array.from({ length: n }, (_, i) => base[i % base.length]!);
}

async function timed(fn: () => Promise<number>): Promise<number> {
  for (const end = performance.now() + 200; performance.now() < end;) await fn();
  let done = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) done += await fn();
  return done / ((performance.now() - start) / 1000);
}

/** Runs the ONNX benchmark. */
export async function onnxBench(): Promise<Figure[]> {
  const o = defaults.models;
  // The version `deno task start` serves: the newest.
  const version = (await versionsOf(o.dir, MODEL)).at(-1) ?? "1";
  console.log(`  ${MODEL} v${version}`);
  const model = await LoadedModel.load(o.dir, MODEL, version, o);
  const all = await rows(2048, version);
  const width = model.width;
  const raw = new Map<number, number>();
  for (const n of SIZES) {
    const input = new Float32Array(n * width);
    for (let i = 0; i < n; i++) input.set(all[i]!, i * width);
    const rate = await timed(async () => {
      await model.run(input, n);
      return n;
    });
    raw.set(n, rate);
    console.log(`  session.run, batch ${n}: ${Math.round(rate).toLocaleString("en-US")} rows/s`);
  }
  await model.release();

  // Through the batcher: 4,096 actors each asking for one row at once, wave after wave.
  const service = new ModelService(o);
  await service.activate(MODEL, version);
  const asking = all.concat(all);
  const batched = await timed(async () => {
    await Promise.all(asking.map((r) => service.infer(MODEL, r)));
    return asking.length;
  });
  await service.close();
  const ceiling = raw.get(o.max_batch_rows) ?? raw.get(256)!;
  return [{
    name: `rows scored through the batcher (${asking.length} actors asking at once, ` +
      `batches of ${o.max_batch_rows})`,
    value: batched,
    unit: "rows/s",
    ceiling,
    ceiling_name: `session.run at batch ${o.max_batch_rows}`,
    target: "≥ 50 % of the raw rate at batch 256",
    met: batched >= 0.5 * ceiling,
  }];
}

/**
 * `deno task bench`: every benchmark, each figure printed beside its ceiling measured
 * in the same run (these machines are noisy; ratios travel, absolutes do not).
 *
 * @module
 */

import { kafkaBench } from "./kafka_bench.ts";
import { mixedBench } from "./mixed_bench.ts";
import { memoryBench } from "./memory_bench.ts";
import { onnxBench } from "./onnx_bench.ts";
import { passivationBench } from "./passivation_bench.ts";
import { type Figure, replayBench } from "./replay_bench.ts";
import { scaleOutBench } from "./scaleout_bench.ts";
import { startBench } from "./start_bench.ts";

// `--only replay|mixed|memory|passivation|onnx|kafka|scaleout|start` runs one; `--no-kafka` skips
// the broker (both Kafka benchmarks).
const NAMES = ["replay", "mixed", "memory", "passivation", "onnx", "kafka", "scaleout", "start"];
const only = Deno.args.includes("--only") ? Deno.args[Deno.args.indexOf("--only") + 1] : null;
if (only !== null && !NAMES.includes(only ?? "")) {
  console.error(`--only takes one of ${NAMES.join(", ")}, not ${only ?? "nothing"}`);
  Deno.exit(2);
}
const wanted = (name: string) =>
  only === null
    ? !["kafka", "scaleout"].includes(name) || !Deno.args.includes("--no-kafka")
    : only === name;
const figures: Figure[] = [];
if (wanted("replay")) {
  console.log("replay throughput …");
  figures.push(...await replayBench());
}
if (wanted("mixed")) {
  console.log("mixed replay throughput …");
  figures.push(...await mixedBench());
}
if (wanted("memory")) {
  console.log("memory per actor …");
  figures.push(...memoryBench());
}
if (wanted("passivation")) {
  console.log("memory through the resident cap …");
  figures.push(...await passivationBench());
}
if (wanted("onnx")) {
  console.log("model scoring …");
  figures.push(...await onnxBench());
}
if (wanted("kafka")) {
  console.log("pipeline on Kafka …");
  figures.push(...await kafkaBench());
}

if (wanted("scaleout")) {
  console.log("scale-out: 2 worker processes against 1 …");
  figures.push(...await scaleOutBench());
}

if (wanted("start")) {
  const at = Deno.args.indexOf("--start-minutes");
  const minutes = at >= 0 ? Number(Deno.args[at + 1]) : 10;
  if (!(minutes > 0)) {
    console.error(`--start-minutes must be a positive number, not ${Deno.args[at + 1]}`);
    Deno.exit(2);
  }
  console.log(`deno task start for ${minutes} min …`);
  figures.push(...await startBench(minutes));
}

console.log("");
for (const f of figures) {
  const ratio = f.ceiling > 0 ? ` (${((f.value / f.ceiling) * 100).toFixed(0)} % of ceiling)` : "";
  const ceiling = f.ceiling > 0 ? `; ceiling ${f.ceiling_name}: ${fmt(f.ceiling)} ${f.unit}` : "";
  console.log(
    `${f.met ? "MET " : "MISS"} ${f.name}: ${
      fmt(f.value)
    } ${f.unit}${ratio}${ceiling}; target ${f.target}`,
  );
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

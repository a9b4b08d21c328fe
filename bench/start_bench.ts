/**
 * `deno task start`'s resident memory: the task's own command (from deno.json) run as it
 * is, with its default simulator, its RSS read by `ps` every 15 s for `minutes`
 * (10 by default; `--start-minutes N`). The ceiling beside it is the least RSS seen,
 * after the first sample.
 *
 * @module
 */

import type { Figure } from "./replay_bench.ts";

const ROOT = new URL("../", import.meta.url);
const LIMIT_MB = 400;

/** A process's RSS by `ps` (Deno reads `/proc` only with every permission). */
async function rssMb(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  const kb = Number(new TextDecoder().decode(out.stdout).trim());
  if (!out.success || !(kb > 0)) throw new Error(`Cannot read the RSS of process ${pid}`);
  return kb / 1024;
}

/** Runs `deno task start` for `minutes` and reports its RSS at the end. */
export async function startBench(minutes: number): Promise<Figure[]> {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks;
  const [deno, ...args] = String(tasks.start).split(/\s+/);
  if (deno !== "deno") throw new Error(`deno.json's start task does not run deno: ${deno}`);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { PORT: String(port) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const samples: number[] = [];
  let metrics = "";
  try {
    const end = Date.now() + minutes * 60_000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(15_000, Math.max(0, end - Date.now()))));
      samples.push(await rssMb(child.pid));
    }
    // What its own metrics say of the V8 heap and its actors, for where the rest goes.
    const r = await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null);
    metrics = r ? await r.text() : "";
  } finally {
    child.kill("SIGTERM");
    await child.status;
  }
  const last = samples.at(-1) ?? NaN;
  const trace = samples.filter((_, i) => i % 4 === 3).map((m) => Math.round(m));
  console.log(
    `  RSS each minute (MB): ${trace.join(", ")}; peak ${Math.round(Math.max(...samples))}`,
  );
  const sum = (name: string) =>
    [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "gm"))]
      .reduce((n, m) => n + Number(m[1]), 0);
  console.log(
    `  at the end: V8 heap in use ${Math.round(sum("vigil_process_heap_bytes") / 2 ** 20)} MB, ` +
      `${sum("vigil_actors_resident").toLocaleString("en")} actors resident`,
  );
  return [{
    name: `deno task start, resident after ${minutes} min (default simulator)`,
    value: last,
    unit: "MB",
    ceiling: Math.min(...samples.slice(1)),
    ceiling_name: "its least RSS after the first 30 s",
    target: `< ${LIMIT_MB} MB after 10 min`,
    met: minutes >= 10 && last < LIMIT_MB,
  }];
}

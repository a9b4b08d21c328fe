/**
 * Memory bounded by the resident cap: `bench/passivation_run.ts` in a process of its own
 * (so its resident memory is its own), 1,000,000 distinct users through a cap of 100,000,
 * two passes, every state checked when it comes back. The ceiling beside it is the same
 * process's RSS before any actor.
 *
 * @module
 */

import type { Figure } from "./replay_bench.ts";

const USERS = 1_000_000;
const CAP = 100_000;
const LIMIT_MB = 600;

/** What `bench/passivation_run.ts` prints. */
interface PassivationRun {
  users: number;
  cap: number;
  bare_rss_mb: number;
  rss_mb: number[];
  pass_ms: number[];
  checked_on_return: number;
  checked_after: number;
  bytes_per_passivated: number;
  peak_rss_mb: number;
}

/** Runs the passivation benchmark. */
export async function passivationBench(): Promise<Figure[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      "--v8-flags=--expose-gc,--max-old-space-size=8192,--max-semi-space-size=64,--min-semi-space-size=64",
      new URL("./passivation_run.ts", import.meta.url).pathname,
      "--users",
      String(USERS),
      "--cap",
      String(CAP),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr).trim();
  if (!out.success) throw new Error(`bench/passivation_run.ts failed: ${err.split("\n").at(-1)}`);
  for (const line of err.split("\n")) console.log(`  ${line}`);
  const r = JSON.parse(new TextDecoder().decode(out.stdout)) as PassivationRun;
  const checked = r.checked_on_return === r.users && r.checked_after === r.users;
  console.log(
    `  ${r.checked_on_return.toLocaleString("en")} states checked on their return, ` +
      `${r.checked_after.toLocaleString("en")} after pass two; ` +
      `${Math.round(r.bytes_per_passivated)} bytes per passivated user; ` +
      `peak RSS ${Math.round(r.peak_rss_mb)} MB (the figures below are after collections)`,
  );
  const [one = NaN, two = NaN] = r.rss_mb;
  return [1, 2].map((pass) => {
    const rss = pass === 1 ? one : two;
    const flat = pass === 1 || two <= one * 1.1;
    return {
      name: `RSS after pass ${pass} of ${USERS.toLocaleString("en")} users through a cap of ${
        CAP.toLocaleString("en")
      }`,
      value: rss,
      unit: "MB",
      ceiling: r.bare_rss_mb,
      ceiling_name: "the same process before any actor",
      target: pass === 1
        ? `< ${LIMIT_MB} MB, every state checked`
        : `< ${LIMIT_MB} MB and within 10 % of pass one`,
      met: rss < LIMIT_MB && flat && checked,
    };
  });
}

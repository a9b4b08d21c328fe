/**
 * Every rule of the catalogue fires in `deno task start` within a few minutes, on its
 * built-in simulated traffic with the default settings (the simulator first plays the last
 * 45 min at full speed, so baselines exist; see `VIGIL_SIMULATOR_BACKFILL_S`). Read from
 * the process's own metrics, as an operator would. Needs --allow-all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { RULES } from "../../engine/rules.ts";
import { get, startProcess, waitFor } from "./workers.ts";

Deno.test({
  name: "deno task start: every rule in the catalogue fires within a few minutes",
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const p = startProcess({ ADMIN_TOKEN: "e2e-token-rules-0123456789" });
  const started = Date.now();
  try {
    // The configurable rules, and the flow classifier's six attack classes.
    const expected = RULES.map((r) => r.rule);
    for (const cls of ["dos", "ddos", "port_scanning", "brute_force", "bots", "web_attacks"]) {
      expected.push(`flow.${cls}`);
    }
    let missing: string[] = expected;
    await waitFor(
      "alerts of every rule",
      240_000,
      async () => {
        const r = await get(`${p.base}/metrics`);
        if (r?.status !== 200) return undefined;
        const fired = new Set(
          [...r.text.matchAll(/^vigil_alerts_total\{rule="([^"]+)"[^}]*\} ([0-9.e+]+)$/gm)]
            .filter((m) => Number(m[2]) > 0).map((m) => m[1]!),
        );
        missing = expected.filter((rule) => !fired.has(rule));
        return missing.length === 0 ? fired : undefined;
      },
      p.exited,
      () => `still missing: ${missing.join(", ")}\n${p.stderr().slice(-4_000)}`,
    );
    const seconds = Math.round((Date.now() - started) / 1000);
    assert.ok(seconds < 240, `${seconds} s`);
    console.log(`every rule (${expected.length}) fired within ${seconds} s of the start`);
  } finally {
    if (!p.exited()) p.child.kill("SIGTERM");
    await p.status;
    await p.stdoutDone;
    await p.stderrDone;
  }
});

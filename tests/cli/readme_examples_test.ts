/**
 * The README's own examples do what the README says (issue 14, item 6): its commands that
 * send five failed logins of alice, stamped now, are run as written (with bash and curl)
 * against `deno task start`; the answer calls every event accepted, and the
 * `auth.brute_force` alert the README describes appears in `GET /api/v1/alerts`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { get, startProcess, waitFor } from "../e2e/workers.ts";

const ROOT = new URL("../../", import.meta.url);
const TOKEN = "readme-token-0123456789";

/** The README's `sh` blocks, as written. */
async function shBlocks(): Promise<string[]> {
  const readme = await Deno.readTextFile(new URL("README.md", ROOT));
  return [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/** The one block that holds all of `parts`. */
function blockWith(blocks: string[], ...parts: string[]): string {
  const found = blocks.filter((b) => parts.every((p) => b.includes(p)));
  assert.equal(found.length, 1, `one README sh block with ${parts.join(", ")}`);
  return found[0]!;
}

/** Runs a README block with bash, against `base` instead of localhost:8080; its stdout. */
async function run(block: string, base: string): Promise<string> {
  const script = block.replaceAll("localhost:8080", base.replace(/^http:\/\//, ""));
  const out = await new Deno.Command("bash", {
    args: ["-eu", "-o", "pipefail", "-c", script],
    env: { ADMIN_TOKEN: TOKEN },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, `the README's commands failed:\n${script}\n${stderr}`);
  return new TextDecoder().decode(out.stdout);
}

Deno.test({
  name:
    "README: the POST /api/v1/events example is accepted item by item and raises the auth.brute_force alert it describes",
  sanitizeOps: true,
  sanitizeResources: true,
}, async () => {
  const blocks = await shBlocks();
  const send = blockWith(blocks, "/api/v1/events", "$(date");
  const alerts = blockWith(blocks, "/api/v1/alerts?rule=auth.brute_force&entity_key=alice");
  // As `deno task start` runs, simulator and all; from now (no backfill: a lighter run).
  const started = startProcess({ ADMIN_TOKEN: TOKEN, VIGIL_SIMULATOR_BACKFILL_S: "0" });
  const { child, base, status, stdoutDone, stderrDone, exited } = started;
  const tail = () => started.stderr().slice(-4_000);
  try {
    await waitFor(
      "GET /ready",
      30_000,
      async () => {
        const r = await get(`${base}/ready`);
        return r?.status === 200 ? r : undefined;
      },
      exited,
      tail,
    );

    const answer = JSON.parse(await run(send, base));
    assert.equal(answer.accepted, 5, JSON.stringify(answer));
    assert.equal(answer.rejected, 0);
    assert.deepEqual(answer.errors, []);
    assert.equal(answer.forwarded, 0);
    const items = answer.items as { index: number; verdict: string; event_id: string }[];
    assert.deepEqual(
      items.map((i) => [i.index, i.verdict]),
      [0, 1, 2, 3, 4].map((i) => [
        i,
        "accepted",
      ]),
    );
    for (const [i, item] of items.entries()) {
      assert.match(item.event_id, new RegExp(`^alice-.+-${i + 1}$`));
    }

    const alert = await waitFor(
      "the README's auth.brute_force alert for alice",
      30_000,
      async () => {
        const list = JSON.parse(await run(alerts, base)).alerts as Record<string, unknown>[];
        return list.find((a) => (a.event_ids as string[]).includes(items[4]!.event_id));
      },
      exited,
      tail,
    );
    assert.equal(alert.rule, "auth.brute_force");
    assert.deepEqual(alert.entity, { type: "user", key: "alice" });
    assert.equal(alert.severity, "medium");
    assert.equal((alert.evidence as Record<string, unknown>).failures_in_window, 5);
    assert.deepEqual(alert.event_ids, items.map((i) => i.event_id));

    // Nothing of it was dead-lettered afterwards.
    const dead = await get(`${base}/api/v1/dead-letters?limit=1000`, TOKEN);
    const letters = JSON.parse(dead!.text).dead_letters as { raw: string }[];
    assert.deepEqual(letters.filter((d) => d.raw.includes('"user_id":"alice"')), []);
  } finally {
    child.kill("SIGTERM");
    const s = await status;
    await stdoutDone;
    await stderrDone;
    assert.equal(s.code, 0, tail());
  }
});

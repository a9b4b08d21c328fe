/**
 * `deno task replay` as a user runs it, for the IP database: a process whose events all
 * carry their location never loads it; one with a login that has only its address loads
 * it once; the manifest names the database either way.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;
const T0 = Date.UTC(2026, 0, 5, 9);

async function replayFile(lines: string[]): Promise<{ stderr: string; manifest: unknown }> {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/e.jsonl`, lines.join("\n") + "\n");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-q",
        "-A",
        "main.ts",
        "replay",
        "--input",
        `${dir}/e.jsonl`,
        "--output",
        `${dir}/a.jsonl`,
        "--manifest",
        `${dir}/m.json`,
      ],
      cwd: ROOT,
      env: { VIGIL_SIMULATOR_ENABLED: "false" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const out = await child.output().finally(() => clearTimeout(timer));
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    return { stderr, manifest: JSON.parse(await Deno.readTextFile(`${dir}/m.json`)) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const auth = (o: Record<string, unknown>) => JSON.stringify({ kind: "auth", user_id: "ana", ...o });

Deno.test("replay: nothing loads the IP database when no event needs it; a login with only an address loads it once", async () => {
  const located = await replayFile([
    auth({ type: "login_success", ip: "8.8.8.8", lat: 37.4, lon: -122.1, timestamp: T0 }),
    auth({
      type: "login_failure",
      ip: "8.8.8.8",
      country: "US",
      lat: 37.4,
      lon: -122.1,
      timestamp: T0 + 1,
    }),
    auth({ type: "logout", timestamp: T0 + 2 }),
  ]);
  assert.doesNotMatch(located.stderr, /Loaded the IP database/);
  const geo = (located.manifest as { geo: { city: string; asn: string } }).geo;
  assert.match(geo.city, /^@ip-location-db\/dbip-city-mmdb@/);
  assert.match(geo.asn, /^@ip-location-db\/asn@/);

  const bare = await replayFile([
    auth({ type: "login_success", ip: "8.8.8.8", timestamp: T0 }),
    auth({ type: "login_success", ip: "1.1.1.1", timestamp: T0 + 1 }),
  ]);
  const loads = bare.stderr.split("\n").filter((l) => l.includes("Loaded the IP database"));
  assert.equal(loads.length, 1, bare.stderr);
  assert.match(loads[0]!, /"family":"IPv4"/);
  assert.deepEqual((bare.manifest as { geo: unknown }).geo, geo);
});

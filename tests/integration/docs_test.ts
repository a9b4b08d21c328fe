import assert from "node:assert/strict";
import { settings } from "../../config/load.ts";

const root = new URL("../../", import.meta.url);

Deno.test("README lists every configuration variable", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  const missing = settings().map((s) => s.variable).filter((v) => !readme.includes(`\`${v}\``));
  assert.deepEqual(missing, []);
});

Deno.test("README shows the two commands, and .ci/run calls the test command", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.match(readme, /deno task start/);
  assert.match(readme, /deno task test/);
  assert.match(readme, /npx deno@2\.9\.6 task test/);
  const ci = await Deno.readTextFile(new URL(".ci/run", root));
  assert.match(ci, /^deno task test$/m);
  const ensure = await Deno.readTextFile(new URL("scripts/ensure-deno.sh", root));
  assert.match(ensure, new RegExp(`DENO_VERSION="${Deno.version.deno.replaceAll(".", "\\.")}"`));
});

Deno.test("deno.json has the tasks of the contract", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  for (const task of ["start", "test", "ok", "replay", "simulate", "bench"]) {
    assert.ok(config.tasks[task], `task ${task}`);
  }
  assert.equal(config.compilerOptions.strict, true);
  assert.equal(config.compilerOptions.noUncheckedIndexedAccess, true);
});

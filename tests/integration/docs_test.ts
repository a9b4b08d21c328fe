import assert from "node:assert/strict";
import { settings } from "../../config/load.ts";
import { HELP } from "../../main.ts";
import { rewritten, unexplained } from "../../tools/config_doc.ts";

const root = new URL("../../", import.meta.url);

Deno.test("docs/configuration.md lists every configuration variable", async () => {
  const reference = await Deno.readTextFile(new URL("docs/configuration.md", root));
  const missing = settings().map((s) => s.variable).filter((v) => !reference.includes(`\`${v}\``));
  assert.deepEqual(missing, []);
});

Deno.test("docs/configuration.md's table is the one made from config/ (deno task docs:config)", async () => {
  assert.deepEqual(unexplained(), { missing: [], unknown: [] });
  const text = await Deno.readTextFile(new URL("docs/configuration.md", root));
  assert.equal(rewritten(text), text, "run deno task docs:config");
});

Deno.test("the README is a first page: at most 300 lines, and every link it and docs/ give resolves", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", root));
  assert.ok(readme.split("\n").length <= 300, `${readme.split("\n").length} lines`);
  const pages = ["README.md"];
  for await (const e of Deno.readDir(new URL("docs/", root))) {
    if (e.name.endsWith(".md")) pages.push(`docs/${e.name}`);
  }
  const broken: string[] = [];
  for (const page of pages) {
    const text = await Deno.readTextFile(new URL(page, root));
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target!)) continue;
      const [path, anchor] = target!.split("#");
      const file = path === "" ? new URL(page, root) : new URL(path!, new URL(page, root));
      let body: string;
      try {
        body = await Deno.readTextFile(file);
      } catch {
        if (anchor === undefined && await Deno.stat(file).then(() => true, () => false)) continue;
        broken.push(`${page}: ${target}`);
        continue;
      }
      if (anchor === undefined) continue;
      const slugs = [...body.matchAll(/^#{1,4} (.*)$/gm)].map((m) =>
        m[1]!.toLowerCase().replace(/[^a-z0-9 -]/g, "").replaceAll(" ", "-")
      );
      if (!slugs.includes(anchor)) broken.push(`${page}: ${target}`);
    }
  }
  assert.deepEqual(broken, []);
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

Deno.test("docs/commands.md has every command and flag of main.ts help", async () => {
  const doc = await Deno.readTextFile(new URL("docs/commands.md", root));
  const commands = [...HELP.matchAll(/^ {2}([a-z][a-z-]+)\b/gm)].map((m) => m[1]!);
  const flags = [...new Set([...HELP.matchAll(/--[a-z][a-z-]*/g)].map((m) => m[0]))];
  assert.ok(commands.length >= 9 && flags.length >= 20, `${commands} ${flags}`);
  const missing = [
    ...commands.filter((c) => !new RegExp(`main\\.ts ${c}\\b|deno task ${c}\\b`).test(doc)),
    ...flags.filter((f) => !new RegExp(`${f}\\b`).test(doc)),
  ];
  assert.deepEqual(missing, []);
});

/**
 * A generated admin token (no `ADMIN_TOKEN`) is shown once on stderr as plain text and
 * never written in the JSON log; it is the token the API takes.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("start without ADMIN_TOKEN: the generated token is shown once, outside the JSON log, and works", async () => {
  const env = Deno.env.toObject();
  delete env.ADMIN_TOKEN;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "main.ts", "start"],
    cwd: ROOT,
    env: { ...env, PORT: "0", VIGIL_SIMULATOR_ENABLED: "false" },
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const reader = child.stderr.getReader();
  try {
    const deadline = Date.now() + 30_000;
    while (!/"msg":"Vigil is running"/.test(text) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const api = /"api":"(http:\/\/[^"]+)"/.exec(text)?.[1];
    assert.ok(api, `Vigil started:\n${text}`);
    const shown = text.split("\n").filter((l) => /generated one/.test(l) && !l.startsWith("{"));
    assert.equal(shown.length, 1, `the token is shown once:\n${text}`);
    const token = /: ([0-9a-f]{48})$/.exec(shown[0]!)?.[1];
    assert.ok(token, shown[0]);
    const json = text.split("\n").filter((l) => l.startsWith("{"));
    assert.ok(json.length >= 2, "the JSON log goes on");
    for (const line of json) {
      JSON.parse(line);
      assert.ok(!line.includes(token), `the token is not logged: ${line}`);
    }
    const ok = await fetch(`${api}/api/v1/actors`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(ok.status, 200, "the shown token opens the API");
    await ok.body?.cancel();
  } finally {
    child.kill("SIGTERM");
    while (!(await reader.read()).done); // its last lines, to the end
    await child.status;
  }
});

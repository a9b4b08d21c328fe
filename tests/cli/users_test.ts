/**
 * `main.ts add-user` and the users file, as an operator uses them: the token is printed
 * once and only its hash is written; `start` with `VIGIL_API_USERS_FILE` knows the user in
 * its role; bad arguments and an unusable file are refused in one line.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

async function run(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: { VIGIL_SIMULATOR_ENABLED: "false", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

function refusedInOneLine(r: { code: number; stderr: string }, reason: RegExp) {
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, reason);
}

Deno.test("add-user prints a token once and writes only its hash; start with the users file serves the user in its role", async () => {
  const dir = await Deno.makeTempDir();
  const file = `${dir}/users.json`;
  try {
    const added = await run(["add-user", "--name", "dana", "--role", "analyst", "--file", file]);
    assert.equal(added.code, 0, added.stderr);
    const token = /^(dana\.[0-9a-f]{48})$/m.exec(added.stdout)?.[1];
    assert.ok(token, added.stdout);
    const text = await Deno.readTextFile(file);
    assert.ok(!text.includes(token.slice(5)), "the secret is not in the file");
    assert.equal((await Deno.stat(file)).mode! & 0o077, 0, "readable by its owner only");
    const users = JSON.parse(text).users;
    assert.deepEqual(users.map((u: { name: string; role: string }) => [u.name, u.role]), [
      ["dana", "analyst"],
    ]);

    refusedInOneLine(
      await run(["add-user", "--name", "dana", "--role", "viewer", "--file", file]),
      /^User dana is already in .* \(add --replace/,
    );
    refusedInOneLine(
      await run(["add-user", "--name", "erin", "--role", "root", "--file", file]),
      /--role must be one of viewer, analyst, admin/,
    );
    refusedInOneLine(
      await run(["add-user", "--name", "Erin!", "--role", "viewer", "--file", file]),
      /a name is lowercase letters/,
    );
    refusedInOneLine(await run(["add-user", "--name", "erin"]), /add-user needs --name/);
    const second = await run(["add-user", "--name", "erin", "--role", "viewer", "--file", file]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(JSON.parse(await Deno.readTextFile(file)).users.length, 2);

    refusedInOneLine(
      await run(["start"], { PORT: "0", VIGIL_API_USERS_FILE: `${dir}/none.json` }),
      /^Cannot read the users file .*none\.json \(VIGIL_API_USERS_FILE\): no such file/,
    );
    await Deno.writeTextFile(`${dir}/bad.json`, '{"users": [{"name": "x"}]}');
    refusedInOneLine(
      await run(["start"], { PORT: "0", VIGIL_API_USERS_FILE: `${dir}/bad.json` }),
      /^Cannot use user 1 of .*bad\.json: "role"/,
    );
    refusedInOneLine(
      await run(["start"], { PORT: "0", ADMIN_TOKEN: "same-token", VIEWER_TOKEN: "same-token" }),
      /VIEWER_TOKEN and ADMIN_TOKEN are the same/,
    );

    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-q", "-A", "main.ts", "start"],
      cwd: ROOT,
      env: {
        PORT: "0",
        ADMIN_TOKEN: "users-test-admin",
        VIGIL_SIMULATOR_ENABLED: "false",
        VIGIL_API_USERS_FILE: file,
      },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.getReader();
    let log = "";
    try {
      const deadline = Date.now() + 30_000;
      while (!/"msg":"Vigil is running"/.test(log) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        log += new TextDecoder().decode(value);
      }
      const api = /"api":"(http:\/\/[^"]+)"/.exec(log)?.[1];
      assert.ok(api, log);
      const read = await fetch(`${api}/api/v1/audit`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(read.status, 200, "an analyst reads the audit log");
      await read.body?.cancel();
      const change = await fetch(`${api}/api/v1/rules/auth.brute_force`, {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}` },
        body: '{"mode": "shadow"}',
      });
      assert.equal(change.status, 403, "but changes no rule");
      await change.body?.cancel();
      assert.ok(!log.includes(token.slice(5)), "the token is not logged");
    } finally {
      child.kill("SIGTERM");
      while (!(await reader.read()).done);
      await child.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

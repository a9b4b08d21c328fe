/**
 * The commands of `main.ts` given bad input, run as the user runs them (subprocesses):
 * a missing or unreadable file, an unknown flag, a bad value, a closed or busy port. Each
 * must exit non-zero with one line on stderr saying why, and no stack trace.
 *
 * @module
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../", import.meta.url).pathname;

interface Run {
  code: number;
  stderr: string;
}

/**
 * `deno run main.ts …` (quiet: Deno's own notes are not the command's output), killed
 * after 20 s: a command that stays alive on bad input fails the test, not hangs it.
 */
async function run(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-A", "main.ts", ...args],
    cwd: ROOT,
    env: { VIGIL_SIMULATOR_ENABLED: "false", ...env },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** Asserts a failed run that said why in one line matching `reason`. */
function assertRefused(r: Run, reason: RegExp): void {
  const lines = r.stderr.trimEnd().split("\n");
  assert.notEqual(r.code, 0, `exit code (stderr: ${r.stderr})`);
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, reason);
  assert.doesNotMatch(r.stderr, /^\s+at |Unhandled|error: Uncaught/m, "no stack trace");
}

/** A port nothing listens on. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("replay: a missing input, a directory, a bare --input and an unwritable output are refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertRefused(
      await run(["replay", "--input", `${dir}/missing.jsonl`]),
      /^Cannot read --input .*missing\.jsonl: no such file or directory$/,
    );
    assertRefused(
      await run(["replay", "--input", dir]),
      /^Cannot read --input .*: it is a directory$/,
    );
    assertRefused(await run(["replay", "--input"]), /^--input needs a value/);
    await Deno.writeTextFile(`${dir}/e.jsonl`, "");
    assertRefused(
      await run(["replay", "--input", `${dir}/e.jsonl`, "--output", `${dir}/no/a.jsonl`]),
      /^Cannot write --output .*no\/a\.jsonl: no directory /,
    );
    await Deno.chmod(`${dir}/e.jsonl`, 0o000);
    const readable = await Deno.open(`${dir}/e.jsonl`).then((f) => f.close(), () => false);
    if (readable === false) { // root reads whatever the mode says
      assertRefused(
        await run(["replay", "--input", `${dir}/e.jsonl`]),
        /^Cannot read --input .*: permission denied$/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("import-flows: a missing file and an empty one are refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assertRefused(
      await run(["import-flows", "--input", `${dir}/missing.csv`]),
      /^Cannot read --input .*missing\.csv: no such file or directory$/,
    );
    await Deno.writeTextFile(`${dir}/empty.csv`, "");
    assertRefused(
      await run(["import-flows", "--input", `${dir}/empty.csv`, "--output", `${dir}/f.jsonl`]),
      /^Cannot import --input .*empty\.csv: it is empty$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("simulate: bad values, an unknown flag and a closed --to port are refused in one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = ["--output", `${dir}/s.jsonl`, "--events", "10"];
    assertRefused(
      await run(["simulate", "--users", "0", ...out]),
      /^--users must be a whole number of at least 40, got "0"/,
    );
    assertRefused(
      await run(["simulate", "--rate", "-3", ...out]),
      /^--rate must be a number above 0/,
    );
    assertRefused(
      await run(["simulate", "--output", `${dir}/s.jsonl`, "--events", "1.5"]),
      /^--events must be a whole number/,
    );
    assertRefused(await run(["simulate", "--userz", "5", ...out]), /^Unknown flag --userz/);
    assertRefused(
      await run(["simulate", "--to", `http://127.0.0.1:${closedPort()}`, "--events", "10"]),
      /^Cannot reach --to http:\/\/127\.0\.0\.1:\d+: connection refused/,
    );
    assertRefused(await run(["simulate"]), /^simulate needs --output/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start: a port in use stops it at once, in one line", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    const t0 = Date.now();
    assertRefused(
      await run(["start"], { PORT: String(port), ADMIN_TOKEN: "t" }),
      new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`),
    );
    assert.ok(Date.now() - t0 < 20_000, "it exits; it does not stay alive without an API");
  } finally {
    busy.close();
  }
});

Deno.test("Every command refuses an unknown flag, and an unknown command, in one line", async () => {
  for (const command of ["start", "replay", "import-flows", "config", "cluster"]) {
    assertRefused(await run([command, "--no-such-flag"]), /^Unknown flag --no-such-flag/);
  }
  assertRefused(await run(["nosuch"]), /^Unknown command "nosuch"/);
  assertRefused(await run(["cluster", "--workers", "0"]), /^--workers must be a whole number/);
  assertRefused(
    await run(["start"], { VIGIL_SIMULATOR_USERS: "0", PORT: "0" }),
    /^Cannot use VIGIL_SIMULATOR_USERS=0/,
  );
});

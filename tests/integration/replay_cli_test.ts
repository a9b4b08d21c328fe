import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

async function run(args: string[]): Promise<{ code: number; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task simulate + replay: the same file gives a byte-identical alerts file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sim = await run([
      "simulate",
      "--output",
      `${dir}/events.jsonl`,
      "--events",
      "30000",
      "--users",
      "5000",
      "--rate",
      "300",
      "--attack-interval-s",
      "15",
      "--truth",
      `${dir}/truth.jsonl`,
    ]);
    assert.equal(sim.code, 0, sim.stderr);
    const first = await run([
      "replay",
      "--input",
      `${dir}/events.jsonl`,
      "--output",
      `${dir}/a1.jsonl`,
    ]);
    assert.equal(first.code, 0, first.stderr);
    const second = await run([
      "replay",
      "--input",
      `${dir}/events.jsonl`,
      "--output",
      `${dir}/a2.jsonl`,
      "--incidents",
      `${dir}/i2.jsonl`,
    ]);
    assert.equal(second.code, 0, second.stderr);
    const a1 = await Deno.readFile(`${dir}/a1.jsonl`);
    const a2 = await Deno.readFile(`${dir}/a2.jsonl`);
    assert.ok(a1.length > 0, "the simulated attacks raised alerts");
    assert.deepEqual(a1, a2);
    // --incidents: each alert's incident, once, holding it; a campaign with its compromises.
    const incidents = (await Deno.readTextFile(`${dir}/i2.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const members = new Map<string, string[]>();
    for (const line of new TextDecoder().decode(a2).trim().split("\n")) {
      const a = JSON.parse(line);
      members.set(a.incident.id, [...(members.get(a.incident.id) ?? []), a.alert_id]);
    }
    assert.deepEqual(incidents.map((i) => i.incident_id), [...members.keys()].sort());
    for (const i of incidents) assert.deepEqual(i.alert_ids, members.get(i.incident_id)!.sort());
    assert.ok(
      incidents.some((i) =>
        i.anchor.type === "ip" && i.rules.includes("user.compromise_after_attack")
      ),
      "a campaign's incident holds a compromise of a user it tried",
    );

    // Every completed attack is detected with the rules its scenario must fire, and
    // nothing else alerts.
    const alerts = (await Deno.readTextFile(`${dir}/a1.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const truth = (await Deno.readTextFile(`${dir}/truth.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.ok(truth.length >= 5, `only ${truth.length} attacks`);
    const raised = new Set(alerts.map((a) => `${a.rule}|${a.entity.key}`));
    const expected = new Set<string>(), allowed = new Set<string>();
    const userOf = new Map<string, string>();
    for (const line of (await Deno.readTextFile(`${dir}/events.jsonl`)).trim().split("\n")) {
      const e = JSON.parse(line);
      if (e.user_id) userOf.set(e.event_id, e.user_id);
    }
    // Every user an attack tried may log in within 180 min, and be flagged for it: the
    // rule cannot tell the owner from the attacker, by design.
    for (const t of truth) {
      for (const id of t.event_ids) {
        const user = userOf.get(id);
        if (user) allowed.add(`user.compromise_after_attack|${user}`);
      }
    }
    for (const t of truth) {
      for (const r of t.rules) {
        allowed.add(`${r}|${t.entity.key}`);
        if (t.complete) expected.add(`${r}|${t.entity.key}`);
      }
      // An IP attacking many users may meet several per-IP rules (a slow attack that
      // tries 60 users twice each is a spray and stuffing too).
      if (t.entity.type === "ip") {
        for (const r of ["ip.password_spray", "ip.credential_stuffing", "ip.throttle"]) {
          allowed.add(`${r}|${t.entity.key}`);
        }
      }
      // The attacker's login of any scenario may be impossible travel (and so may the
      // victim's next login from home).
      for (const l of t.risky_logins ?? []) {
        allowed.add(`auth.impossible_travel|${l.user_id}`);
        // The pair that worked in a stuffing campaign: the user the IP's alert told.
        const rule = "user.compromise_after_attack";
        if (t.scenario === "credential_stuffing" && t.complete) {
          expected.add(`${rule}|${l.user_id}`);
        }
        allowed.add(`${rule}|${l.user_id}`);
      }
    }
    // A victim of an attack across users (its truth names the IP) who also mistyped a
    // password may reach 5 failures in 5 min: auth.brute_force is then right by definition.
    const failures = new Map<string, number[]>();
    for (const line of (await Deno.readTextFile(`${dir}/events.jsonl`)).trim().split("\n")) {
      const e = JSON.parse(line);
      if (e.type !== "login_failure") continue;
      const ts = failures.get(e.user_id) ?? [];
      ts.push(Date.parse(e.timestamp));
      failures.set(e.user_id, ts);
    }
    for (const [user, ts] of failures) {
      if (ts.some((t, i) => i >= 4 && t - ts[i - 4]! < 300_000)) {
        allowed.add(`auth.brute_force|${user}`);
      }
    }
    assert.ok(
      truth.some((t) => t.entity.type === "ip" && t.complete),
      "attacks across users (re-keyed by IP) are among them",
    );
    for (const e of expected) assert.ok(raised.has(e), `missed ${e}`);
    // The rules that judge a login or payment against the user's history (new device or
    // payee, usual amounts, the risk model) cannot be told right from wrong here: in 100 s
    // of traffic every user is new. They have their own tests and the quality report.
    const historyRules = new Set([
      "auth.new_device_location",
      "auth.risky_login",
      "user.account_takeover",
      "tx.large_amount",
    ]);
    for (const r of raised) {
      if (historyRules.has(r.split("|")[0]!)) continue;
      assert.ok(allowed.has(r), `false alert ${r}`);
    }

    // A shuffled copy of the file replays to the same alerts (it is sorted first).
    const lines = (await Deno.readTextFile(`${dir}/events.jsonl`)).trim().split("\n");
    const shuffled = lines.map((l, i) => [(i * 7919) % 104729, l] as const).sort((a, b) =>
      a[0] - b[0]
    )
      .map(([, l]) => l);
    await Deno.writeTextFile(`${dir}/shuffled.jsonl`, shuffled.join("\n") + "\n");
    const third = await run([
      "replay",
      "--input",
      `${dir}/shuffled.jsonl`,
      "--output",
      `${dir}/a3.jsonl`,
    ]);
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stderr, /"sorted_first":true/);
    assert.deepEqual(await Deno.readFile(`${dir}/a3.jsonl`), a1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task replay dead-letters bad lines with their line number and goes on", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = (i: number) =>
      JSON.stringify({
        kind: "auth",
        type: "login_failure",
        user_id: "alice",
        ip: "203.0.113.7",
        timestamp: new Date(Date.UTC(2026, 0, 5) + i * 1000).toISOString(),
      });
    await Deno.writeTextFile(
      `${dir}/in.jsonl`,
      [
        good(0),
        "{not json",
        good(1),
        '{"kind":"auth","type":"logout","timestamp":"2026-01-05T00:00:00Z"}',
        good(2),
        good(3),
        good(4),
      ]
        .join("\n"),
    );
    const r = await run([
      "replay",
      "--input",
      `${dir}/in.jsonl`,
      "--output",
      `${dir}/out.jsonl`,
      "--dead-letters",
      `${dir}/dl.jsonl`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const dead = (await Deno.readTextFile(`${dir}/dl.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(dead.map((d) => d.source), ["line 2", "line 4"]);
    assert.match(dead[0].reason, /not valid JSON/);
    assert.match(dead[1].reason, /"user_id" is missing/);
    const alerts = (await Deno.readTextFile(`${dir}/out.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(alerts.map((a) => a.rule), ["auth.brute_force"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

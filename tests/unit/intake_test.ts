import assert from "node:assert/strict";
import { engineRuntime } from "./runtimes.ts";
import { VirtualClock } from "../../actors/clock.ts";
import { noTelemetry } from "../../actors/ports.ts";
import { ActorRuntime } from "../../actors/runtime.ts";
import { Ticket } from "../../actors/ticket.ts";
import { userBehaviour } from "../../actors/user.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { Intake, oversize, type Rekey, utf8Length } from "../../engine/intake.ts";
import { Outbox } from "../../engine/outbox.ts";
import { MemoryLog } from "../../io/memory_log.ts";
import { MemoryStore } from "../../io/memory_store.ts";

const NOW = Date.UTC(2026, 0, 5, 12);

function setup() {
  const c = structuredClone(defaults) as Config;
  const clock = new VirtualClock(NOW);
  const store = new MemoryStore({ max_alerts: 100, max_dead_letters: 100 });
  const outbox = new Outbox(store, null);
  const counted: string[] = [];
  const telemetry = {
    ...noTelemetry,
    ingested: (k: string) => counted.push(`in:${k}`),
    invalid: (k: string) => counted.push(`bad:${k}`),
    deadLettered: (r: string) => counted.push(`dl:${r}`),
  };
  const runtime = engineRuntime(c, clock, outbox, { telemetry });
  const intake = new Intake(runtime, outbox, telemetry, {
    max_event_bytes: 300,
    max_future_ms: c.runtime.max_future_ms,
    now: () => clock.now(),
  });
  return { intake, store, outbox, counted, runtime, clock };
}

/** An intake of the engine's runtime that re-keys login attempts. */
function rekeyingIntake(rt: ActorRuntime, outbox: Outbox, clock: VirtualClock, rekey: Rekey) {
  return new Intake(rt, outbox, { ...noTelemetry, ingested() {}, invalid() {} }, {
    max_event_bytes: 10_000,
    max_future_ms: defaults.runtime.max_future_ms,
    now: () => clock.now(),
    rekey,
  });
}

const logout = (user: string, ts: number) =>
  JSON.stringify({
    kind: "auth",
    type: "logout",
    user_id: user,
    timestamp: new Date(ts).toISOString(),
  });

Deno.test("Intake.offer() dead-letters an event too far in the future, so the watermark stays put", async () => {
  const { intake, store, outbox, counted, runtime } = setup();
  intake.offer({ value: logout("u1", NOW + 11 * 60_000), source: "t/0/1" }, new Ticket());
  await outbox.flush();
  const [dl] = await store.findDeadLetters(10);
  assert.match(dl!.reason, /ahead of the clock/);
  assert.equal(dl!.source, "t/0/1");
  assert.deepEqual(counted, ["in:auth", "dl:future"]);
  assert.equal(runtime.watermark(runtime.partitionFor("u1")), -Infinity);
  intake.offer({ value: logout("u1", NOW + 9 * 60_000), source: "t/0/2" }, new Ticket());
  assert.equal(await runtime.stateOf("user", "u1") !== undefined, true, "a little ahead is fine");
});

Deno.test("Intake.offer() dead-letters an event older than the watermark allows", async () => {
  const { intake, store, outbox, runtime } = setup();
  intake.offer({ value: logout("u1", NOW), source: "a" }, null);
  intake.offer(
    { value: logout("u1", NOW - defaults.runtime.allowed_lateness_ms - 1), source: "b" },
    null,
  );
  intake.offer(
    { value: logout("u1", NOW - defaults.runtime.allowed_lateness_ms), source: "c" },
    null,
  );
  await outbox.flush();
  const letters = await store.findDeadLetters(10);
  assert.equal(letters.length, 1);
  assert.equal(letters[0]!.source, "b");
  assert.match(letters[0]!.reason, /older than the user watermark/);
  assert.equal(((await runtime.stateOf("user", "u1")) as { logouts: number }).logouts, 2);
});

Deno.test("Intake.offer() measures size in UTF-8 bytes and keeps the raw text of what it refuses", async () => {
  const { intake, store, outbox } = setup();
  const big = JSON.stringify({
    kind: "auth",
    type: "logout",
    user_id: "é".repeat(140),
    timestamp: NOW,
  });
  assert.ok(big.length < 300 && utf8Length(big) > 300);
  intake.offer({ value: big, source: "x" }, null);
  await outbox.flush();
  const [dl] = await store.findDeadLetters(1);
  assert.match(dl!.reason, /bytes exceeds the limit of 300/);
  assert.equal(dl!.raw, big);
  assert.equal(dl!.raw_bytes, utf8Length(big));
});

Deno.test("utf8Length() and oversize() agree with TextEncoder", () => {
  for (const s of ["", "abc", "é", "日本語", "😀x", "a".repeat(1000)]) {
    assert.equal(utf8Length(s), new TextEncoder().encode(s).length, s);
  }
  assert.equal(oversize("abc", 3), null);
  assert.match(oversize("abcd", 3)!, /limit of 3/);
  assert.match(oversize("éé", 3)!, /4 bytes/);
});

Deno.test("Intake archives valid events when asked, once, and not when re-reading a partition", async () => {
  const c = structuredClone(defaults) as Config;
  const store = new MemoryStore({ max_alerts: 10, max_dead_letters: 10 });
  const outbox = new Outbox(store, null);
  const runtime = new ActorRuntime({
    behaviours: [userBehaviour(c)],
    runtime: c.runtime,
    supervision: c.supervision,
    alerts: c.alerts,
    clock: new VirtualClock(NOW),
    alertSink: outbox,
    deadLetters: outbox,
  });
  const intake = new Intake(runtime, outbox, { ...noTelemetry, ingested() {}, invalid() {} }, {
    max_event_bytes: 10_000,
    max_future_ms: 60_000,
    now: () => NOW,
    archive: true,
  });
  await intake.handleBatch({
    topic: "auth-events",
    partition: 0,
    replay_below: 2,
    records: [0, 1, 2, 3].map((offset) => ({
      topic: "auth-events",
      partition: 0,
      offset,
      key: "u1",
      value: offset === 3 ? "{bad" : logout("u1", NOW - 1000 + offset),
      timestamp: NOW,
    })),
  });
  const archived = await store.findArchived(10);
  assert.equal(
    archived.length,
    1,
    "offsets 0 and 1 were archived by the partition's previous owner",
  );
  assert.equal(archived[0]!.raw.user_id, "u1");
  assert.equal(archived[0]!.ts, NOW - 1000 + 2);
  await store.archiveEvents(archived);
  assert.equal((await store.findArchived(10)).length, 1, "archiving is idempotent on event_id");
});

Deno.test("A re-key topic batch: records reach the IP's actor once; malformed ones are dead-lettered", async () => {
  const { store, outbox, clock } = setup();
  const c = structuredClone(defaults) as Config;
  const rt = engineRuntime(c, clock, outbox, { ip: true });
  const intake = rekeyingIntake(rt, outbox, clock, { topic: "rekey" });
  const rec = (p: unknown, o: unknown, id: string) =>
    JSON.stringify({
      p,
      o,
      ts: NOW,
      e: { kind: "auth", type: "login_failure", event_id: id, user_id: "u1", ip: "192.0.2.1" },
    });
  const unprintable = { toString: 1 }; // a template string of it throws
  const deep = '{"toJSON":1,"a":'.repeat(50_000) + "1" + "}".repeat(50_000); // so does JSON.stringify
  const values = [
    rec(2, 7, "a"),
    rec(2, 7, "a"),
    rec(2, 8, "b"),
    "{oops",
    rec(99, 9, "c"),
    rec(unprintable, 9, "c"),
    rec(2, unprintable, "c"),
    // A source offset past any real one would make every later attempt a repeat.
    rec(2, 2 ** 53, "c"),
    `{"p":2,"r":[${deep}]}`,
    rec(2, 9, "d"),
    rec(2, 10, "e"),
  ];
  await intake.handleBatch({
    topic: "rekey",
    partition: rt.partitionFor("192.0.2.1"),
    records: values.map((value, offset) => ({
      topic: "rekey",
      partition: 0,
      offset,
      key: "192.0.2.1",
      value,
      timestamp: NOW,
    })),
  });
  const state = await rt.stateOf("ip", "192.0.2.1") as { failed_logins: number };
  // a, b, d and e: the repeat of source 2 offset 7 was skipped, and so were the bad ones.
  assert.equal(state.failed_logins, 4);
  const letters = (await store.findDeadLetters(10)).reverse();
  assert.deepEqual(letters.map((d) => d.reason), [
    "Cannot read a re-keyed record: SyntaxError: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
    "Cannot use a re-keyed record: bad source 99",
    'Cannot use a re-keyed record: bad source {"toString":1}',
    'Cannot use a re-keyed record: its offset o must be a whole number, got {"toString":1}',
    "Cannot use a re-keyed record: its offset o must be a whole number, got 9007199254740992",
    "Cannot accept event: it must be a JSON object",
  ]);
  assert.equal(letters[5]!.raw, '{"toJSON":1,"a":{"toJSON":1,"a":{"toJSON":1,"a":"…"}}}', "cut");
});

Deno.test("Login attempts go to the re-key topic as one record per IP partition, and reach each IP's actor once", async () => {
  const c = structuredClone(defaults) as Config;
  const clock = new VirtualClock(NOW);
  const store = new MemoryStore({ max_alerts: 100, max_dead_letters: 100 });
  const log = new MemoryLog({ now: () => NOW });
  await log.ensureTopics(
    ["auth-events", "rekey", "alerts", "dead-letters", "incidents"],
    c.runtime.partitions,
  );
  const outbox = new Outbox(store, log);
  const rt = engineRuntime(c, clock, outbox, { ip: true });
  const intake = rekeyingIntake(rt, outbox, clock, { topic: "rekey" });
  const ips = ["192.0.2.1", "192.0.2.2", "198.51.100.7", "203.0.113.9"];
  const attempts = Array.from({ length: 40 }, (_, i) =>
    JSON.stringify({
      kind: "auth",
      type: i % 5 === 0 ? "login_success" : "login_failure",
      event_id: `a${i}`,
      user_id: `u${i % 3}`,
      ip: ips[i % ips.length],
      timestamp: new Date(NOW - 60_000 + i).toISOString(),
    }));
  await intake.handleBatch({
    topic: "auth-events",
    partition: 5,
    records: attempts.map((value, offset) => ({
      topic: "auth-events",
      partition: 5,
      offset: 100 + offset,
      key: null,
      value,
      timestamp: NOW,
    })),
  });
  const rekeyed = log.all("rekey");
  const targets = new Set(ips.map((ip) => rt.partitionFor(ip)));
  assert.equal(rekeyed.length, targets.size, "one record per partition of the IPs");
  for (const r of rekeyed) {
    const record = JSON.parse(r.value) as { p: number; r: { o: number; e: { ip: string } }[] };
    assert.equal(record.p, 5);
    for (const entry of record.r) assert.equal(rt.partitionFor(entry.e.ip), r.partition);
    const offsets = record.r.map((e) => e.o);
    assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), "in source offset order");
  }
  assert.equal(rekeyed.reduce((n, r) => n + JSON.parse(r.value).r.length, 0), 40);

  // Read back (twice: a producer retry): each IP's actor counts its attempts once.
  const feed = (records: typeof rekeyed) =>
    Promise.all([...targets].map((p) =>
      intake.handleBatch({
        topic: "rekey",
        partition: p,
        records: records.filter((r) => r.partition === p),
      })
    ));
  await feed(rekeyed);
  await feed(rekeyed);
  for (const ip of ips) {
    const state = await rt.stateOf("ip", ip) as { failed_logins: number };
    assert.equal(state.failed_logins, 8, `${ip}: 10 attempts, 2 of them successes`);
  }
  assert.equal(log.all("rekey").length, rekeyed.length, "re-keyed records are not forwarded again");

  // A bad attempt inside a record is dead-lettered alone, named by its index.
  const p = rt.partitionFor("192.0.2.1");
  const entry = (o: number, e: Record<string, unknown>) => ({ o, ts: NOW, e });
  const good = { kind: "auth", type: "login_failure", user_id: "u9", ip: "192.0.2.1" };
  await intake.handleBatch({
    topic: "rekey",
    partition: p,
    records: [{
      topic: "rekey",
      partition: p,
      offset: 50,
      key: null,
      value: JSON.stringify({
        p: 6,
        r: [
          entry(1, { ...good, event_id: "g1" }),
          entry(2, { ...good, event_id: "g2", type: "logout" }),
          entry(3, { ...good, event_id: "g3" }),
        ],
      }),
      timestamp: NOW,
    }],
  });
  const state = await rt.stateOf("ip", "192.0.2.1") as { failed_logins: number };
  assert.equal(state.failed_logins, 10);
  const [dl] = await store.findDeadLetters(10);
  assert.equal(dl!.source, `rekey/${p}/50#1`);
  assert.match(dl!.reason, /not a login attempt/);
  assert.match(dl!.raw, /"g2"/);
});

Deno.test("Records a consumer is handed again (rejoined at an older offset) count once and are not late", async () => {
  const { store, outbox, clock } = setup();
  const c = structuredClone(defaults) as Config;
  const rt = engineRuntime(c, clock, outbox, { ip: true });
  const intake = rekeyingIntake(rt, outbox, clock, "direct");
  const p = rt.partitionFor("u1");
  // Ten minutes of logins, one a minute: the watermark passes the first ones.
  const batch = (from: number, to: number) => ({
    topic: "auth-events",
    partition: p,
    records: Array.from({ length: to - from }, (_, i) => ({
      topic: "auth-events",
      partition: p,
      offset: from + i,
      key: "u1",
      value: JSON.stringify({
        kind: "auth",
        type: "login_success",
        event_id: `l${from + i}`,
        user_id: "u1",
        ip: "192.0.2.1",
        timestamp: new Date(NOW - 600_000 + (from + i) * 60_000).toISOString(),
      }),
      timestamp: NOW,
    })),
  });
  await intake.handleBatch(batch(0, 8));
  await intake.handleBatch(batch(3, 10));
  const user = await rt.stateOf("user", "u1") as { logins: number };
  assert.equal(user.logins, 10, "offsets 3 to 7 were handed twice and counted once");
  assert.deepEqual(await store.findDeadLetters(10), [], "none of them dead-lettered as late");
});

Deno.test("Signals: a message forwarded for an actor goes out keyed by it, and a signals record reaches the actor; malformed ones are dead-lettered", async () => {
  const c = structuredClone(defaults) as Config;
  const clock = new VirtualClock(NOW);
  const store = new MemoryStore({ max_alerts: 100, max_dead_letters: 100 });
  const log = new MemoryLog({ now: () => NOW });
  await log.ensureTopics(["signals", "alerts", "dead-letters", "incidents"], c.runtime.partitions);
  const outbox = new Outbox(store, log);
  const rt = engineRuntime(c, clock, outbox, { ip: true });
  const intake = new Intake(rt, outbox, { ...noTelemetry, ingested() {}, invalid() {} }, {
    max_event_bytes: 10_000,
    max_future_ms: defaults.runtime.max_future_ms,
    now: () => clock.now(),
    signals: "signals",
  });
  const told = {
    kind: "targeted",
    rule: "ip.password_spray",
    ip: "192.0.2.1",
    episode: "0",
    ts: NOW - 60_000,
  };
  intake.forwardSignal({ type: "user", key: "victim" }, told);
  await outbox.flush();
  const p = rt.partitionFor("victim");
  const out = log.records("signals", p);
  assert.equal(out.length, 1, "on the receiver's partition");
  assert.equal(out[0]!.key, "victim");
  const signal = (to: unknown, m: unknown) => JSON.stringify({ to, m });
  const victim = { type: "user", key: "victim" };
  // Malformed, and well formed but not what an actor sends (once a turn failed on them).
  const refused: [string, string][] = [
    [
      "{oops",
      "Cannot read a signal: SyntaxError: Expected property name or '}' in JSON at position 1 (line 1 column 2)",
    ],
    [
      signal({ type: "nope", key: "victim" }, told),
      'Cannot use a signal: there is no actor type "nope"',
    ],
    [
      signal(victim, "not a message"),
      'Cannot use a signal for a user: its message must be of kind "targeted", got undefined',
    ],
    [
      signal(victim, { ...told, kind: "event" }),
      'Cannot use a signal for a user: its message must be of kind "targeted", got "event"',
    ],
    [signal({ type: "ip", key: "192.0.2.1" }, told), "Cannot use a signal: ip actors take none"],
    [
      signal({ type: "user", key: "k".repeat(1_000_000) }, told),
      "Cannot use a signal: its to.key must be 1 to 256 characters",
    ],
    [
      signal(victim, { ...told, rule: "user.brute_force" }),
      'Cannot use a signal for a user: its rule must be one of ip.password_spray, ip.credential_stuffing, got "user.brute_force"',
    ],
    [
      signal(victim, { ...told, episode: { toString: 1 } }),
      'Cannot use a signal for a user: its episode must be 1 to 256 characters, got {"toString":1}',
    ],
    [
      signal(victim, { ...told, ts: 1e300 }),
      "Cannot use a signal for a user: its ts must be an event time (epoch ms), got 1e+300",
    ],
  ];
  const values = [out[0]!.value, ...refused.map(([value]) => value)];
  await intake.handleBatch({
    topic: "signals",
    partition: p,
    records: values.map((value, offset) => ({
      topic: "signals",
      partition: p,
      offset,
      key: "victim",
      value,
      timestamp: NOW,
    })),
  });
  const state = await rt.stateOf("user", "victim") as { attacked_by: { rule: string }[] };
  assert.equal(state.attacked_by[0]?.rule, "ip.password_spray", "the user's actor got the message");
  const letters = (await store.findDeadLetters(20)).reverse();
  assert.deepEqual(
    letters.map((d) => [d.category, d.reason]),
    refused.map(([, r]) => ["invalid", r]),
  );
  assert.equal(rt.stats().quarantined, 0);
});

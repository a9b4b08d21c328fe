import assert from "node:assert/strict";
import { engineRuntime } from "./runtimes.ts";
import { VirtualClock } from "../../actors/clock.ts";
import { noTelemetry } from "../../actors/ports.ts";
import { ActorRuntime } from "../../actors/runtime.ts";
import { Ticket } from "../../actors/ticket.ts";
import { userBehaviour } from "../../actors/user.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { Intake, oversize, utf8Length } from "../../engine/intake.ts";
import { Outbox } from "../../engine/outbox.ts";
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
  const intake = new Intake(rt, outbox, { ...noTelemetry, ingested() {}, invalid() {} }, {
    max_event_bytes: 10_000,
    max_future_ms: c.runtime.max_future_ms,
    now: () => clock.now(),
    rekey: { topic: "rekey" },
  });
  const rec = (p: number, o: number, id: string) =>
    JSON.stringify({
      p,
      o,
      ts: NOW,
      e: { kind: "auth", type: "login_failure", event_id: id, user_id: "u1", ip: "192.0.2.1" },
    });
  const values = [rec(2, 7, "a"), rec(2, 7, "a"), rec(2, 8, "b"), "{oops", rec(99, 9, "c")];
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
  assert.equal(state.failed_logins, 2, "the repeat of source 2 offset 7 was skipped");
  const reasons = (await store.findDeadLetters(10)).map((d) => d.reason).sort();
  assert.equal(reasons.length, 2);
  assert.match(reasons[0]!, /^Cannot read a re-keyed record/);
  assert.match(reasons[1]!, /^Cannot use a re-keyed record: bad source 99/);
});

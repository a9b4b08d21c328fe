import assert from "node:assert/strict";
import { engineRuntime } from "./runtimes.ts";
import { VirtualClock } from "../../actors/clock.ts";
import { noTelemetry } from "../../actors/ports.ts";
import { crc32PartitionOf } from "../../actors/crc32.ts";
import { partitionOf } from "../../actors/murmur2.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { Intake } from "../../engine/intake.ts";
import { Outbox } from "../../engine/outbox.ts";
import {
  MisplacementReport,
  readRepartitioned,
  type Repartitioned,
  repartitionStream,
} from "../../engine/repartition.ts";
import type { LogRecord } from "../../io/log.ts";
import { MemoryLog } from "../../io/memory_log.ts";
import { MemoryStore } from "../../io/memory_store.ts";

const NOW = Date.UTC(2026, 0, 5, 12);
const TOPICS = ["auth-events", "rekey", "repartition", "alerts", "dead-letters"];

async function setup(
  progress_ms = 1_000,
  expected_streams?: (type: string, partition: number) => readonly string[],
) {
  const c = structuredClone(defaults) as Config;
  const clock = new VirtualClock(NOW);
  const store = new MemoryStore({ max_alerts: 100, max_dead_letters: 100 });
  const log = new MemoryLog({ now: () => NOW });
  await log.ensureTopics(TOPICS, c.runtime.partitions);
  const outbox = new Outbox(store, log);
  const rt = engineRuntime(c, clock, outbox, {
    ip: true,
    ...(expected_streams ? { expected_streams } : {}),
  });
  const misplaced: string[] = [];
  const intake = new Intake(rt, outbox, {
    ...noTelemetry,
    ingested() {},
    invalid() {},
    misplaced: (topic) => misplaced.push(topic),
  }, {
    max_event_bytes: 10_000,
    max_future_ms: c.runtime.max_future_ms,
    now: () => clock.now(),
    rekey: { topic: "rekey" },
    repartition: { topic: "repartition", progress_ms, placement: "murmur2" },
  });
  return { rt, intake, log, store, misplaced };
}

const login = (i: number, user: string) =>
  JSON.stringify({
    kind: "auth",
    type: "login_success",
    event_id: `e${i}`,
    user_id: user,
    ip: `192.0.2.${i % 7}`,
    timestamp: new Date(NOW - 120_000 + i * 1_000).toISOString(),
  });

const records = (topic: string, partition: number, from: number, values: string[]): LogRecord[] =>
  values.map((value, i) => ({
    topic,
    partition,
    offset: from + i,
    key: null,
    value,
    timestamp: NOW,
  }));

/** Feeds every repartition record waiting in the log to its partition. */
async function deliverMoved(intake: Intake, log: MemoryLog, partitions: number, from = 0) {
  for (let p = 0; p < partitions; p++) {
    const rs = log.records("repartition", p).slice(from);
    if (rs.length > 0) {
      await intake.handleBatch({ topic: "repartition", partition: p, records: rs });
    }
  }
}

Deno.test("Intake moves records that arrived on another partition than their key's there, in offset order, once", async () => {
  const { rt, intake, log, misplaced } = await setup();
  const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
  const values = Array.from({ length: 30 }, (_, i) => login(i, users[i % users.length]!));
  await intake.handleBatch({
    topic: "auth-events",
    partition: 0,
    records: records("auth-events", 0, 100, values),
  });
  const home = (u: string) => rt.partitionFor(u);
  const away = users.filter((u) => home(u) !== 0);
  assert.ok(away.length > 0 && away.length < users.length, "the users live on several partitions");
  for (const u of users) {
    assert.equal(rt.isResident("user", u), home(u) === 0, `${u} is handled only where it lives`);
  }
  assert.equal(misplaced.length, values.filter((_, i) => home(users[i % 10]!) !== 0).length);
  // One record to every other partition: the moved records, or only how far partition 0 was read.
  for (let p = 1; p < rt.partitions; p++) {
    const [r, ...more] = log.records("repartition", p);
    assert.equal(more.length, 0);
    const moved = JSON.parse(r!.value) as Repartitioned;
    assert.equal(moved.k, "auth");
    assert.equal(moved.q, 0);
    assert.equal(moved.hi, 129, "read up to the batch's last offset");
    assert.equal(moved.mx, NOW - 120_000 + 29_000, "and its highest event time");
    const mine = values.map((v, i) => ({ v, o: 100 + i })).filter(({ v }) =>
      home(JSON.parse(v).user_id) === p
    );
    assert.deepEqual(
      moved.r.map((e) => e.o),
      mine.map((m) => m.o),
      `partition ${p}: its records, in order`,
    );
    assert.deepEqual(moved.r.map((e) => e.v), mine.map((m) => m.v), "as they were written");
  }
  // Every login attempt is re-keyed from the partition it arrived on, moved or not.
  const rekeyed = log.all("rekey").flatMap((r) =>
    JSON.parse(r.value).r.map((e: { o: number }) => e.o)
  );
  assert.deepEqual(rekeyed.sort((a: number, b: number) => a - b), values.map((_, i) => 100 + i));
  // Delivered where they live, twice (a producer retry): each login counted once.
  await deliverMoved(intake, log, rt.partitions);
  await deliverMoved(intake, log, rt.partitions);
  for (const u of users) {
    const state = await rt.stateOf("user", u) as { logins: number };
    assert.equal(state.logins, 3, u);
  }
  // Handed the batch again (the consumer rejoined at an older offset): nothing moves twice.
  const before = log.all("repartition").length;
  await intake.handleBatch({
    topic: "auth-events",
    partition: 0,
    records: records("auth-events", 0, 100, values),
  });
  const after = log.all("repartition").slice(before).map((r) =>
    JSON.parse(r.value) as Repartitioned
  );
  assert.deepEqual(after.flatMap((m) => m.r), [], "no record moved again");
});

Deno.test("Intake tells the other partitions how far it has read only when event time moved on by progress_ms", async () => {
  const { intake, log } = await setup(10_000);
  const mine = (i: number) => {
    // A user that lives on partition 3, read on partition 3.
    for (let k = 0;; k++) if (partitionOf(`p3-${i}-${k}`, 12) === 3) return `p3-${i}-${k}`;
  };
  const batch = (from: number, n: number) =>
    intake.handleBatch({
      topic: "auth-events",
      partition: 3,
      records: records(
        "auth-events",
        3,
        from,
        Array.from({ length: n }, (_, i) => login(from + i, mine(from + i))),
      ),
    });
  await batch(0, 5);
  assert.equal(log.all("repartition").length, 11, "the first batch tells every other partition");
  await batch(5, 5); // 5 s of event time on: less than 10 s
  assert.equal(log.all("repartition").length, 11, "not yet again");
  await batch(10, 10); // 15 s past what was told
  assert.equal(log.all("repartition").length, 22);
  const last = JSON.parse(log.records("repartition", 0).at(-1)!.value) as Repartitioned;
  assert.deepEqual({ q: last.q, hi: last.hi, r: last.r }, { q: 3, hi: 19, r: [] });
});

Deno.test("A moved record is not late: the partition it goes to holds its event time back to the one it came from", async () => {
  // As the system sets it up on Kafka (here: one other partition that may send records).
  const { rt, intake, log, store } = await setup(
    1_000,
    (_type, p) => ["auth-events", repartitionStream("auth-events", p + 1)],
  );
  const lateness = defaults.runtime.allowed_lateness_ms;
  const user = (p: number, i: number) => {
    for (let k = 0;; k++) if (partitionOf(`w${i}-${k}`, 12) === p) return `w${i}-${k}`;
  };
  const at = (minute: number, u: string, id: string) =>
    JSON.stringify({
      kind: "auth",
      type: "logout",
      event_id: id,
      user_id: u,
      timestamp: new Date(NOW - 60 * 60_000 + minute * 60_000).toISOString(),
    });
  // Partition 5 reads 30 minutes of its own records; partition 6, which may send it
  // records, has read nothing yet: partition 5's event time waits for it.
  const own = Array.from({ length: 30 }, (_, i) => at(i, user(5, i), `d${i}`));
  await intake.handleBatch({
    topic: "auth-events",
    partition: 5,
    records: records("auth-events", 5, 0, own),
  });
  assert.equal(rt.watermark(5, "user"), -Infinity);
  // Partition 6 reads a record from minute 2 of a user who lives on 5, and moves it there.
  const late = user(5, 99);
  await intake.handleBatch({
    topic: "auth-events",
    partition: 6,
    records: records("auth-events", 6, 40, [at(2, late, "m1")]),
  });
  assert.equal(rt.isResident("user", late), false);
  await deliverMoved(intake, log, 12);
  assert.equal(rt.isResident("user", late), true, "delivered where it lives");
  assert.deepEqual(await store.findDeadLetters(10), [], "and not found late");
  assert.equal(
    rt.watermark(5, "user"),
    NOW - 60 * 60_000 + 2 * 60_000 - lateness,
    "now partition 5's event time follows partition 6's",
  );
});

Deno.test("readRepartitioned() takes a well-formed record and says what a bad one lacks", () => {
  assert.equal(readRepartitioned('{"k":"auth","q":3,"r":[],"hi":9,"mx":0}', 12).ok, true);
  for (
    const bad of [
      "{oops",
      "5",
      '{"k":"nope","q":3,"r":[],"hi":9,"mx":0}',
      '{"k":"auth","q":12,"r":[],"hi":9,"mx":0}',
    ]
  ) {
    const r = readRepartitioned(bad, 12);
    assert.equal(r.ok, false, bad);
    if (!r.ok) assert.match(r.reason, /^Cannot (read|use) a repartitioned record/);
  }
});

Deno.test("MisplacementReport says which partitioner the keys look placed by", () => {
  const keyOn = (p: number, place: (k: string, n: number) => number) => {
    for (let k = 0;; k++) {
      if (
        place(`k${p}-${k}`, 12) === p &&
        partitionOf(`k${p}-${k}`, 12) !== crc32PartitionOf(`k${p}-${k}`, 12)
      ) return `k${p}-${k}`;
    }
  };
  const report = new MisplacementReport(12, "murmur2", () => "user_id");
  for (let i = 0; i < 40; i++) {
    report.read("auth-events");
    const p = i % 12;
    report.misplaced("auth-events", p, keyOn(p, crc32PartitionOf));
  }
  for (let i = 0; i < 10; i++) report.misplaced("clickstream", i % 12, null);
  const [auth, clicks] = report.take();
  assert.match(auth!.message, /look placed by crc32 .*VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=crc32/);
  assert.equal(auth!.fields.misplaced, 40);
  assert.match(clicks!.message, /without keys \(round robin\)/);
  assert.deepEqual(report.take(), [], "counting starts anew");
  // Keys murmur2 places where they arrived, under murmur2: they are not the entity's keys.
  for (let i = 0; i < 12; i++) report.misplaced("auth-events", i, keyOn(i, partitionOf));
  assert.match(report.take()[0]!.message, /keyed by another value than their user_id field/);
});

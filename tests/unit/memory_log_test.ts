import assert from "node:assert/strict";
import { partitionOf } from "../../actors/murmur2.ts";
import type { Alert, DeadLetter } from "../../events/types.ts";
import type { Batch, Consumer } from "../../io/log.ts";
import { MemoryLog } from "../../io/memory_log.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import { Turns } from "../../io/turns.ts";
import { ALERTS_TOPIC, DEAD_LETTER_TOPIC, INCIDENTS_TOPIC, Outbox } from "../../engine/outbox.ts";

const T0 = Date.UTC(2024, 0, 1);

/** Lets pending promise callbacks and woken loops run. */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

/** `p`, or a rejection if it has not settled within `ms` (the timer is always cleared). */
async function before<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let id: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    id = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(id);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

async function topic(
  partitions: number,
  options: { retention_records?: number; keep_consumed_records?: number } = {},
) {
  const log = new MemoryLog({ ...options, now: () => T0 });
  await log.ensureTopics(["t"], partitions);
  return log;
}

function values(n: number, key: string | null = "k", from = 0) {
  return Array.from({ length: n }, (_, i) => ({ key, value: `v${from + i}` }));
}

/** A consumer that records the batches it gets. */
function recorder(log: MemoryLog, group: string, max_batch = 100) {
  const batches: Batch[] = [];
  const consumer = log.consume({
    group,
    topics: ["t"],
    max_batch,
    handler: (b) => {
      batches.push(b);
      return Promise.resolve();
    },
  });
  const seen = () => batches.flatMap((b) => b.records.map((r) => r.value));
  return { batches, consumer, seen };
}

async function stop(consumer: Consumer): Promise<void> {
  await before(consumer.stop(), 1_000, "stop()");
}

// ---------------------------------------------------------------------------------------------
// MemoryLog

Deno.test("MemoryLog produce() places keyed records on partitionOf(key) with increasing offsets", async () => {
  const log = await topic(12);
  const keys = Array.from({ length: 60 }, (_, i) => `user-${i % 20}`);
  await log.produce("t", keys.map((key, i) => ({ key, value: String(i) })));
  let total = 0;
  for (let p = 0; p < 12; p++) {
    const records = log.records("t", p);
    total += records.length;
    records.forEach((r, i) => {
      assert.equal(r.partition, p);
      assert.equal(partitionOf(r.key!, 12), p, `key ${r.key}`);
      assert.equal(r.offset, i, "offsets count up from 0 per partition");
      assert.equal(r.topic, "t");
      assert.equal(r.timestamp, T0);
    });
    const order = records.map((r) => Number(r.value));
    assert.deepEqual(order, [...order].sort((a, b) => a - b), "in produce order");
  }
  assert.equal(total, 60);
  assert.equal(log.all("t").length, 60);
});

Deno.test("MemoryLog produce() continues offsets across calls", async () => {
  const log = await topic(1);
  await log.produce("t", values(2));
  await log.produce("t", values(3, "k", 2));
  assert.deepEqual(log.records("t", 0).map((r) => r.offset), [0, 1, 2, 3, 4]);
});

Deno.test("MemoryLog produce() spreads records without a key round-robin", async () => {
  const log = await topic(3);
  await log.produce("t", values(7, null));
  assert.deepEqual([0, 1, 2].map((p) => log.records("t", p).map((r) => r.value)), [
    ["v0", "v3", "v6"],
    ["v1", "v4"],
    ["v2", "v5"],
  ]);
});

Deno.test("MemoryLog produce() rejects an unknown topic", async () => {
  const log = await topic(1);
  await assert.rejects(log.produce("nope", values(1)), /"nope"/);
});

Deno.test("MemoryLog consume() hands batches in offset order, at most max_batch at a time", async () => {
  const log = await topic(1);
  await log.produce("t", values(5));
  const r = recorder(log, "g", 2);
  await settle();
  assert.deepEqual(r.batches.map((b) => b.records.map((x) => x.offset)), [[0, 1], [2, 3], [4]]);
  assert.ok(r.batches.every((b) => b.topic === "t" && b.partition === 0));
  await log.produce("t", values(1, "k", 5));
  await settle();
  assert.deepEqual(r.seen(), ["v0", "v1", "v2", "v3", "v4", "v5"]);
  await stop(r.consumer);
});

Deno.test("MemoryLog consume() under a backlog lets the event loop turn: timers run while 12 partitions are read", async () => {
  const log = new MemoryLog({ now: () => T0, turns: new Turns(10) });
  await log.ensureTopics(["t"], 12);
  for (let p = 0; p < 12; p++) {
    await log.produce(
      "t",
      Array.from({ length: 200 }, (_, i) => ({ key: `k${p}`, value: `v${i}` })),
    );
  }
  let handled = 0;
  const consumer = log.consume({
    group: "g",
    topics: ["t"],
    max_batch: 1_000,
    handler: (b) => {
      const end = performance.now() + 0.2 * b.records.length; // 0.2 ms a record: 480 ms in all
      while (performance.now() < end) { /* busy */ }
      handled += b.records.length;
      return Promise.resolve();
    },
  });
  // A timer chain: its longest gap is the longest turn.
  let last = performance.now();
  let longest = 0;
  let ticks = 0;
  while (handled < 2_400) {
    await new Promise<void>((r) => setTimeout(r, 0));
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    ticks++;
  }
  await stop(consumer);
  assert.ok(ticks >= 10, `the timer ran ${ticks} times while 2,400 records were handled`);
  assert.ok(longest < 240, `the longest turn took ${longest.toFixed(0)} ms (all the work: 480 ms)`);
});

Deno.test("MemoryLog consume() commits a batch only after its handler resolves", async () => {
  const log = await topic(1);
  await log.produce("t", values(3));
  const entered = deferred();
  const release = deferred();
  const consumer = log.consume({
    group: "g",
    topics: ["t"],
    max_batch: 10,
    handler: async () => {
      entered.resolve();
      await release.promise;
    },
  });
  await before(entered.promise, 1_000, "the handler");
  await settle();
  assert.equal(log.committed("g", "t", 0), 0, "nothing committed while the handler runs");
  assert.deepEqual(consumer.lag(), { "t/0": 3 });
  release.resolve();
  await settle();
  assert.equal(log.committed("g", "t", 0), 3);
  assert.deepEqual(consumer.lag(), { "t/0": 0 });
  assert.equal(log.committed("other", "t", 0), 0, "per group");
  await stop(consumer);
});

Deno.test("MemoryLog consume() by a second consumer of a group resumes from the committed offset", async () => {
  const log = await topic(1);
  await log.produce("t", values(4));
  const first = recorder(log, "g");
  await settle();
  await stop(first.consumer);
  assert.equal(log.committed("g", "t", 0), 4);
  await log.produce("t", values(2, "k", 4));
  const second = recorder(log, "g");
  const fresh = recorder(log, "h");
  await settle();
  assert.deepEqual(first.seen(), ["v0", "v1", "v2", "v3"], "a stopped consumer gets no more");
  assert.deepEqual(second.seen(), ["v4", "v5"]);
  assert.deepEqual(fresh.seen(), ["v0", "v1", "v2", "v3", "v4", "v5"]);
  await stop(second.consumer);
  await stop(fresh.consumer);
});

Deno.test("MemoryLog drops the oldest records past retention_records", async () => {
  const log = await topic(1, { retention_records: 3 });
  await log.produce("t", values(5));
  assert.deepEqual(log.records("t", 0).map((r) => [r.offset, r.value]), [
    [2, "v2"],
    [3, "v3"],
    [4, "v4"],
  ]);
  const r = recorder(log, "g");
  await settle();
  assert.deepEqual(r.seen(), ["v2", "v3", "v4"], "a consumer starts at the oldest retained");
  assert.equal(log.committed("g", "t", 0), 5);
  await stop(r.consumer);
});

Deno.test("MemoryLog keeps only the newest keep_consumed_records of what every reading group has committed, and all a slower group has not", async () => {
  const log = await topic(1, { retention_records: 100, keep_consumed_records: 2 });
  await log.produce("t", values(6));
  const offsets = () => log.records("t", 0).map((r) => r.offset);
  assert.deepEqual(offsets(), [0, 1, 2, 3, 4, 5], "nobody reads it yet: all kept");
  const fast = recorder(log, "fast");
  await settle();
  assert.deepEqual(offsets(), [4, 5], "read and committed by its only reader: the newest 2");
  // A second group that has read nothing holds everything after what is already gone.
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  const slow = log.consume({
    group: "slow",
    topics: ["t"],
    max_batch: 1,
    handler: () => held,
  });
  await log.produce("t", values(4, "k", 6));
  await settle();
  assert.deepEqual(fast.seen().length, 10);
  assert.deepEqual(offsets(), [4, 5, 6, 7, 8, 9], "the slow group has committed none of them");
  release();
  await settle();
  assert.equal(log.committed("slow", "t", 0), 10);
  assert.deepEqual(offsets(), [8, 9], "both have them now");
  await stop(fast.consumer);
  await stop(slow);
  await log.produce("t", values(3, "k", 10));
  assert.deepEqual(offsets(), [8, 9, 10, 11, 12], "unread by either since: kept");
  const again = recorder(log, "fast");
  await settle();
  assert.deepEqual(again.seen(), ["v10", "v11", "v12"], "a reader goes on from its commit");
  await stop(again.consumer);
});

Deno.test("MemoryLog consume() stop() ends idle loops and hands nothing afterwards", async () => {
  const log = await topic(4);
  const r = recorder(log, "g");
  await settle();
  await stop(r.consumer);
  await log.produce("t", values(8, null));
  await settle();
  assert.deepEqual(r.batches, []);
  assert.equal(log.committed("g", "t", 0), 0);
});

Deno.test("MemoryLog consume() stop() waits for the batch in hand and commits it", async () => {
  const log = await topic(1);
  await log.produce("t", values(2));
  const entered = deferred();
  const release = deferred();
  let finished = false;
  const consumer = log.consume({
    group: "g",
    topics: ["t"],
    max_batch: 10,
    handler: async () => {
      entered.resolve();
      await release.promise;
      finished = true;
    },
  });
  await before(entered.promise, 1_000, "the handler");
  let stopped = false;
  const stopping = consumer.stop().then(() => stopped = true);
  await settle();
  assert.equal(stopped, false, "stop() waits for the handler");
  release.resolve();
  await before(stopping, 1_000, "stop()");
  assert.equal(finished, true);
  assert.equal(log.committed("g", "t", 0), 2);
});

Deno.test("MemoryLog consume() rejects an unknown topic", () => {
  const log = new MemoryLog();
  assert.throws(
    () =>
      log.consume({ group: "g", topics: ["nope"], max_batch: 1, handler: () => Promise.resolve() }),
    /"nope"/,
  );
});

// ---------------------------------------------------------------------------------------------
// MemoryStore

function alert(id: string, fields: Partial<Alert> = {}): Alert {
  return {
    alert_id: id,
    rule: "auth.brute_force",
    severity: "medium",
    entity: { type: "user", key: "u1" },
    timestamp: new Date(T0).toISOString(),
    detected_at: new Date(T0).toISOString(),
    evidence: {},
    event_ids: [],
    mode: "enforce",
    ...fields,
  };
}

function letter(n: number): DeadLetter {
  return { source: `file:${n}`, reason: "bad", raw: "{", raw_bytes: 1, at: "2024-01-01T00:00:00Z" };
}

function store(max_alerts = 100, max_dead_letters = 100): MemoryStore {
  return new MemoryStore({ max_alerts, max_dead_letters });
}

Deno.test("MemoryStore saveAlerts() is idempotent on alert_id", async () => {
  const s = store();
  await s.saveAlerts([alert("a1"), alert("a2")]);
  await s.saveAlerts([alert("a1", { severity: "high" }), alert("a2")]);
  assert.equal(s.alertCount, 2);
  const found = await s.findAlerts({ limit: 10 });
  assert.deepEqual(found.map((a) => [a.alert_id, a.severity]), [["a2", "medium"], [
    "a1",
    "medium",
  ]]);
});

Deno.test("MemoryStore findAlerts() filters by rule, entity and time, newest first", async () => {
  const s = store();
  await s.saveAlerts([
    alert("a1"),
    alert("a2", { rule: "auth.success_after_failures" }),
    alert("a3", {
      entity: { type: "user", key: "u2" },
      timestamp: new Date(T0 + 10).toISOString(),
    }),
    alert("a4", { entity: { type: "ip", key: "u1" }, timestamp: new Date(T0 + 20).toISOString() }),
  ]);
  const ids = async (q: Parameters<MemoryStore["findAlerts"]>[0]) =>
    (await s.findAlerts(q)).map((a) => a.alert_id);
  assert.deepEqual(await ids({ limit: 10 }), ["a4", "a3", "a2", "a1"]);
  assert.deepEqual(await ids({ limit: 10, rule: "auth.brute_force" }), ["a4", "a3", "a1"]);
  assert.deepEqual(await ids({ limit: 10, entity_type: "user" }), ["a3", "a2", "a1"]);
  assert.deepEqual(await ids({ limit: 10, entity_key: "u1" }), ["a4", "a2", "a1"]);
  assert.deepEqual(await ids({ limit: 10, entity_type: "user", entity_key: "u1" }), ["a2", "a1"]);
  assert.deepEqual(await ids({ limit: 10, since_ms: T0 + 10 }), ["a4", "a3"], "since is inclusive");
  assert.deepEqual(await ids({ limit: 2 }), ["a4", "a3"]);
  assert.deepEqual(await ids({ limit: 1, rule: "auth.success_after_failures" }), ["a2"]);
  assert.deepEqual(await ids({ limit: 0 }), []);
});

Deno.test("MemoryStore keeps at most max_alerts, dropping the oldest", async () => {
  const s = store(3);
  await s.saveAlerts(["a1", "a2", "a3", "a4", "a5"].map((id) => alert(id)));
  assert.equal(s.alertCount, 3);
  const found = await s.findAlerts({ limit: 10 });
  assert.deepEqual(found.map((a) => a.alert_id), ["a5", "a4", "a3"]);
});

Deno.test("MemoryStore keeps at most max_dead_letters, newest first", async () => {
  const s = store(10, 3);
  await s.saveDeadLetters([letter(1), letter(2)]);
  await s.saveDeadLetters([letter(3), letter(4)]);
  assert.deepEqual((await s.findDeadLetters(10)).map((d) => d.source), [
    "file:4",
    "file:3",
    "file:2",
  ]);
  assert.deepEqual((await s.findDeadLetters(2)).map((d) => d.source), ["file:4", "file:3"]);
});

// ---------------------------------------------------------------------------------------------
// Outbox

/** A store whose saveAlerts fails while `failing` is set. */
class FlakyStore extends MemoryStore {
  failing = false;
  calls = 0;
  override saveAlerts(alerts: readonly Alert[]): Promise<Alert[]> {
    this.calls++;
    if (this.failing) return Promise.reject(new Error("store unavailable"));
    return super.saveAlerts(alerts);
  }
}

async function outboxLog(): Promise<MemoryLog> {
  const log = new MemoryLog({ now: () => T0 });
  await log.ensureTopics([ALERTS_TOPIC, DEAD_LETTER_TOPIC], 2);
  return log;
}

Deno.test("Outbox flush() writes alerts to the store, the alerts topic and the listeners", async () => {
  const s = store();
  const log = await outboxLog();
  const outbox = new Outbox(s, log);
  const heard: string[][] = [];
  outbox.listen((alerts) => {
    heard.push(alerts.map((a) => a.alert_id));
  });
  outbox.publish(alert("a1"));
  outbox.publish(alert("a2", { entity: { type: "user", key: "u2" } }));
  assert.equal(outbox.pending, 2);
  assert.equal(s.alertCount, 0, "nothing is written before flush()");
  await outbox.flush();
  assert.equal(outbox.pending, 0);
  assert.equal(outbox.published, 2);
  assert.equal(s.alertCount, 2);
  const records = log.all(ALERTS_TOPIC);
  assert.deepEqual(records.map((r) => r.key).sort(), ["u1", "u2"], "keyed by entity key");
  for (const r of records) {
    assert.equal(r.partition, partitionOf(r.key!, 2));
    assert.equal((JSON.parse(r.value) as Alert).entity.key, r.key);
  }
  assert.deepEqual(heard, [["a1", "a2"]]);
});

Deno.test("Outbox flush() writes the incidents its alerts changed to the incidents topic", async () => {
  const s = store();
  const log = await outboxLog();
  await log.ensureTopics([INCIDENTS_TOPIC], 2);
  const outbox = new Outbox(s, log);
  const incident = { id: "i1", anchor: { type: "ip", key: "203.0.113.9" }, episode: "spray:1" };
  outbox.publish(alert("a1", { incident }));
  outbox.publish(alert("a2", { incident, severity: "critical" }));
  outbox.publish(alert("a3")); // no incident (raised before incidents existed)
  await outbox.flush();
  const told = () => log.all(INCIDENTS_TOPIC).map((r) => ({ key: r.key, ...JSON.parse(r.value) }));
  assert.equal(told().length, 1);
  assert.equal(told()[0].key, "i1");
  assert.deepEqual(told()[0].alert_ids, ["a1", "a2"]);
  assert.equal(told()[0].severity, "critical");
  outbox.publish(alert("a1", { incident })); // raised again: the incident does not change
  await outbox.flush();
  assert.equal(told().length, 1, "nothing changed, nothing told");
  outbox.publish(alert("a4", { incident }));
  await outbox.flush();
  assert.deepEqual(told().map((i) => [i.alert_count, i.version]), [[2, 1], [3, 2]]);
  assert.deepEqual(await s.getIncident("i1"), JSON.parse(log.all(INCIDENTS_TOPIC)[1]!.value));
});

Deno.test("Outbox flush() writes dead letters to the store and the dead-letters topic", async () => {
  const s = store();
  const log = await outboxLog();
  const outbox = new Outbox(s, log);
  outbox.deadLetter(letter(1));
  await outbox.flush();
  assert.deepEqual(await s.findDeadLetters(10), [letter(1)]);
  assert.deepEqual(log.all(DEAD_LETTER_TOPIC).map((r) => JSON.parse(r.value)), [letter(1)]);
  assert.equal(outbox.published, 0, "published counts alerts");
});

Deno.test("Outbox flush() with nothing pending touches nothing", async () => {
  const s = new FlakyStore({ max_alerts: 10, max_dead_letters: 10 });
  const outbox = new Outbox(s, null);
  let heard = 0;
  outbox.listen(() => {
    heard++;
  });
  await outbox.flush();
  assert.equal(s.calls, 0);
  assert.equal(heard, 0);
});

Deno.test("Outbox flush() keeps the alerts when the store throws, for the next flush", async () => {
  const s = new FlakyStore({ max_alerts: 10, max_dead_letters: 10 });
  const log = await outboxLog();
  const outbox = new Outbox(s, log);
  let heard = 0;
  outbox.listen((alerts) => {
    heard += alerts.length;
  });
  outbox.publish(alert("a1"));
  outbox.publish(alert("a2"));
  s.failing = true;
  await assert.rejects(outbox.flush(), /store unavailable/);
  assert.equal(outbox.pending, 2, "nothing lost");
  assert.equal(outbox.published, 0);
  assert.equal(heard, 0);
  assert.equal(log.all(ALERTS_TOPIC).length, 0);
  outbox.publish(alert("a3"));
  s.failing = false;
  await outbox.flush();
  assert.equal(outbox.pending, 0);
  assert.equal(outbox.published, 3);
  assert.equal(heard, 3);
  const found = await s.findAlerts({ limit: 10 });
  assert.deepEqual(found.map((a) => a.alert_id), ["a3", "a2", "a1"], "in the order raised");
  assert.equal(log.all(ALERTS_TOPIC).length, 3);
});

Deno.test("Outbox flush() keeps the alerts when the log refuses them", async () => {
  const s = store();
  const log = new MemoryLog(); // no alerts topic: produce rejects
  const outbox = new Outbox(s, log);
  outbox.publish(alert("a1"));
  await assert.rejects(outbox.flush(), /"alerts"/);
  assert.equal(outbox.pending, 1);
  await log.ensureTopics([ALERTS_TOPIC], 1);
  await outbox.flush();
  assert.equal(outbox.pending, 0);
  assert.equal(s.alertCount, 1, "saved twice, stored once");
  assert.equal(log.all(ALERTS_TOPIC).length, 1);
});

Deno.test("Outbox flush() runs flushes one after another", async () => {
  const s = store();
  const log = await outboxLog();
  const outbox = new Outbox(s, log);
  const gate = deferred();
  const order: string[] = [];
  outbox.listen(async (alerts) => {
    order.push(`start ${alerts[0]!.alert_id}`);
    if (alerts[0]!.alert_id === "a1") await gate.promise;
    order.push(`end ${alerts[0]!.alert_id}`);
  });
  outbox.publish(alert("a1"));
  const first = outbox.flush();
  await settle();
  outbox.publish(alert("a2"));
  const second = outbox.flush();
  await settle();
  assert.deepEqual(order, ["start a1"]);
  gate.resolve();
  await before(Promise.all([first, second]), 1_000, "both flushes");
  assert.deepEqual(order, ["start a1", "end a1", "start a2", "end a2"]);
  assert.equal(outbox.published, 2);
});

Deno.test("Outbox publishes an alert raised again with the content first stored", async () => {
  const store = new MemoryStore({ max_alerts: 10, max_dead_letters: 10 });
  const log = new MemoryLog();
  await log.ensureTopics([ALERTS_TOPIC, DEAD_LETTER_TOPIC], 1);
  const outbox = new Outbox(store, log);
  outbox.publish(alert("a1", { detected_at: "2026-01-05T00:00:00.000Z" }));
  await outbox.flush();
  outbox.publish(alert("a1", { detected_at: "2026-01-05T09:99:00.000Z" }));
  await outbox.flush();
  const values = log.all(ALERTS_TOPIC).map((r) => r.value);
  assert.equal(values.length, 2);
  assert.equal(values[0], values[1], "the repeat is identical");
});

import assert from "node:assert/strict";
import { engineRuntime } from "./runtimes.ts";
import { VirtualClock } from "../../actors/clock.ts";
import { noTelemetry } from "../../actors/ports.ts";
import { ActorRuntime } from "../../actors/runtime.ts";
import { USER } from "../../actors/user.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { Checkpointer, type CheckpointEvents } from "../../engine/checkpoints.ts";
import { Intake } from "../../engine/intake.ts";
import { Outbox } from "../../engine/outbox.ts";
import type { Alert } from "../../events/types.ts";
import type { Batch, LogRecord } from "../../io/log.ts";
import { MemoryStore } from "../../io/memory_store.ts";
import type { Store, StoredCheckpoint } from "../../io/store.ts";
import { Simulator } from "../../sim/simulator.ts";
import { parseEvent } from "../../events/validate.ts";

const TOPIC = "auth-events";
const BATCH = 40;

/** A simulated auth stream laid out as a partitioned topic: records per partition, by offset. */
function partitionedStream(n: number, partitions: number, runtime: ActorRuntime) {
  const sim = new Simulator({
    seed: 5,
    users: 300,
    start_ms: Date.UTC(2026, 0, 5, 8),
    events_per_second: 50,
    attack_interval_s: 20,
  });
  const parts: LogRecord[][] = Array.from({ length: partitions }, () => []);
  let count = 0;
  while (count < n) {
    for (const e of sim.take(1_000)) {
      if (e.kind !== "auth" || count >= n) continue;
      const p = runtime.partitionFor(String(e.user_id));
      parts[p]!.push({
        topic: TOPIC,
        partition: p,
        offset: parts[p]!.length,
        key: String(e.user_id),
        value: JSON.stringify(e),
        timestamp: Date.parse(e.timestamp),
      });
      count++;
    }
  }
  return parts;
}

const quiet: CheckpointEvents = { written() {}, restored() {}, failed() {} };

function node(store: Store, clock: VirtualClock, events: CheckpointEvents = quiet) {
  const c = structuredClone(defaults) as Config;
  const alerts: Alert[] = [];
  const outbox = new Outbox(store, null);
  outbox.listen((a) => {
    alerts.push(...a);
  });
  const runtime = engineRuntime(c, clock, outbox);
  const intake = new Intake(runtime, outbox, { ...noTelemetry, ingested() {}, invalid() {} }, {
    max_event_bytes: c.max_event_bytes,
    max_future_ms: Infinity,
    now: () => clock.now(),
  });
  const checkpoints = new Checkpointer(runtime, store, {
    group: "g",
    interval_ms: Number.MAX_SAFE_INTEGER,
    restore_attempts: 2,
    now: () => clock.now(),
    events,
  });
  return { runtime, intake, checkpoints, alerts };
}

type Node = ReturnType<typeof node>;

/** Feeds records [from, to) of every partition, in batches, round-robin over partitions. */
async function feed(n: Node, parts: LogRecord[][], from: number[], to: number[]) {
  const at = [...from];
  for (let more = true; more;) {
    more = false;
    for (let p = 0; p < parts.length; p++) {
      const records = parts[p]!.slice(at[p]!, Math.min(at[p]! + BATCH, to[p]!));
      if (records.length === 0) continue;
      more = true;
      at[p]! += records.length;
      const batch: Batch = { topic: TOPIC, partition: p, records };
      await n.intake.handleBatch(batch);
      n.checkpoints.handled(batch);
      n.checkpoints.takeDue();
    }
  }
}

async function states(runtime: ActorRuntime, parts: LogRecord[][]) {
  const users = new Set(parts.flat().map((r) => r.key!));
  const out: Record<string, unknown> = {};
  for (const u of [...users].sort()) out[u] = await runtime.stateOf(USER, u);
  return out;
}

Deno.test("A checkpoint restored elsewhere, then the rest of the input, gives the uninterrupted run's alerts and states", async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 6));
  const one = node(new MemoryStore({ max_alerts: 100_000, max_dead_letters: 100 }), clock);
  const parts = partitionedStream(6_000, one.runtime.partitions, one.runtime);
  const ends = parts.map((p) => p.length);
  await feed(one, parts, ends.map(() => 0), ends);
  assert.ok(one.alerts.length > 5, `only ${one.alerts.length} alerts in the stream`);

  // Two processes sharing one store: the first handles ~60% and checkpoints, then dies;
  // the second restores every partition and reads on from the checkpoint's offsets.
  const store = new MemoryStore({ max_alerts: 100_000, max_dead_letters: 100 });
  const first = node(store, clock);
  const cut = ends.map((n) => Math.floor(n * 0.6));
  await feed(first, parts, ends.map(() => 0), cut);
  for (let p = 0; p < parts.length; p++) await first.checkpoints.take(p);
  // It goes on a little past its checkpoints (alerts published) before it dies.
  const died = cut.map((c, p) => Math.min(ends[p]!, c + 25));
  await feed(first, parts, cut, died);

  const restored: number[] = [];
  const second = node(store, clock, { ...quiet, restored: (_p, actors) => restored.push(actors) });
  const from: number[] = [];
  for (let p = 0; p < parts.length; p++) {
    const offsets = await second.checkpoints.restore(p);
    from.push(offsets[TOPIC] ?? 0);
  }
  assert.deepEqual(from, cut, "each partition resumes at its checkpoint's offset");
  assert.equal(restored.length, parts.length);
  assert.ok(restored.every((n) => n > 0));
  // What the first had already published past the checkpoint is replayed silently.
  for (let p = 0; p < parts.length; p++) {
    const records = parts[p]!.slice(from[p], died[p]);
    if (records.length > 0) {
      await second.intake.handleBatch({
        topic: TOPIC,
        partition: p,
        records,
        replay_below: died[p]!,
      });
    }
  }
  await feed(second, parts, died, ends);

  const ids = (alerts: Alert[]) => alerts.map((a) => a.alert_id).sort();
  const both = [...first.alerts, ...second.alerts];
  assert.deepEqual(ids(both), ids(one.alerts), "the same alerts, each once");
  assert.deepEqual(await states(second.runtime, parts), await states(one.runtime, parts));
});

Deno.test("Checkpointer.take() skips a partition with no new input, and one whose write is in flight", async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 6));
  const saved: StoredCheckpoint[] = [];
  let release!: () => void;
  class SlowStore extends MemoryStore {
    override saveCheckpoint(cp: StoredCheckpoint): Promise<void> {
      saved.push(cp);
      return new Promise<void>((r) => release = r);
    }
  }
  const n = node(new SlowStore({ max_alerts: 100, max_dead_letters: 100 }), clock);
  assert.equal(n.checkpoints.take(0), null, "nothing handled yet");
  const p = n.runtime.partitionFor("alice");
  const record: LogRecord = {
    topic: TOPIC,
    partition: p,
    offset: 7,
    key: "alice",
    value: JSON.stringify({
      kind: "auth",
      type: "logout",
      user_id: "alice",
      timestamp: new Date(clock.now()).toISOString(),
    }),
    timestamp: clock.now(),
  };
  const batch: Batch = { topic: TOPIC, partition: p, records: [record] };
  await n.intake.handleBatch(batch);
  n.checkpoints.handled(batch);
  const write = n.checkpoints.take(p);
  assert.ok(write);
  n.checkpoints.handled({ ...batch, records: [{ ...record, offset: 8 }] });
  assert.equal(n.checkpoints.take(p), null, "one write at a time");
  release();
  await write;
  assert.equal(saved.length, 1);
  assert.deepEqual(saved[0]!.offsets, { [TOPIC]: 8 });
  assert.equal(saved[0]!.id, `g/${p}`);
  const image = JSON.parse(saved[0]!.image);
  assert.deepEqual(image.actors.map((a: [string, unknown]) => a[0]), ["user:alice"]);
  assert.ok(n.checkpoints.take(p), "the newer input is checkpointed next");
});

Deno.test("Checkpointer.restore() passes over a checkpoint of another partition count and reads from the start", async () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 6));
  const store = new MemoryStore({ max_alerts: 100, max_dead_letters: 100 });
  await store.saveCheckpoint({
    id: "g/3",
    offsets: { [TOPIC]: 500 },
    partitions: 6,
    image: JSON.stringify({
      lanes: [{ type: USER, watermark: 1, max_event_ms: 2, timers: [], streams: [] }],
      actors: [],
    }),
    created_at: new Date(clock.now()).toISOString(),
  });
  const failures: string[] = [];
  const n = node(store, clock, {
    ...quiet,
    failed: (p, what, err) => failures.push(`${p} ${what} ${String(err)}`),
  });
  assert.deepEqual(await n.checkpoints.restore(3), {});
  assert.equal(failures.length, 1);
  assert.match(failures[0]!, /^3 restore .*taken with 6 partitions, not 12/);
  assert.equal(n.runtime.watermark(3), -Infinity, "nothing of it was restored");
});

Deno.test("ActorRuntime.importPartition() refuses an actor of another partition, and a partition in use", () => {
  const clock = new VirtualClock(0);
  const n = node(new MemoryStore({ max_alerts: 10, max_dead_letters: 10 }), clock);
  const p = n.runtime.partitionFor("alice");
  const other = (p + 1) % n.runtime.partitions;
  assert.throws(
    () => n.runtime.importPartition(other, { lanes: [], actors: [["user:alice", {}]] }),
    /actor user:alice belongs to another one/,
  );
  n.runtime.advanceWatermark(p, 1_000_000, USER);
  assert.throws(
    () => n.runtime.importPartition(p, { lanes: [], actors: [] }),
    /already holds actors or timers/,
  );
});

Deno.test("A restored partition keeps its input streams: one still catching up is not late", () => {
  const clock = new VirtualClock(Date.UTC(2026, 0, 6));
  const store = new MemoryStore({ max_alerts: 10, max_dead_letters: 10 });
  const a = node(store, clock), b = node(store, clock);
  const p = a.runtime.partitionFor("alice");
  const T = Date.UTC(2026, 0, 5);
  const logout = parseEvent(JSON.stringify({
    kind: "auth",
    type: "logout",
    user_id: "alice",
    timestamp: new Date(T).toISOString(),
  }));
  assert.ok(logout.ok);
  const msg = { kind: "event", event: logout.event };
  // Two streams feed the lane; the slow one is 10 min behind when the image is taken.
  a.runtime.deliverEvent(USER, "alice", msg, T, null, "slow");
  a.runtime.deliverEvent(USER, "alice", msg, T + 10 * 60_000, null, "fast");
  const image = JSON.parse(JSON.stringify(a.runtime.exportPartition(p)));
  b.runtime.importPartition(p, image);
  assert.equal(b.runtime.watermark(p, USER), a.runtime.watermark(p, USER));
  // After the takeover the fast stream delivers first; the slow one must still be waited for.
  b.runtime.deliverEvent(USER, "alice", msg, T + 20 * 60_000, null, "fast");
  const r = b.runtime.deliverEvent(USER, "alice", msg, T + 60_000, null, "slow");
  assert.ok(
    r === null || r instanceof Promise,
    `the slow stream's event was late: ${JSON.stringify(r)}`,
  );
});

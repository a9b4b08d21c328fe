/**
 * What the fault drills share: a simulated auth stream with attacks, the alert ids that
 * `replay` gives for it, producing it to Kafka, and reading the outcome.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Kafka, Partitioners, type Producer } from "kafkajs";
import { kafkaClient } from "../../io/kafka_log.ts";
import type { MongoStore } from "../../io/mongo_store.ts";
import { until } from "./workers.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { loadModels } from "../../engine/served_models.ts";
import { ModelService } from "../../models/service.ts";
import { Simulator } from "../../sim/simulator.ts";
import { partitionOf } from "../../actors/murmur2.ts";

/**
 * `n` simulated auth events (JSON lines) in event-time order, with attacks every 10 s,
 * then the closing events (see `closingEvents`).
 */
export function simulatedAuthStream(n: number, seed: number): string[] {
  const sim = new Simulator({
    seed,
    users: 20_000,
    start_ms: Date.UTC(2026, 0, 5, 8),
    events_per_second: 400,
    attack_interval_s: 10,
  });
  const lines: string[] = [];
  let last = 0;
  while (lines.length < n) {
    for (const e of sim.take(10_000)) {
      if (e.kind !== "auth" || lines.length >= n) continue;
      lines.push(JSON.stringify(e));
      last = Date.parse(e.timestamp);
    }
  }
  return [...lines, ...closingEvents(last + 5 * 60_000)];
}

/**
 * Events that end a drill's stream, at `ts`: one failed login from every source
 * partition to every IP partition, each by a user and an IP of its own (so they raise
 * nothing). Live workers judge a failure once every re-keyed stream feeding its IP's
 * partition has moved a lateness past it; these move them all past the real events, as
 * the end of a replay's file does. (Without them the last failures would wait for the
 * idle delay, minutes.)
 */
function closingEvents(ts: number): string[] {
  const partitions = defaults.runtime.partitions;
  const keyIn = (p: number, make: (k: number) => string) => {
    for (let k = 0;; k++) if (partitionOf(make(k), partitions) === p) return make(k);
  };
  const out: string[] = [];
  for (let p = 0; p < partitions; p++) {
    for (let q = 0; q < partitions; q++) {
      const user = keyIn(p, (k) => `drill-end-${p}-${q}-${k}`);
      const ip = keyIn(q, (k) => `10.250.${q}.${k}`);
      out.push(JSON.stringify({
        kind: "auth",
        event_id: `drill-end-${p}-${q}`,
        timestamp: new Date(ts).toISOString(),
        type: "login_failure",
        user_id: user,
        ip,
      }));
    }
  }
  return out;
}

/** The alert ids replay gives for these lines, scoring with the models the workers load. */
export async function expectedAlertIds(lines: string[]): Promise<Set<string>> {
  const config = structuredClone(defaults) as Config;
  const models = new ModelService(config.models);
  await loadModels(models, new URL("../../models", import.meta.url).pathname);
  const r = await replay(linesOf(lines.join("\n")), config, models).finally(() => models.close());
  for (const a of r.alerts) replayed.set(a.alert_id, `${a.rule}/${a.entity.key}@${a.timestamp}`);
  return new Set(r.alerts.map((a) => a.alert_id));
}

/** What replay raised, by alert id (to say which alerts a drill missed). */
const replayed = new Map<string, string>();

/** A kafkajs client as any producer would use. */
export function client(brokers: string): Kafka {
  return kafkaClient({ client_id: "drill", brokers: [brokers] }, {
    retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}

/** A producer placing keys as Kafka's Java client does. */
export function producerOf(kafka: Kafka): Producer {
  return kafka.producer({
    createPartitioner: Partitioners.DefaultPartitioner,
    idempotent: true,
    maxInFlightRequests: 1,
  });
}

/**
 * Produces the lines keyed by user in chunks, calling `during(i)` before each chunk (to
 * inject a fault); a send that fails (the broker is down) is tried again until it goes.
 */
export async function produceAll(
  producer: Producer,
  topic: string,
  lines: string[],
  during: (sent: number) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  for (let i = 0; i < lines.length; i += 2_000) {
    await during(i);
    const messages = lines.slice(i, i + 2_000).map((value) => ({
      key: JSON.parse(value).user_id as string,
      value,
    }));
    for (let attempt = 0;; attempt++) {
      try {
        await producer.send({ topic, acks: -1, messages });
        break;
      } catch (err) {
        if (attempt > 60) throw err;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }
}

/** Reads a whole topic from the start until `enough` says so; returns id → JSON text, failing on any repeat with other content. */
export async function alertsOnTopic(
  kafka: Kafka,
  topic: string,
  enough: (ids: Map<string, string>) => boolean,
  timeout_ms = 60_000,
): Promise<Map<string, string>> {
  const seen = new Map<string, string>();
  const differing: string[] = [];
  const consumer = kafka.consumer({ groupId: `reader-${crypto.randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ message }) => {
      const text = message.value!.toString();
      const id = JSON.parse(text).alert_id as string;
      const before = seen.get(id);
      if (before !== undefined && before !== text) differing.push(id);
      seen.set(id, text);
      return Promise.resolve();
    },
  });
  const deadline = Date.now() + timeout_ms;
  while (!enough(seen) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  await consumer.disconnect();
  if (differing.length > 0) {
    throw new Error(`Alerts repeated with other content: ${differing.join(", ")}`);
  }
  return seen;
}

/**
 * Waits until MongoDB holds as many alerts as expected, lets anything late arrive, then
 * requires exactly the expected ids, each once; and the same ids on the alerts topic, any
 * repeat identical.
 */
export async function assertAlertsMatch(
  store: MongoStore,
  kafka: Kafka,
  alertsTopic: string,
  expectedIds: Set<string>,
): Promise<void> {
  const enough = await until("every expected alert in MongoDB", async () => {
    const ids = await store.alertIds();
    return ids.length >= expectedIds.size ? true : undefined;
  }, 180_000).catch(() => false);
  if (enough) await new Promise((r) => setTimeout(r, 2_000));
  const ids = await store.alertIds();
  assert.equal(ids.length, new Set(ids).size, "each alert once");
  const stored = new Set(ids);
  const missing = [...expectedIds].filter((id) => !stored.has(id));
  const extra = ids.filter((id) => !expectedIds.has(id));
  const rules = async (list: string[]) =>
    (await store.findAlerts({ limit: 100_000 })).filter((a) => list.includes(a.alert_id))
      .map((a) => `${a.rule}/${a.entity.key}`);
  assert.deepEqual(
    { missing: missing.length, extra: extra.length },
    { missing: 0, extra: 0 },
    `the same alerts as replay: missing ${
      missing.slice(0, 10).map((id) => replayed.get(id) ?? id)
    }, extra ${await rules(extra)}`,
  );
  // The stream is clean: nothing may have been dead-lettered (e.g. as late after a takeover).
  const dead = (await store.findDeadLetters(100_000)).map((d) => `${d.source}: ${d.reason}`);
  // The oldest last: show where it started.
  assert.deepEqual(dead.slice(-3), [], `no event dead-lettered (${dead.length})`);
  const onTopic = await alertsOnTopic(kafka, alertsTopic, (seen) => seen.size >= expectedIds.size);
  assert.deepEqual(new Set(onTopic.keys()), expectedIds, "the alerts topic carries every one");
}

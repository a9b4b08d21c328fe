/**
 * What the fault drills share: a simulated stream of every event kind with attacks, the
 * alert ids that `replay` gives for it, producing it to Kafka with a client of the
 * world (kcat, librdkafka's command line, with either partitioner) or kafkajs, and
 * reading the outcome.
 *
 * @module
 */

import { kafkaBrokers, mongoUri } from "../integration/servers.ts";
import assert from "node:assert/strict";
import { type Kafka, Partitioners, type Producer } from "kafkajs";
import { kafkaClient } from "../../io/kafka_log.ts";
import { MongoStore } from "../../io/mongo_store.ts";
import { get, until } from "./workers.ts";
import { type Config, defaults } from "../../config/defaults.ts";
import { loadConfig } from "../../config/load.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { incidentsOf } from "../../engine/incidents.ts";
import type { Incident } from "../../events/types.ts";
import { loadModels } from "../../engine/served_models.ts";
import { ModelService } from "../../models/service.ts";
import { flowsOf, Simulator } from "../../sim/simulator.ts";
import { partitionOf } from "../../actors/murmur2.ts";
import { crc32PartitionOf } from "../../actors/crc32.ts";
import { type Placement, placementOf } from "../../actors/placement.ts";
import { FLOW_MODEL } from "../../actors/source.ts";
import { KEY_FIELD } from "../../actors/route.ts";
import { Topics } from "../../events/topics.ts";
import type { EventKind } from "../../events/types.ts";

const MODELS = new URL("../../models", import.meta.url).pathname;
const PARTITIONS = defaults.runtime.partitions;

/**
 * Who produces a drill's events: kafkajs (murmur2, as Kafka's Java client), kcat with
 * librdkafka's default partitioner (`consistent_random`: crc32 of the key), or kcat told
 * to place keys as Java does (`murmur2_random`).
 */
export type Client = "kafkajs" | "kcat" | "kcat-murmur2";

/** Where a client puts a keyed record. */
export const placedBy = (client: Client): Placement =>
  client === "kcat" ? crc32PartitionOf : partitionOf;

/**
 * Settings every drill gives both its workers and its replay: baselines short enough
 * for a few minutes of traffic, so the page and metric rules take part.
 */
export const DRILL_SETTINGS: Readonly<Record<string, string>> = {
  VIGIL_PAGE_SPIKE_MIN_WINDOWS: "5",
  VIGIL_PAGE_HISTORY_WINDOWS: "20",
};

/** The flow model's class prototypes (the simulator's flows come from them). */
async function flowPrototypes(): Promise<ReturnType<typeof flowsOf>> {
  const models = new ModelService(defaults.models);
  try {
    await loadModels(models, MODELS);
    return flowsOf(models.manifest(FLOW_MODEL), 4);
  } finally {
    await models.close();
  }
}

/**
 * `n` simulated events of every kind (logins, payments, flows, page views, service logs
 * and metrics; JSON lines in event-time order) with attacks every 10 s, then the closing
 * events (see `closingEvents`) for a producer placing keys with `producer` and workers
 * placing actors with `vigil`.
 */
export async function simulatedStream(
  n: number,
  seed: number,
  producer: Placement,
  vigil: Placement,
): Promise<string[]> {
  const flows = await flowPrototypes();
  assert.ok(flows, "the flow model has class prototypes");
  const sim = new Simulator({
    seed,
    users: 20_000,
    start_ms: Date.UTC(2026, 0, 5, 8),
    events_per_second: 150,
    attack_interval_s: 10,
    flows,
    // Spikes once pages have the history DRILL_SETTINGS asks for (5 windows) and more.
    ops: { clicks_per_second: 10, spike_after_ms: 7 * 60_000 },
  });
  const lines = sim.take(n).map((e) => JSON.stringify(e));
  const last = Date.parse(JSON.parse(lines[lines.length - 1]!).timestamp);
  return [...lines, ...closingEvents(last + 3 * 60 * 60_000, producer, vigil, flows!)];
}

/**
 * Events that end a drill's stream, at `ts` (later than every window, cool-down and
 * timer of the real events): on every partition of every input topic as the producer
 * places them, one event of a key of its own (so they raise nothing), and for logins one
 * failure from every partition to the IP actors of every partition. Live workers move an
 * actor type's event time on only once every stream that feeds it has (the topics'
 * partitions, the re-keyed attempts, the records other partitions move here); these move
 * them all past the real events, as the end of a replay's file does.
 */
function closingEvents(
  ts: number,
  producer: Placement,
  vigil: Placement,
  flows: NonNullable<ReturnType<typeof flowsOf>>,
): string[] {
  const keyIn = (p: number, place: Placement, make: (k: number) => string) => {
    for (let k = 0;; k++) if (place(make(k), PARTITIONS) === p) return make(k);
  };
  const timestamp = new Date(ts).toISOString();
  const benign = flows.prototypes[flows.benign]!;
  const features = Object.fromEntries(flows.features.map((f, i) => [f, benign[i]!]));
  const out: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    for (let q = 0; q < PARTITIONS; q++) {
      out.push(JSON.stringify({
        kind: "auth",
        event_id: `drill-end-${p}-${q}`,
        timestamp,
        type: "login_failure",
        user_id: keyIn(p, producer, (k) => `drill-end-${p}-${q}-${k}`),
        ip: keyIn(q, vigil, (k) => `10.250.${q}.${k}`),
      }));
    }
    const id = (kind: string) => `drill-end-${kind}-${p}`;
    const user = keyIn(p, producer, (k) => `drill-end-tx-${p}-${k}`);
    out.push(
      JSON.stringify({
        kind: "transaction",
        event_id: id("tx"),
        timestamp,
        user_id: user,
        account_id: `acct-${user}`,
        type: "deposit",
        amount: 10,
        currency: "EUR",
      }),
      JSON.stringify({
        kind: "flow",
        event_id: id("flow"),
        timestamp,
        src_ip: keyIn(p, producer, (k) => `10.251.${p}.${k}`),
        dst_ip: "10.252.0.1",
        dst_port: 443,
        protocol: 6,
        features,
      }),
      JSON.stringify({
        kind: "click",
        event_id: id("click"),
        timestamp,
        session_id: id("session"),
        page: keyIn(p, producer, (k) => `/drill-end/${p}/${k}`),
      }),
      JSON.stringify({
        kind: "log",
        event_id: id("log"),
        timestamp,
        service: keyIn(p, producer, (k) => `drill-end-log-${p}-${k}`),
        level: "INFO",
        message: "drill over",
      }),
      JSON.stringify({
        kind: "metric",
        event_id: id("metric"),
        timestamp,
        service: keyIn(p, producer, (k) => `drill-end-metric-${p}-${k}`),
        cpu: 1,
      }),
    );
  }
  return out;
}

/** The configuration a drill's workers and its replay share. */
export function drillConfig(extra: Record<string, string> = {}): Config {
  return loadConfig({ ...DRILL_SETTINGS, ...extra });
}

/** The alert ids replay gives for these lines, scoring with the models the workers load. */
export async function expectedAlertIds(
  lines: string[],
  config: Config = drillConfig(),
): Promise<Set<string>> {
  const models = new ModelService(config.models);
  await loadModels(models, MODELS);
  const r = await replay(linesOf(lines.join("\n")), config, models).finally(() => models.close());
  assert.equal(r.dead_letters.length, 0, "the drill's stream is clean");
  for (const a of r.alerts) replayed.set(a.alert_id, `${a.rule}/${a.entity.key}@${a.timestamp}`);
  const families = new Set(r.alerts.map((a) => a.rule.slice(0, a.rule.indexOf("."))));
  for (const family of ["auth", "ip", "user", "tx", "net", "flow", "svc", "click"]) {
    assert.ok(families.has(family), `replay raises ${family} alerts (${[...families]})`);
  }
  const ids = new Set(r.alerts.map((a) => a.alert_id));
  replayedIncidents.set(ids, incidentsOf(r.alerts, config.alerts));
  return ids;
}

/** What replay raised, by alert id (to say which alerts a drill missed). */
const replayed = new Map<string, string>();
/** The incidents of each replay's alerts (by its set of expected ids). */
const replayedIncidents = new WeakMap<Set<string>, Incident[]>();

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

/** One line's topic (behind `prefix`) and message key, as the contract says. */
function topicAndKey(line: string, topics: Topics): { topic: string; key: string } {
  const e = JSON.parse(line) as Record<string, unknown> & { kind: EventKind };
  return { topic: topics.of(e.kind), key: String(e[KEY_FIELD[e.kind]]) };
}

/** Produces a drill's lines to their topics, keyed as the contract says. */
export interface DrillProducer {
  /** Produces some lines, in order per topic; resolves once every one is acknowledged. */
  send(lines: string[]): Promise<void>;
  close(): Promise<void>;
}

/** kafkajs, idempotent; a send that fails (the broker is down) is tried again until it goes. */
export async function kafkajsProducer(brokers: string, prefix: string): Promise<DrillProducer> {
  const producer = producerOf(client(brokers));
  await producer.connect();
  const topics = new Topics(prefix);
  return {
    async send(lines) {
      const byTopic = new Map<string, { key: string; value: string }[]>();
      for (const value of lines) {
        const { topic, key } = topicAndKey(value, topics);
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, list = []);
        list.push({ key, value });
      }
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      for (let attempt = 0;; attempt++) {
        try {
          await producer.sendBatch({ acks: -1, topicMessages });
          return;
        } catch (err) {
          if (attempt > 60) throw err;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    },
    close: () => producer.disconnect(),
  };
}

/**
 * kcat (librdkafka), one process per topic and send, idempotent (librdkafka retries
 * within its delivery timeout, so a broker restart is ridden out without duplicates);
 * `partitioner`: librdkafka's default or Java's.
 */
export function kcatProducer(
  kcat: string,
  brokers: string,
  prefix: string,
  partitioner: "consistent_random" | "murmur2_random",
): DrillProducer {
  const topics = new Topics(prefix);
  const one = async (topic: string, lines: string[]) => {
    const child = new Deno.Command(kcat, {
      args: [
        "-P",
        "-b",
        brokers,
        "-t",
        topic,
        "-K",
        "\t",
        "-X",
        `partitioner=${partitioner}`,
        "-X",
        "enable.idempotence=true",
        "-X",
        "message.timeout.ms=120000",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
    await writer.close();
    const out = await child.output();
    const said = new TextDecoder().decode(out.stderr);
    assert.ok(out.success, `kcat failed on ${topic} (exit ${out.code}): ${said.slice(-2000)}`);
    assert.doesNotMatch(said, /Delivery failed|ERROR/, `kcat on ${topic}: ${said.slice(-2000)}`);
  };
  return {
    async send(lines) {
      const byTopic = new Map<string, string[]>();
      for (const value of lines) {
        const { topic, key } = topicAndKey(value, topics);
        let list = byTopic.get(topic);
        if (!list) byTopic.set(topic, list = []);
        list.push(`${key}\t${value}`);
      }
      await Promise.all([...byTopic].map(([topic, list]) => one(topic, list)));
    },
    close: () => Promise.resolve(),
  };
}

/**
 * confluent-kafka-python with its defaults (librdkafka's `consistent_random`: crc32 of
 * the key), one process per send (`tests/e2e/confluent_produce.py`).
 */
export function confluentProducer(python: string, brokers: string, prefix: string): DrillProducer {
  const topics = new Topics(prefix);
  const script = new URL("./confluent_produce.py", import.meta.url).pathname;
  return {
    async send(lines) {
      const child = new Deno.Command(python, {
        args: [script, brokers],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = child.stdin.getWriter();
      const text = lines.map((value) => {
        const { topic, key } = topicAndKey(value, topics);
        return `${topic}\t${key}\t${value}\n`;
      }).join("");
      await writer.write(new TextEncoder().encode(text));
      await writer.close();
      const out = await child.output();
      const said = new TextDecoder().decode(out.stderr);
      assert.ok(
        out.success,
        `confluent-kafka-python failed (exit ${out.code}): ${said.slice(-2000)}`,
      );
    },
    close: () => Promise.resolve(),
  };
}

/** The store a drill's workers write to, as a reader of its alerts connects. */
export function drillStore(uri: string, database: string): Promise<MongoStore> {
  return MongoStore.connect({ uri, database, timeout_ms: 5_000, dead_letter_retention_s: 3600 });
}

/** The producer of a drill. */
export function drillProducer(
  who: Client,
  kcat: string,
  brokers: string,
  prefix: string,
): Promise<DrillProducer> {
  if (who === "kafkajs") return kafkajsProducer(brokers, prefix);
  const partitioner = who === "kcat" ? "consistent_random" : "murmur2_random";
  return Promise.resolve(kcatProducer(kcat, brokers, prefix, partitioner));
}

/**
 * Produces the lines in chunks of `chunk`, calling `during(i)` before each (to inject a
 * fault).
 */
export async function produceAll(
  producer: DrillProducer,
  lines: string[],
  during: (sent: number) => Promise<void> = () => Promise.resolve(),
  chunk = 10_000,
): Promise<void> {
  for (let i = 0; i < lines.length; i += chunk) {
    await during(i);
    await producer.send(lines.slice(i, i + chunk));
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
      .map((a) => `${a.rule}/${a.entity.key}@${a.timestamp}`);
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
  // The incidents the workers folded in MongoDB, together, whatever their order and
  // repeats, are the replay's (their write counts apart).
  const expected = replayedIncidents.get(expectedIds);
  assert.ok(expected, "the expected ids come from expectedAlertIds (its replay's incidents)");
  const live = (await store.findIncidents({ limit: 100_000 }))
    .map((i) => ({ ...i, version: 1 }))
    .sort((a, b) => a.incident_id < b.incident_id ? -1 : 1);
  assert.ok(expected.length > 0, "the replay has incidents");
  assert.deepEqual(live, expected, "the same incidents as replay");
}

/** Records moved to their key's partition, as a worker's metrics count them (all topics). */
export async function misplacedRecords(port: number): Promise<number> {
  const r = await get(`http://127.0.0.1:${port}/metrics`);
  assert.ok(r && r.status === 200, "the worker serves its metrics");
  let n = 0;
  for (const m of r.text.matchAll(/^vigil_misplaced_records_total\{[^}]*\} (\d+)/gm)) {
    n += Number(m[1]);
  }
  return n;
}

/** The workers' setting for a drill whose producer places keys like `vigil` names. */
export function placementEnv(vigil: "murmur2" | "crc32"): Record<string, string> {
  return { ...DRILL_SETTINGS, VIGIL_IO_KAFKA_PRODUCER_PARTITIONER: vigil };
}

/**
 * The environment of a drill's workers on the shared test servers: topics behind
 * `prefix`, a database and a consumer group of their own, quick takeovers and checkpoints.
 */
export function workerEnv(
  vigil: "murmur2" | "crc32",
  prefix: string,
  database: string,
): Record<string, string> {
  return {
    ...placementEnv(vigil),
    KAFKA_BROKERS: kafkaBrokers(),
    MONGODB_URI: mongoUri(),
    VIGIL_IO_TOPIC_PREFIX: prefix,
    VIGIL_IO_MONGODB_DATABASE: database,
    VIGIL_IO_KAFKA_GROUP: `${prefix}workers`,
    VIGIL_IO_KAFKA_SESSION_TIMEOUT_MS: "8000",
    VIGIL_IO_CHECKPOINT_INTERVAL_MS: "2000",
    // The raw archive (on by default with MongoDB) is not what this checks, and on
    // mongo-java-server it costs about 130 µs an event (measured): off.
    VIGIL_IO_ARCHIVE_RAW_EVENTS: "false",
  };
}

/** Vigil's placement for a partitioner setting. */
export const vigilPlacement = (vigil: "murmur2" | "crc32"): Placement => placementOf(vigil);

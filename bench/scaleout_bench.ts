/**
 * Scale-out: the same 200,000 auth events through one `main.ts worker` process and then
 * through two (one consumer group each, on the same broker, MongoDB as the store), beside
 * each other: the throughput ratio, and whether both raised the same alerts (the set of
 * alert ids in MongoDB). Each run has its own topic prefix and database, so the second
 * reads nothing the first wrote.
 *
 * On this 2-core machine the broker, MongoDB and the workers share the two cores, so the
 * ratio says what a second process buys when the cores are already busy, not what a
 * second machine would.
 *
 * @module
 */

import { Partitioners } from "kafkajs";
import { kafkaClient } from "../io/kafka_log.ts";
import { MongoStore } from "../io/mongo_store.ts";
import { startKafka, startMongo } from "../tools/servers.ts";
import { authMessages, sendAll } from "./kafka_bench.ts";
import type { Figure } from "./replay_bench.ts";

const EVENTS = 200_000;
const PARTITIONS = 12;
const TOKEN = "bench";
const ROOT = new URL("../", import.meta.url);

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function text(port: number, path: string): Promise<string | null> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: AbortSignal.timeout(5_000),
    });
    const body = await r.text();
    return r.ok ? body : null;
  } catch {
    return null;
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

interface Run {
  rate: number;
  alerts: Set<string>;
}

/** `workers` worker processes over the events under `prefix`: their rate and alert ids. */
async function run(
  workers: number,
  brokers: string,
  mongo: string,
  prefix: string,
  messages: readonly { key: string; value: string }[],
): Promise<Run> {
  const database = prefix.replace(/\W/g, "");
  const ports = Array.from({ length: workers }, freePort);
  const children = ports.map((port) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--max-semi-space-size=64,--min-semi-space-size=64",
        "-A",
        "main.ts",
        "worker",
      ],
      cwd: ROOT,
      env: {
        PORT: String(port),
        ADMIN_TOKEN: TOKEN,
        KAFKA_BROKERS: brokers,
        MONGODB_URI: mongo,
        VIGIL_IO_TOPIC_PREFIX: prefix,
        VIGIL_IO_MONGODB_DATABASE: database,
        VIGIL_IO_KAFKA_GROUP: `${prefix}workers`,
        VIGIL_RUNTIME_PARTITIONS: String(PARTITIONS),
        // The pipeline's figure, as before the archive was on by default with MongoDB
        // (mongo-java-server: about 130 µs an archived event).
        VIGIL_IO_ARCHIVE_RAW_EVENTS: "false",
      },
      stdout: "null",
      stderr: "null",
    }).spawn()
  );
  const store = await MongoStore.connect({
    uri: mongo,
    database,
    timeout_ms: 5_000,
    dead_letter_retention_s: 3600,
  });
  const kafka = kafkaClient({ client_id: `bench-${database}`, brokers: [brokers] });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await until("the workers to be ready", async () => {
      const ready = await Promise.all(ports.map((p) => text(p, "/ready")));
      return ready.every((r) => r !== null) || undefined;
    });
    // Every partition owned once before any event, so the figure has no rebalance in it.
    await until("the partitions to be shared out", async () => {
      const owned = await Promise.all(ports.map(async (p) => {
        const body = await text(p, "/api/v1/actors");
        return body === null ? [] : (JSON.parse(body).partitions ?? []) as number[];
      }));
      return owned.every((o) => o.length > 0) && owned.flat().length === PARTITIONS || undefined;
    });
    const ingested = async () => {
      let n = 0;
      for (const body of await Promise.all(ports.map((p) => text(p, "/metrics")))) {
        for (
          const m of (body ?? "").matchAll(/^vigil_events_ingested_total\{kind="auth"\} (\d+)/gm)
        ) {
          n += Number(m[1]);
        }
      }
      return n;
    };
    await producer.connect();
    const sending = sendAll(producer, `${prefix}auth-events`, messages);
    let start = 0;
    await until("every event to be handled", async () => {
      const n = await ingested();
      if (n > 0 && start === 0) start = performance.now();
      return n >= EVENTS || undefined;
    }, 600_000);
    const rate = EVENTS / ((performance.now() - start) / 1000);
    await sending;
    // The alerts are all in when their number has stood still for three seconds.
    let last = -1, still = 0;
    await until("the alerts to settle", async () => {
      const n = (await store.alertIds()).length;
      still = n === last ? still + 1 : 0;
      last = n;
      return still >= 15 || undefined;
    });
    return { rate, alerts: new Set(await store.alertIds()) };
  } finally {
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch {
        // gone already
      }
    }
    await Promise.all(children.map((c) => c.status));
    await producer.disconnect().catch(() => {});
    await store.close();
  }
}

/** Runs the scale-out benchmark against a broker and a MongoDB of its own. */
export async function scaleOutBench(): Promise<Figure[]> {
  const kafka = await startKafka({ port: 39294, controller_port: 39295, name: "bench-scale" });
  const mongo = await startMongo({ port: 39296, name: "bench-scale" });
  try {
    const messages = authMessages(EVENTS);
    const one = await run(1, kafka.address, mongo.address, "scale1.", messages);
    const two = await run(2, kafka.address, mongo.address, "scale2.", messages);
    const missing = [...one.alerts].filter((id) => !two.alerts.has(id)).length;
    const extra = [...two.alerts].filter((id) => !one.alerts.has(id)).length;
    console.log(
      `  1 worker: ${
        Math.round(one.rate).toLocaleString("en")
      } events/s, ${one.alerts.size} alerts; ` +
        `2 workers: ${
          Math.round(two.rate).toLocaleString("en")
        } events/s, ${two.alerts.size} alerts ` +
        `(${missing} of the first run's missing, ${extra} not in it)`,
    );
    return [{
      name: "pipeline on Kafka and MongoDB, 2 worker processes against 1",
      value: two.rate,
      unit: "events/s",
      ceiling: one.rate,
      ceiling_name: "1 worker process, same events",
      target: "measured, the same alerts",
      met: one.alerts.size > 0 && missing === 0 && extra === 0,
    }];
  } finally {
    await mongo.stop();
    await kafka.stop();
  }
}

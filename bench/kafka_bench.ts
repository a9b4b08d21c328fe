/**
 * The pipeline on a local Kafka broker, beside its ceilings measured in the same run: the
 * in-process replay of the same events (the actors' own speed: what the broker costs is the
 * gap), the raw kafkajs consume rate of the topic (no-op `eachBatch`), then the full pipeline
 * over it (Kafka in, actors, alerts out to Kafka and the store), then the produce-to-alert
 * latency (p50, p99) at half the pipeline's rate, after a warm-up of the same load.
 *
 * @module
 */

import { Partitioners } from "kafkajs";
import { type Config, defaults } from "../config/defaults.ts";
import { linesOf } from "../engine/replay.ts";
import { replayThreaded } from "../engine/replay_parallel.ts";
import { VigilSystem } from "../engine/system.ts";
import { kafkaClient, KafkaLog } from "../io/kafka_log.ts";
import { Simulator } from "../sim/simulator.ts";
import { startKafka } from "../tools/servers.ts";
import type { Figure } from "./replay_bench.ts";
import type { LoadOrder, LoadReport } from "./load_worker.ts";

const EVENTS = 200_000;
const PARTITIONS = 12;
const LATENCY_SECONDS = 10;
const WARMUP_SECONDS = 3;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** Runs the Kafka benchmarks against a broker of its own. */
export async function kafkaBench(): Promise<Figure[]> {
  const server = await startKafka({ port: 39292, controller_port: 39293, name: "bench" });
  const kafka = kafkaClient({ client_id: "bench", brokers: [server.address] });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    const prefix = "bench.";
    const topic = `${prefix}auth-events`;
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic, numPartitions: PARTITIONS }],
    });
    await admin.disconnect();
    await producer.connect();
    const sim = new Simulator({
      seed: 5,
      users: 50_000,
      start_ms: Date.now() - 3 * 3_600_000,
      events_per_second: 60,
      attack_interval_s: 20,
    });
    let produced = 0;
    const lines: string[] = [];
    while (produced < EVENTS) {
      const events = sim.take(20_000).filter((e) => e.kind === "auth").slice(0, EVENTS - produced);
      const messages = events.map((e) => ({ key: String(e.user_id), value: JSON.stringify(e) }));
      for (const m of messages) lines.push(m.value);
      await producer.send({ topic, messages });
      produced += events.length;
    }
    console.log(
      `  produced ${produced.toLocaleString()} simulated auth events to ${PARTITIONS} partitions`,
    );

    // Ceiling: the same events replayed in process (best of two).
    const text = lines.join("\n");
    lines.length = 0;
    let replayRate = 0;
    for (let i = 0; i < 2; i++) {
      const t0 = performance.now();
      const r = await replayThreaded(linesOf(text), structuredClone(defaults) as Config);
      replayRate = Math.max(replayRate, r.events / ((performance.now() - t0) / 1000));
    }

    // Ceiling: kafkajs alone, a no-op eachBatch.
    const raw = kafka.consumer({ groupId: "bench-raw", maxBytesPerPartition: 1_048_576 });
    await raw.connect();
    await raw.subscribe({ topic, fromBeginning: true });
    let seen = 0, first = 0;
    const all = Promise.withResolvers<number>();
    await raw.run({
      eachBatch: ({ batch }) => {
        if (first === 0) first = performance.now();
        seen += batch.messages.length;
        if (seen >= EVENTS) all.resolve(performance.now());
        return Promise.resolve();
      },
    });
    const rawRate = EVENTS / ((await all.promise - first) / 1000);
    await raw.disconnect();

    // The pipeline: a Vigil worker over the same topic.
    const config = structuredClone(defaults) as Config;
    config.io.topic_prefix = prefix;
    config.io.kafka_group = "bench-pipeline";
    config.runtime.partitions = PARTITIONS;
    config.simulator.enabled = false;
    const log = new KafkaLog({ brokers: [server.address], client_id: "bench-worker" });
    const system = new VigilSystem({ config, token: "bench", log });
    let pipelineRate = 0;
    let p50 = NaN, p99 = NaN, latencyRate = 0, sentRate = 0;
    try {
      await system.start({ simulate: false });
      const ingested = async () => {
        const text = await system.metrics.text();
        return [...text.matchAll(/^vigil_events_ingested_total\{kind="auth"\} (\d+)/gm)]
          .reduce((n, m) => n + Number(m[1]), 0);
      };
      let start = 0;
      while (true) {
        const n = await ingested();
        if (n > 0 && start === 0) start = performance.now();
        if (n >= EVENTS) break;
        await new Promise((r) => setTimeout(r, 50)); // a scrape walks every actor: not too often
      }
      pipelineRate = EVENTS / ((performance.now() - start) / 1000);

      // Latency at half the pipeline's rate: benign traffic with a brute-force burst
      // every 20 ms (500 alerts: enough for a p99), each event stamped with its send time,
      // made and sent by a worker thread (bench/load_worker.ts).
      latencyRate = Math.round(pipelineRate / 2);
      const latencies: number[] = [];
      system.outbox.listen((alerts) => {
        const now = Date.now();
        for (const a of alerts) {
          if (a.entity.key.startsWith("bench-victim-")) {
            latencies.push(now - Date.parse(a.timestamp));
          }
        }
      });
      const load = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
      const done = new Promise<LoadReport>((resolve, reject) => {
        load.onmessage = (e: MessageEvent<LoadReport>) => resolve(e.data);
        load.onerror = (e) => reject(new Error(`The load generator failed: ${e.message}`));
      });
      const order: LoadOrder = {
        broker: server.address,
        topic,
        events_per_second: latencyRate,
        seconds: LATENCY_SECONDS,
        warmup_seconds: WARMUP_SECONDS,
      };
      load.postMessage(order);
      const report = await done;
      load.terminate();
      sentRate = report.sent / report.measured_seconds;
      console.log(
        `  load: ${report.sent.toLocaleString()} events in ${
          report.measured_seconds.toFixed(1)
        } s ` +
          `after a ${WARMUP_SECONDS} s warm-up (${
            Math.round(sentRate).toLocaleString()
          } events/s), ` +
          `${report.bursts} bursts, ${report.late_ticks} of ${LATENCY_SECONDS * 100} ticks late ` +
          `(generator in a worker thread)`,
      );
      await new Promise((r) => setTimeout(r, 1_000));
      latencies.sort((a, b) => a - b);
      p50 = percentile(latencies, 0.5);
      p99 = percentile(latencies, 0.99);
      console.log(
        `  latency: ${latencies.length} alerts at ${latencyRate.toLocaleString()} events/s`,
      );
    } finally {
      await system.stop();
    }
    const at = `at ${Math.round(sentRate).toLocaleString()} events/s (half the pipeline's rate)`;
    return [
      {
        name: "pipeline on Kafka (1 worker, 12 partitions) against the replay",
        value: pipelineRate,
        unit: "events/s",
        ceiling: replayRate,
        ceiling_name: "in-process replay of the same 200,000 events",
        target: "≥ 85 % of the replay",
        met: pipelineRate >= 0.85 * replayRate,
      },
      {
        name: "pipeline on Kafka (1 worker, 12 partitions) against raw consume",
        value: pipelineRate,
        unit: "events/s",
        ceiling: rawRate,
        ceiling_name: "raw kafkajs consume, no-op eachBatch",
        target: "≥ 25 % of the raw consume rate",
        met: pipelineRate >= 0.25 * rawRate,
      },
      {
        name: `produce-to-alert latency p50 ${at}`,
        value: p50,
        unit: "ms",
        ceiling: 0,
        ceiling_name: "n/a",
        target: "≤ 10 ms",
        met: p50 <= 10,
      },
      {
        name: `produce-to-alert latency p99 ${at}`,
        value: p99,
        unit: "ms",
        ceiling: 0,
        ceiling_name: "n/a",
        target: "≤ 50 ms",
        met: p99 <= 50,
      },
    ];
  } finally {
    await producer.disconnect().catch(() => {});
    await server.stop();
  }
}

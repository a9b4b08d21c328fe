/**
 * The pipeline on a local Kafka broker, beside its ceilings measured in the same run: the
 * in-process replay of the same events (the actors' own speed: what the broker costs is the
 * gap), the raw kafkajs consume rate of the topic (no-op `eachBatch`), then the full pipeline
 * over it (Kafka in, actors, alerts out to Kafka and the store), then the produce-to-alert
 * latency (p50, p99) at half the pipeline's rate, after a warm-up of the same load.
 *
 * @module
 */

import process from "node:process";
import { Partitioners, type Producer } from "kafkajs";
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
/** The second latency run's rate, where the pipeline, the broker and the generator leave the two cores room. */
const LOW_RATE = 2_000;

/**
 * Sends benign logins with a brute-force burst every 20 ms (500 alerts: enough for a p99),
 * each event stamped with its send time, made and sent by a worker thread
 * (bench/load_worker.ts), after a warm-up of the same load. Gives the rate really sent.
 */
/** The machine's CPU ticks so far, busy and all (`/proc/stat`'s first line, read by `cat`). */
export async function machineTicks(): Promise<{ busy: number; all: number }> {
  const out = await new Deno.Command("cat", { args: ["/proc/stat"] }).output();
  const f = new TextDecoder().decode(out.stdout).split("\n")[0]!.trim().split(/\s+/).slice(1)
    .map(Number);
  const all = f.reduce((a, b) => a + b, 0);
  return { busy: all - (f[3] ?? 0) - (f[4] ?? 0), all };
}

async function load(broker: string, topic: string, rate: number, run: string): Promise<number> {
  const worker = new Worker(new URL("./load_worker.ts", import.meta.url), { type: "module" });
  const done = new Promise<LoadReport>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<LoadReport>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`The load generator failed: ${e.message}`));
  });
  const order: LoadOrder = {
    broker,
    topic,
    events_per_second: rate,
    seconds: LATENCY_SECONDS,
    warmup_seconds: WARMUP_SECONDS,
    run: `${run}-`,
  };
  worker.postMessage(order);
  // CPU over the measured part (after the warm-up): this process (pipeline and generator), and the machine.
  await new Promise((r) => setTimeout(r, WARMUP_SECONDS * 1000));
  const [cpu0, ticks0, wall0] = [process.cpuUsage(), await machineTicks(), performance.now()];
  const report = await done;
  const [cpu, ticks, wall] = [
    process.cpuUsage(cpu0),
    await machineTicks(),
    performance.now() - wall0,
  ];
  worker.terminate();
  const sent = report.sent / report.measured_seconds;
  console.log(
    `  load: ${report.sent.toLocaleString()} events in ${report.measured_seconds.toFixed(1)} s ` +
      `after a ${WARMUP_SECONDS} s warm-up (${Math.round(sent).toLocaleString()} events/s), ` +
      `${report.bursts} bursts, ${report.late_ticks} of ${LATENCY_SECONDS * 100} ticks late ` +
      `(generator in a worker thread)`,
  );
  const cores = navigator.hardwareConcurrency;
  console.log(
    `  CPU meanwhile: this process ${((cpu.user + cpu.system) / 1000 / wall).toFixed(2)} cores ` +
      `(pipeline and generator), the machine ${
        ((ticks.busy - ticks0.busy) / (ticks.all - ticks0.all) * cores).toFixed(2)
      } of its ${cores}`,
  );
  return sent;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}

/** `n` simulated auth events (seed 5, 50,000 users, from three hours ago), keyed by user. */
export function authMessages(n: number): { key: string; value: string }[] {
  const sim = new Simulator({
    seed: 5,
    users: 50_000,
    start_ms: Date.now() - 3 * 3_600_000,
    events_per_second: 60,
    attack_interval_s: 20,
  });
  const out: { key: string; value: string }[] = [];
  while (out.length < n) {
    for (const e of sim.take(20_000)) {
      if (e.kind === "auth" && out.length < n) {
        out.push({ key: String(e.user_id), value: JSON.stringify(e) });
      }
    }
  }
  return out;
}

/** Sends `messages` to `topic`, 20,000 a request. */
export async function sendAll(
  producer: Producer,
  topic: string,
  messages: readonly { key: string; value: string }[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 20_000) {
    await producer.send({ topic, messages: messages.slice(i, i + 20_000) });
  }
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
    const messages = authMessages(EVENTS);
    await sendAll(producer, topic, messages);
    console.log(
      `  produced ${EVENTS.toLocaleString()} simulated auth events to ${PARTITIONS} partitions`,
    );

    // Ceiling: the same events replayed in process (best of two).
    const text = messages.map((m) => m.value).join("\n");
    messages.length = 0;
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
    const latency: { rate: number; half: boolean; p50: number; p99: number }[] = [];
    try {
      await system.start({ simulate: false });
      const ingested = async () => {
        const text = await system.metrics.text();
        return [...text.matchAll(/^vigil_events_ingested_total\{kind="auth"\} (\d+)/gm)]
          .reduce((n, m) => n + Number(m[1]), 0);
      };
      let start = 0, cpu0 = process.cpuUsage(), ticks0 = await machineTicks();
      while (true) {
        const n = await ingested();
        if (n > 0 && start === 0) {
          [start, cpu0, ticks0] = [performance.now(), process.cpuUsage(), await machineTicks()];
        }
        if (n >= EVENTS) break;
        await new Promise((r) => setTimeout(r, 50)); // a scrape walks every actor: not too often
      }
      const wall = performance.now() - start;
      pipelineRate = EVENTS / (wall / 1000);
      const [cpu, ticks] = [process.cpuUsage(cpu0), await machineTicks()];
      const cores = navigator.hardwareConcurrency;
      console.log(
        `  pipeline: ${((cpu.user + cpu.system) / 1000 / wall).toFixed(2)} cores busy in this ` +
          `process (${
            ((cpu.user + cpu.system) / EVENTS).toFixed(1)
          } µs of CPU an event), the machine ${
            ((ticks.busy - ticks0.busy) / (ticks.all - ticks0.all) * cores).toFixed(2)
          } of its ${cores}; the replay of the same events: ${
            (1e6 / replayRate).toFixed(1)
          } µs of wall time an event`,
      );

      // Latency at half the pipeline's rate, then at a rate that leaves the machine room.
      const latencies: number[] = [];
      let victims = "bench-victim-half-";
      system.outbox.listen((alerts) => {
        const now = Date.now();
        for (const a of alerts) {
          if (a.entity.key.startsWith(victims)) {
            latencies.push(now - Date.parse(a.timestamp));
          }
        }
      });
      for (
        const [run, rate] of [["half", Math.round(pipelineRate / 2)], ["low", LOW_RATE]] as const
      ) {
        latencies.length = 0;
        victims = `bench-victim-${run}-`;
        const sent = await load(server.address, topic, rate, run);
        await new Promise((r) => setTimeout(r, 1_000));
        latencies.sort((a, b) => a - b);
        console.log(
          `  latency: ${latencies.length} alerts at ${Math.round(sent).toLocaleString()} events/s`,
        );
        latency.push({
          rate: sent,
          half: run === "half",
          p50: percentile(latencies, 0.5),
          p99: percentile(latencies, 0.99),
        });
      }
    } finally {
      await system.stop();
    }
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
      ...latency.flatMap(({ rate, half, p50, p99 }) => {
        const at = `at ${Math.round(rate).toLocaleString()} events/s${
          half
            ? " (half the pipeline's rate)"
            : " (the machine not saturated; not the target's rate)"
        }`;
        return [
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
      }),
    ];
  } finally {
    await producer.disconnect().catch(() => {});
    await server.stop();
  }
}

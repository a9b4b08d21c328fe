/**
 * The latency benchmark's load generator, in a worker thread of its own so that making
 * and sending the load does not hold up the pipeline being measured (it shares the
 * machine's cores, not the pipeline's event loop). Benign simulated logins at a given
 * rate, and every 20 ms a brute-force burst against a fresh victim; every event carries
 * its send time.
 *
 * @module
 */

import { Partitioners } from "kafkajs";
import { kafkaClient } from "../io/kafka_log.ts";
import { Simulator } from "../sim/simulator.ts";

/** What the worker is asked to do. */
export interface LoadOrder {
  broker: string;
  topic: string;
  events_per_second: number;
  seconds: number;
}

/** What it reports when done. */
export interface LoadReport {
  sent: number;
  bursts: number;
  /** Ticks (10 ms each) that started late because the previous send took longer. */
  late_ticks: number;
}

/** This worker's side of the channel (typed here: the file is checked with the main program). */
const port = self as unknown as {
  onmessage: (e: MessageEvent<LoadOrder>) => void;
  postMessage(report: LoadReport): void;
};

port.onmessage = async (e: MessageEvent<LoadOrder>) => {
  const o = e.data;
  const kafka = kafkaClient({ client_id: "bench-load", brokers: [o.broker] });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const live = new Simulator({
    seed: 9,
    users: 50_000,
    start_ms: Date.now(),
    events_per_second: 1,
    attack_interval_s: 0,
  });
  const perTick = Math.max(1, Math.round(o.events_per_second / 100));
  const until = Date.now() + o.seconds * 1000;
  const report: LoadReport = { sent: 0, bursts: 0, late_ticks: 0 };
  let tick = 0;
  while (Date.now() < until) {
    const now = Date.now();
    const stamp = new Date(now).toISOString();
    const messages = live.take(perTick).filter((e) => e.kind === "auth").map((e) => {
      e.timestamp = stamp;
      return { key: String(e.user_id), value: JSON.stringify(e) };
    });
    if (++tick % 2 === 0) {
      const victim = `bench-victim-${tick}`;
      report.bursts++;
      for (let i = 0; i < 5; i++) {
        messages.push({
          key: victim,
          value: JSON.stringify({
            type: "login_failure",
            user_id: victim,
            ip: "203.0.113.1",
            event_id: `${victim}-${i}`,
            timestamp: stamp,
          }),
        });
      }
    }
    await producer.send({ topic: o.topic, messages });
    report.sent += messages.length;
    const wait = now + 10 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else report.late_ticks++;
  }
  await producer.disconnect();
  port.postMessage(report);
};

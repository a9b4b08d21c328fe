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
  /** Seconds measured, after `warmup_seconds` of the same load (its victims are named apart). */
  seconds: number;
  warmup_seconds?: number;
  /** Put in the victims' names, so two runs against one pipeline never share a victim. */
  run?: string;
}

/** What it reports when done. */
export interface LoadReport {
  sent: number;
  bursts: number;
  /** Ticks (10 ms each) that started late because the previous send took longer. */
  late_ticks: number;
  /** How long the measured part took (s): `sent / measured_seconds` is the rate sent. */
  measured_seconds: number;
}

/** `n` simulated benign logins stamped `stamp`, as producer messages. */
function authMessages(
  sim: Simulator,
  n: number,
  stamp: string,
): { key: string; value: string }[] {
  const out: { key: string; value: string }[] = [];
  while (out.length < n) {
    for (const e of sim.take(n - out.length)) {
      if (e.kind !== "auth") continue;
      e.timestamp = stamp;
      out.push({ key: String(e.user_id), value: JSON.stringify(e) });
    }
  }
  return out;
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
  const warmUntil = Date.now() + (o.warmup_seconds ?? 0) * 1000;
  const until = warmUntil + o.seconds * 1000;
  const report: LoadReport = { sent: 0, bursts: 0, late_ticks: 0, measured_seconds: 0 };
  let tick = 0, measuredFrom = 0;
  while (Date.now() < until) {
    const now = Date.now();
    const warming = now < warmUntil;
    if (!warming && measuredFrom === 0) measuredFrom = now;
    const stamp = new Date(now).toISOString();
    const burst = ++tick % 2 === 0;
    // The rate counts every event sent: the burst's five failures take benign ones' place.
    const messages = authMessages(live, Math.max(0, perTick - (burst ? 5 : 0)), stamp);
    if (burst) {
      const victim = `${warming ? "bench-warmup-" : "bench-victim-"}${o.run ?? ""}${tick}`;
      if (!warming) report.bursts++;
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
    if (!warming) report.sent += messages.length;
    const wait = now + 10 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else if (!warming) report.late_ticks++;
  }
  report.measured_seconds = (Date.now() - measuredFrom) / 1000;
  await producer.disconnect();
  port.postMessage(report);
};

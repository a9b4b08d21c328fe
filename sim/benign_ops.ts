/**
 * The benign generator's services: metric samples that follow the customers' daily
 * rhythm, logs with the error floor every healthy service has, rolling deploys on working
 * days (each instance restarting in turn: readiness warnings, a few failed requests, a CPU
 * and latency bump while the new instance warms up) and a nightly batch that keeps the
 * ledger's CPU high for about an hour.
 *
 * | parameter | value | source |
 * |---|---|---|
 * | sample interval | 30 s | Prometheus scrape intervals in practice (15 s–1 min) |
 * | CPU | base + load × the daily rhythm, noise σ 3 points | assumed, services sized to run well below saturation by day |
 * | latency | (base + load × rhythm) × log-normal σ 0.12; 0.5 % of samples 1.5–2.5× (GC pauses, a slow dependency) | assumed; long-tailed latency (Dean & Barroso, "The Tail at Scale", 2013) |
 * | request rate gauge | 0–100 % of peak by the rhythm, noise 8 % | follows the traffic |
 * | error floor | 0.5 errors a minute at peak (a 99.9 % success SLO at ~500 requests a minute) | Google SRE book, error budgets |
 * | logs | 2 INFO a minute at peak (sampled), 3 % of lines WARN | assumed |
 * | deploys | working days, 60 % chance per service, 10:00–15:00 local; 4–10 instances restarted one after the other, 40–90 s each | DORA reports (high performers deploy daily or more); Kubernetes rolling updates |
 * | deploy blip per instance | 1–2 readiness WARNs, 0–3 ERRORs (connection resets to the old instance), CPU +10–25 points, latency ×1.3–2 | common Envoy/Kubernetes behaviour during rolling updates (assumed sizes) |
 * | nightly batch | the ledger at 02:00 local, 40–80 min, CPU 85–97 %, latency ×1.5, 5–20 slow-query WARNs | end-of-day settlement and reconciliation batches in banks |
 *
 * @module
 */

import { activity, type Draw, HOUR_MS, isWeekend, type Sink } from "./benign_base.ts";

/** A service's shape. */
interface Service {
  name: string;
  cpu_base: number;
  cpu_load: number;
  latency_base: number;
  latency_load: number;
  batch: boolean;
}

const SERVICES: readonly Service[] = [
  {
    name: "payments-api",
    cpu_base: 12,
    cpu_load: 40,
    latency_base: 60,
    latency_load: 90,
    batch: false,
  },
  {
    name: "auth-api",
    cpu_base: 10,
    cpu_load: 35,
    latency_base: 40,
    latency_load: 60,
    batch: false,
  },
  { name: "ledger", cpu_base: 15, cpu_load: 30, latency_base: 80, latency_load: 70, batch: true },
  { name: "web", cpu_base: 8, cpu_load: 45, latency_base: 50, latency_load: 110, batch: false },
];
/** The services run in Central European time. */
const UTC_OFFSET = 1;
const SAMPLE_MS = 30_000;
const MINUTE = 60_000;

/** What raises a service's samples for a while: a deploy's instance or the batch. */
interface Bump {
  from: number;
  to: number;
  cpu_add: number;
  cpu_floor: number;
  latency_x: number;
}

/** The services' metrics and logs from `from` to `to` (ms), added to `sink`. */
export function services(d: Draw, sink: Sink, from: number, to: number): void {
  for (const s of SERVICES) {
    const bumps = plan(d, sink, s, from, to);
    for (let t = from; t < to; t += SAMPLE_MS) sample(d, sink, s, t, bumps);
    logs(d, sink, s, from, to);
  }
}

function localHour(t: number): number {
  return (((t / HOUR_MS + UTC_OFFSET) % 24) + 24) % 24;
}

/** The deploys and batches of a service, their logs added; returns the bumps they cause. */
function plan(d: Draw, sink: Sink, s: Service, from: number, to: number): Bump[] {
  const bumps: Bump[] = [];
  for (let day = from - (from % (24 * HOUR_MS)); day < to; day += 24 * HOUR_MS) {
    if (s.batch) {
      const start = day + (2 - UTC_OFFSET) * HOUR_MS;
      const end = start + d.between(40, 80) * MINUTE;
      bumps.push({
        from: start,
        to: end,
        cpu_add: 0,
        cpu_floor: d.between(85, 90),
        latency_x: 1.5,
      });
      for (let i = d.int(5, 20); i > 0; i--) {
        log(sink, s, d.between(start, end), "WARN", "slow query: reconciliation batch");
      }
    }
    if (isWeekend(day) || !d.chance(0.6)) continue;
    let t = day + (d.between(10, 15) - UTC_OFFSET) * HOUR_MS;
    for (let i = d.int(4, 10); i > 0; i--) {
      const end = t + d.between(40_000, 90_000);
      bumps.push({
        from: t,
        to: end,
        cpu_add: d.between(10, 25),
        cpu_floor: 0,
        latency_x: d.between(1.3, 2),
      });
      for (let k = d.int(1, 2); k > 0; k--) {
        log(sink, s, d.between(t, end), "WARN", "readiness probe failed: connection refused");
      }
      for (let k = d.int(0, 3); k > 0; k--) {
        log(
          sink,
          s,
          d.between(t, end),
          "ERROR",
          "upstream connect error or disconnect/reset before headers",
        );
      }
      t = end + d.between(2_000, 10_000);
    }
  }
  return bumps;
}

function sample(d: Draw, sink: Sink, s: Service, t: number, bumps: readonly Bump[]): void {
  const a = activity(localHour(t), isWeekend(t));
  let cpu = s.cpu_base + s.cpu_load * a + d.normal() * 3;
  let latency = (s.latency_base + s.latency_load * a) * d.lognormal(1, 0.12);
  if (d.chance(0.005)) latency *= d.between(1.5, 2.5);
  for (const b of bumps) {
    if (t < b.from || t >= b.to) continue;
    cpu = Math.max(cpu + b.cpu_add, b.cpu_floor + d.between(0, 7));
    latency *= b.latency_x;
  }
  sink.add("metric", t + d.between(0, 500), {
    service: s.name,
    cpu: Math.round(Math.max(1, Math.min(100, cpu)) * 10) / 10,
    latency_ms: Math.round(latency),
    requests_per_s: Math.round(Math.max(0, 100 * a * (1 + d.normal() * 0.08)) * 10) / 10,
  });
}

/** Background logs: sampled INFO and WARN lines and the error floor, by the rhythm. */
function logs(d: Draw, sink: Sink, s: Service, from: number, to: number): void {
  for (let t = from; t < to; t += MINUTE) {
    const a = activity(localHour(t), isWeekend(t));
    for (let i = d.poisson(2 * a); i > 0; i--) {
      const level = d.chance(0.03) ? "WARN" : "INFO";
      log(
        sink,
        s,
        t + d.next() * MINUTE,
        level,
        level === "WARN" ? "retrying request" : "request served",
      );
    }
    for (let i = d.poisson(0.5 * a); i > 0; i--) {
      log(sink, s, t + d.next() * MINUTE, "ERROR", "request failed: 500");
    }
  }
}

function log(sink: Sink, s: Service, at: number, level: string, message: string): void {
  sink.add("log", at, { service: s.name, level, message });
}

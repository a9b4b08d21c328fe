/**
 * The benign generator's network flows, each built packet by packet (handshake, request,
 * response in segments, close) and summarised into the 52 CICFlowMeter features, so the
 * features agree with one another. The sources are the ordinary ones of a bank's network:
 *
 * | source | pattern | source of the pattern |
 * |---|---|---|
 * | customers | 1–3 HTTPS flows to one of 4 front ends per login, from the login's address (offices' NATs and mobile CGNAT addresses carry many customers) | follows the logins |
 * | monitoring | every 5 min, an agent check (NRPE, port 5666) of each of 40 hosts; a host down answers nothing | Nagios' default 5-minute check interval |
 * | web proxy | staff browsing: by the daily rhythm on working days, ~20 flows a minute at peak to a pool of 3,000 external hosts on 443 (a few on 80) | every corporate proxy |
 * | DNS resolver | ~15 queries a minute at peak to a pool of 800 authoritative servers, UDP 53 | recursive resolvers |
 * | backup | 01:00 local nightly, 150–300 chunked-upload flows (1 MB chunks) to one object store on 443 over ~15 min | object-store chunked uploads (chunks in parallel) |
 * | file transfer | 03:00 local on working days, 30–80 files by passive FTP to a clearing house: a data connection to a new port of one host per file | RFC 959 passive mode; banks' clearing-file exchange |
 *
 * Failed connections (a SYN and a retransmission, no answer): 1 % of monitoring checks
 * and proxy flows (assumed).
 *
 * @module
 */

import { FLOW_FEATURES } from "../events/flow_features.ts";
import { activity, DAY_MS, type Draw, HOUR_MS, isWeekend, type Sink } from "./benign_base.ts";

/** A packet: time (µs from the flow's start), forward or not, payload bytes, flags. */
interface Packet {
  t: number;
  fwd: boolean;
  len: number;
  fin?: boolean;
  psh?: boolean;
  ack: boolean;
}

/** What a connection carries: protocol, port, request and response bytes, round trip. */
interface Conn {
  proto: 6 | 17;
  port: number;
  request: number;
  response: number;
  rtt_us: number;
  think_us: number;
  failed?: boolean;
}

const MSS = 1_448;

function packets(c: Conn): Packet[] {
  const ps: Packet[] = [];
  let t = 0;
  if (c.proto === 17) {
    ps.push({ t, fwd: true, len: c.request, ack: false });
    if (!c.failed) ps.push({ t: c.rtt_us + c.think_us, fwd: false, len: c.response, ack: false });
    return ps;
  }
  ps.push({ t, fwd: true, len: 0, ack: false });
  if (c.failed) {
    ps.push({ t: 1_000_000, fwd: true, len: 0, ack: false });
    return ps;
  }
  ps.push({ t: t += c.rtt_us / 2, fwd: false, len: 0, ack: true });
  ps.push({ t: t += c.rtt_us / 2, fwd: true, len: 0, ack: true });
  for (let left = c.request; left > 0; left -= MSS) {
    ps.push({ t: t += 50, fwd: true, len: Math.min(MSS, left), psh: left <= MSS, ack: true });
  }
  t += c.rtt_us / 2 + c.think_us;
  for (let left = c.response; left > 0; left -= MSS) {
    ps.push({ t: t += 80, fwd: false, len: Math.min(MSS, left), psh: left <= MSS, ack: true });
  }
  ps.push({ t: t += c.rtt_us / 2, fwd: true, len: 0, ack: true, fin: true });
  ps.push({ t: t += c.rtt_us / 2, fwd: false, len: 0, ack: true, fin: true });
  ps.push({ t: t += c.rtt_us / 2, fwd: true, len: 0, ack: true });
  return ps;
}

function stats(
  xs: readonly number[],
): { sum: number; mean: number; std: number; max: number; min: number } {
  if (xs.length === 0) return { sum: 0, mean: 0, std: 0, max: 0, min: 0 };
  let sum = 0, max = -Infinity, min = Infinity;
  for (const x of xs) {
    sum += x;
    if (x > max) max = x;
    if (x < min) min = x;
  }
  const mean = sum / xs.length;
  let v = 0;
  for (const x of xs) v += (x - mean) ** 2;
  return { sum, mean, std: xs.length > 1 ? Math.sqrt(v / (xs.length - 1)) : 0, max, min };
}

function gaps(ps: readonly Packet[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < ps.length; i++) out.push(ps[i]!.t - ps[i - 1]!.t);
  return out;
}

/** The 52 features of a connection, keyed by name in the model's order. */
export function featuresOf(c: Conn): Record<string, number> {
  const ps = packets(c);
  const fwd = ps.filter((p) => p.fwd), bwd = ps.filter((p) => !p.fwd);
  const duration = Math.max(1, ps[ps.length - 1]!.t);
  const f = stats(fwd.map((p) => p.len)), b = stats(bwd.map((p) => p.len));
  const all = stats(ps.map((p) => p.len));
  const iat = stats(gaps(ps)), fi = stats(gaps(fwd)), bi = stats(gaps(bwd));
  const header = c.proto === 6 ? 32 : 8;
  const secs = duration / 1e6;
  const values = [
    c.port,
    duration,
    fwd.length,
    f.sum,
    f.max,
    f.min,
    f.mean,
    f.std,
    b.max,
    b.min,
    b.mean,
    b.std,
    (f.sum + b.sum) / secs,
    ps.length / secs,
    iat.mean,
    iat.std,
    iat.max,
    iat.min,
    fi.sum,
    fi.mean,
    fi.std,
    fi.max,
    fi.min,
    bi.sum,
    bi.mean,
    bi.std,
    bi.max,
    bi.min,
    fwd.length * header,
    bwd.length * header,
    fwd.length / secs,
    bwd.length / secs,
    all.min,
    all.max,
    all.mean,
    all.std,
    all.std ** 2,
    ps.filter((p) => p.fin).length,
    ps.filter((p) => p.psh).length,
    ps.filter((p) => p.ack).length,
    ps.length > 0 ? (f.sum + b.sum) / ps.length : 0,
    f.sum,
    c.proto === 6 ? 64_240 : -1,
    c.proto === 6 && !c.failed ? 65_160 : -1,
    fwd.filter((p) => p.len > 0).length,
    header,
    0,
    0,
    0,
    0,
    0,
    0,
  ];
  const out: Record<string, number> = {};
  FLOW_FEATURES.forEach((name, i) => (out[name] = Math.round(values[i]! * 1000) / 1000));
  return out;
}

/** Adds one flow from `src` to `dst`. */
function flow(d: Draw, sink: Sink, at: number, src: string, dst: string, c: Conn): void {
  const sport = d.int(32_768, 60_999);
  sink.add("flow", at, {
    src_ip: src,
    dst_ip: dst,
    src_port: sport,
    dst_port: c.port,
    protocol: c.proto,
    flow_id: `${src}-${dst}-${sport}-${c.port}-${c.proto}`,
    features: featuresOf(c),
  });
}

const FRONT_ENDS = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"];
const https = (d: Draw, rtt_ms: number): Conn => ({
  proto: 6,
  port: 443,
  request: Math.round(d.lognormal(900, 0.6)),
  response: Math.round(d.lognormal(12_000, 1)),
  rtt_us: rtt_ms * 1_000 * d.lognormal(1, 0.2),
  think_us: d.lognormal(20_000, 0.6),
});

/** The flows of customers' logins: a few HTTPS connections each to a front end. */
export function customerFlows(
  d: Draw,
  sink: Sink,
  logins: readonly { at: number; ip: string }[],
): void {
  for (const l of logins) {
    for (let i = d.int(1, 3); i > 0; i--) {
      flow(d, sink, l.at + d.between(0, 20_000), l.ip, d.pick(FRONT_ENDS), https(d, 30));
    }
  }
}

/** The bank's own network: monitoring, the web proxy, DNS, backups and file transfers. */
export function networkFlows(d: Draw, sink: Sink, from: number, to: number): void {
  const local = (t: number) => (((t / HOUR_MS + 1) % 24) + 24) % 24;
  for (let t = from; t < to; t += 5 * 60_000) {
    for (let h = 1; h <= 40; h++) {
      const failed = d.chance(0.01);
      flow(d, sink, t + h * 200 + d.between(0, 100), "10.0.0.5", `10.1.0.${h}`, {
        proto: 6,
        port: 5666,
        request: 120,
        response: 180,
        rtt_us: 400,
        think_us: 30_000,
        failed,
      });
    }
  }
  for (let t = from; t < to; t += 60_000) {
    const a = activity(local(t), isWeekend(t));
    const staff = isWeekend(t) ? 0.1 : local(t) >= 8 && local(t) < 17 ? 1 : 0.15;
    for (let i = d.poisson(20 * a * staff); i > 0; i--) {
      const c = https(d, 25);
      if (d.chance(0.1)) c.port = 80;
      c.failed = d.chance(0.01);
      flow(d, sink, t + d.next() * 60_000, "10.0.0.8", `203.0.${d.int(0, 11)}.${d.int(1, 250)}`, c);
    }
    for (let i = d.poisson(15 * a); i > 0; i--) {
      flow(d, sink, t + d.next() * 60_000, "10.0.0.53", `198.18.${d.int(0, 3)}.${d.int(1, 200)}`, {
        proto: 17,
        port: 53,
        request: d.int(30, 60),
        response: d.int(60, 300),
        rtt_us: d.lognormal(20_000, 0.5),
        think_us: 0,
      });
    }
  }
  for (let day = from - (from % DAY_MS); day < to; day += DAY_MS) {
    const backup = day + (1 - 1) * HOUR_MS;
    for (let i = d.int(150, 300); i > 0; i--) {
      flow(d, sink, backup + d.between(0, 15 * 60_000), "10.2.0.20", "10.3.0.5", {
        proto: 6,
        port: 443,
        request: 1_000_000,
        response: 400,
        rtt_us: 500,
        think_us: 5_000,
      });
    }
    if (isWeekend(day)) continue;
    let t = day + (3 - 1) * HOUR_MS;
    let port = d.int(50_000, 50_500);
    for (let i = d.int(30, 80); i > 0; i--) {
      flow(d, sink, t, "10.2.0.30", "198.51.100.20", {
        proto: 6,
        port: 21,
        request: 60,
        response: 120,
        rtt_us: 15_000,
        think_us: 2_000,
      });
      flow(d, sink, t + 200, "10.2.0.30", "198.51.100.20", {
        proto: 6,
        port: port++,
        request: d.int(20_000, 400_000),
        response: 0,
        rtt_us: 15_000,
        think_us: 0,
      });
      t += d.between(1_000, 4_000);
    }
  }
}

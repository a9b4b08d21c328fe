/**
 * The simulator's operations traffic: services' metric samples and logs, page views, and
 * their incidents with ground truth (an error burst, CPU saturation, a latency spike, a
 * page's traffic spike), plus payment incidents of users (rapid transfers, a large
 * transfer), and a benign look-alike: a deploy that raises a service's latency for two
 * samples. It draws from its own random stream and numbers its own events, so the auth
 * and payment traffic is the same with or without it.
 *
 * @module
 */

import { seededRandom } from "../actors/random.ts";
import { OPS_SCENARIOS, type OpsScenario, type SimEvent, type Truth } from "./truth.ts";
export { OPS_SCENARIOS, type OpsScenario };

/** How to simulate operations traffic. */
export interface OpsOptions {
  /** Page views per second of event time, over all pages. */
  clicks_per_second: number;
  /**
   * How much page history a traffic spike waits for (default 35 min: past the 30 windows
   * `click.traffic_spike` needs by default; shorter for a rule told to need fewer).
   */
  spike_after_ms?: number;
}

const RULES: Readonly<Record<Exclude<OpsScenario, "deploy">, string>> = {
  error_burst: "svc.error_burst",
  cpu_saturation: "svc.high_cpu",
  latency_spike: "svc.high_latency",
  rapid_transfers: "tx.rapid_transfers",
  large_transfer: "tx.large_amount",
  traffic_spike: "click.traffic_spike",
};

const SERVICES = ["payments-api", "auth-api", "ledger", "web"] as const;
const PAGES = ["/", "/login", "/accounts", "/transfer", "/cards", "/help"] as const;
const PAGE_WEIGHTS = [0.3, 0.25, 0.2, 0.12, 0.08, 0.05];
const SAMPLE_MS = 10_000;

/** Where ops events go (the simulator's time-ordered queue). */
export type Push = (at: number, event: SimEvent) => void;

/** A deterministic generator of operations traffic and incidents. */
export class Ops {
  #r: () => number;
  #seed: number;
  #ids = 0;
  #o: OpsOptions;
  #nextSample: number;
  #nextLog: number;
  #nextClick: number;
  #incidents = 0;
  #start: number;
  /** Per service: until when its CPU or latency is high (an incident). */
  #hot = new Map<
    string,
    { cpu_until: number; latency_until: number; truth?: Truth; seen: number }
  >();
  /** A page's spike: the page and the minute it runs. */
  #spike: { page: string; from: number; to: number; truth: Truth } | null = null;

  constructor(seed: number, start_ms: number, o: OpsOptions) {
    this.#seed = seed;
    this.#start = start_ms;
    this.#r = seededRandom(seed + 2_000_003);
    this.#o = o;
    this.#nextSample = start_ms;
    this.#nextLog = start_ms;
    this.#nextClick = o.clicks_per_second > 0 ? start_ms : Infinity;
  }

  /** When the next background event is due. */
  get next(): number {
    return Math.min(this.#nextSample, this.#nextLog, this.#nextClick);
  }

  /** Emits the background event due at `t`. */
  step(t: number, push: Push): void {
    if (this.#nextSample === t) {
      for (const s of SERVICES) push(t + this.#r() * 500, this.#sample(s, t));
      this.#nextSample += SAMPLE_MS;
    } else if (this.#nextLog === t) {
      const s = SERVICES[Math.floor(this.#r() * SERVICES.length)]!;
      const level = this.#r() < 0.004 ? "ERROR" : this.#r() < 0.1 ? "WARN" : "INFO";
      push(t, this.#log(s, t, level, level === "ERROR" ? "request failed" : "request served"));
      this.#nextLog += -Math.log(1 - this.#r()) * 500;
    } else {
      const spike = this.#spike && t >= this.#spike.from && t < this.#spike.to ? this.#spike : null;
      const page = this.#pick(PAGE_WEIGHTS);
      push(t, this.#click(PAGES[page]!, t));
      if (spike) {
        // Eleven more views of the spiking page for each ordinary one: about 12× its rate.
        for (let k = 0; k < 11; k++) {
          const e = this.#click(spike.page, t + k);
          if (spike.truth.event_ids.length < 500) spike.truth.event_ids.push(String(e.event_id));
          spike.truth.decisive_event_id = String(e.event_id);
          push(t + k, e);
        }
      }
      this.#nextClick += -Math.log(1 - this.#r()) * 1000 / this.#o.clicks_per_second;
    }
  }

  /**
   * Starts the next incident at `t` (its events are pushed; its truth returned). Services
   * and pages take their turns, so one is not hit again within a rule's cool-down; a
   * traffic spike waits until pages have `spike_after_ms` of history (null: none this time).
   */
  incident(t: number, push: Push, users: readonly string[]): Truth | null {
    const round = Math.floor(this.#incidents / OPS_SCENARIOS.length);
    const scenario = OPS_SCENARIOS[this.#incidents++ % OPS_SCENARIOS.length]!;
    const after = this.#o.spike_after_ms ?? 35 * 60_000;
    if (scenario === "traffic_spike" && t - this.#start < after) return null;
    if (scenario === "deploy") {
      // Benign: a deploy briefly raises a service's latency (two samples), which must not
      // alert. Another service than the latency incidents' of this round.
      const service = SERVICES[(round + 2) % SERVICES.length]!;
      const hot = this.#hot.get(service) ?? { cpu_until: 0, latency_until: 0, seen: 0 };
      this.#hot.set(service, {
        cpu_until: hot.cpu_until,
        latency_until: t + 2 * SAMPLE_MS - 1,
        seen: 0,
      });
      return null;
    }
    const truth = (type: string, key: string): Truth => ({
      scenario: scenario as Truth["scenario"],
      rules: [RULES[scenario as Exclude<OpsScenario, "deploy">]],
      entity: { type: type as Truth["entity"]["type"], key },
      attacker_ip: "",
      start: new Date(t).toISOString(),
      end: new Date(t).toISOString(),
      decisive_event_id: "",
      event_ids: [],
    });
    const service = SERVICES[round % SERVICES.length]!;
    switch (scenario) {
      case "error_burst": {
        const tr = truth("service", service);
        for (let i = 0; i < 30; i++) {
          const e = this.#log(service, t + i * 1_000, "ERROR", "upstream timeout");
          tr.event_ids.push(String(e.event_id));
          if (i === 20) tr.decisive_event_id = String(e.event_id);
          push(t + i * 1_000, e);
        }
        tr.end = new Date(t + 29_000).toISOString();
        return tr;
      }
      case "cpu_saturation":
      case "latency_spike": {
        const tr = truth("service", service);
        // The metric departs from its own baseline too, once it has one (30 samples).
        if (t - this.#start >= 6 * 60_000) tr.rules = [...tr.rules, "svc.metric_anomaly"];
        const hot = this.#hot.get(service) ?? { cpu_until: 0, latency_until: 0, seen: 0 };
        const until = t + 5 * SAMPLE_MS;
        if (scenario === "cpu_saturation") hot.cpu_until = until;
        else hot.latency_until = until;
        hot.truth = tr;
        hot.seen = 0;
        this.#hot.set(service, hot);
        tr.end = new Date(until).toISOString();
        return tr;
      }
      case "rapid_transfers":
      case "large_transfer": {
        const user = users[Math.floor(this.#r() * users.length)]!;
        const tr = truth("user", user);
        const n = scenario === "rapid_transfers" ? 8 : 1;
        for (let i = 0; i < n; i++) {
          const at = t + i * 5_000;
          const amount = scenario === "rapid_transfers"
            ? Math.round((50 + this.#r() * 150) * 100) / 100
            : 150_000; // NOK, about 12,900 EUR: over the cap (in euros)
          const e = this.#transfer(user, at, amount);
          tr.event_ids.push(String(e.event_id));
          if (i === n - (scenario === "rapid_transfers" ? 3 : 1)) {
            tr.decisive_event_id = String(e.event_id);
          }
          push(at, e);
          tr.end = new Date(at).toISOString();
        }
        return tr;
      }
      case "traffic_spike": {
        const page = PAGES[round % PAGES.length]!;
        const tr = truth("page", page);
        // The next whole minute, so the spike fills one window.
        const from = Math.ceil(t / 60_000) * 60_000;
        this.#spike = { page, from, to: from + 60_000, truth: tr };
        tr.start = new Date(from).toISOString();
        tr.end = new Date(from + 60_000).toISOString();
        return tr;
      }
    }
  }

  #sample(service: string, t: number): SimEvent {
    const hot = this.#hot.get(service);
    const cpuHot = hot !== undefined && t < hot.cpu_until;
    const latencyHot = hot !== undefined && t < hot.latency_until;
    const cpu = cpuHot
      ? 94 + this.#r() * 5
      : Math.max(1, Math.min(80, 40 + (this.#r() - 0.5) * 30));
    const latency = latencyHot ? 800 + this.#r() * 400 : 90 + this.#r() * 80;
    const e: SimEvent = {
      kind: "metric",
      event_id: `ops${this.#seed}-${++this.#ids}`,
      timestamp: new Date(t).toISOString(),
      service,
      cpu: Math.round(cpu * 10) / 10,
      latency_ms: Math.round(latency),
    };
    if ((cpuHot || latencyHot) && hot?.truth) {
      hot.truth.event_ids.push(String(e.event_id));
      if (++hot.seen === 3) hot.truth.decisive_event_id = String(e.event_id);
    }
    return e;
  }

  #log(service: string, t: number, level: string, message: string): SimEvent {
    return {
      kind: "log",
      event_id: `ops${this.#seed}-${++this.#ids}`,
      timestamp: new Date(t).toISOString(),
      service,
      level,
      message,
    };
  }

  #click(page: string, t: number): SimEvent {
    return {
      kind: "click",
      event_id: `ops${this.#seed}-${++this.#ids}`,
      timestamp: new Date(t).toISOString(),
      session_id: `c${Math.floor(this.#r() * 100_000)}`,
      page,
      latency_ms: Math.round(50 + this.#r() * 150),
    };
  }

  #transfer(user: string, t: number, amount: number): SimEvent {
    return {
      kind: "transaction",
      event_id: `ops${this.#seed}-${++this.#ids}`,
      timestamp: new Date(t).toISOString(),
      user_id: user,
      account_id: `a-${user}`,
      type: "transfer",
      amount,
      currency: "NOK",
      counterparty: `cp-ops-${this.#ids}`,
      status: "success",
    };
  }

  #pick(weights: readonly number[]): number {
    let x = this.#r();
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}

/**
 * Benign traffic: several days of what a bank's customers, services and network do when
 * nobody attacks them, to measure how often each rule fires on ordinary life (issue 14).
 *
 * It is written from published facts about real behaviour, not from the rules: the daily
 * rhythm and weekends (`benign_base.ts`); customers at home, on mobile data behind
 * carrier-grade NAT, and in offices whose staff share a few NAT addresses, with typos
 * and password-expiry days; travellers flying between cities and logging in on arrival,
 * roaming or on hotel Wi-Fi or the office VPN; new phones and cleared cookies
 * (`benign_people.ts`, `benign_geo.ts`); salaries, paydays, rent and bills
 * (`benign_money.ts`); page views that follow the sessions (`benign_pages.ts`); services
 * with rolling deploys and a nightly batch (`benign_ops.ts`); and the network's own
 * traffic: monitoring, a proxy, DNS, backups, file transfers (`benign_flows.ts`). Each
 * file's module comment lists its parameters and their sources. There are no attacks.
 *
 * Deterministic: the same options give the same events. Each stream draws from its own
 * seeded random source, so turning one off leaves the others as they were.
 *
 * @module
 */

import { BENIGN_LIMITS } from "../config/defaults.ts";
import { DAY_MS, Draw, Sink } from "./benign_base.ts";
import { customerFlows, networkFlows } from "./benign_flows.ts";
import { services } from "./benign_ops.ts";
import { livePerson, makeOffices, makePerson } from "./benign_people.ts";
import type { SimEvent } from "./simulator.ts";

/** What benign traffic to generate. */
export interface BenignOptions {
  seed: number;
  users: number;
  /** The first measured day: a UTC midnight (ms). */
  start_ms: number;
  /** Days measured. */
  days: number;
  /**
   * Days of history before `start_ms` (generated, not measured), so that rules which learn
   * a baseline have one, as in a deployment that has run for a while.
   */
  warmup_days: number;
  /** Services' metrics and logs. */
  ops: boolean;
  /** Network flows. */
  flows: boolean;
}

/**
 * The defaults: 2,000 customers, two days of history, then five days from Thursday
 * 29 January 2026 over a month's end: the last working day (payday in Denmark, Germany,
 * the UK, France and Spain), a weekend, and Monday 2 February (rent by standing order,
 * the office Monday morning).
 */
export const BENIGN_DEFAULTS: Readonly<BenignOptions> = Object.freeze({
  seed: 14,
  users: 2_000,
  start_ms: Date.UTC(2026, 0, 29),
  days: 5,
  warmup_days: 2,
  ops: true,
  flows: true,
});

/** Benign options checked against `BENIGN_LIMITS`; a RangeError names the one out of range. */
export function benignOptions(o: Partial<BenignOptions> = {}): BenignOptions {
  const x = { ...BENIGN_DEFAULTS, ...o };
  const whole = (name: keyof BenignOptions, min: number, max: number) => {
    const v = x[name] as number;
    if (!(Number.isInteger(v) && v >= min && v <= max)) {
      throw new RangeError(`Cannot generate benign traffic with ${name} ${v}: use ${min}–${max}`);
    }
  };
  whole("users", 1, BENIGN_LIMITS.max_users);
  whole("days", 1, BENIGN_LIMITS.max_days);
  whole("warmup_days", 0, BENIGN_LIMITS.max_warmup_days);
  if (x.start_ms % DAY_MS !== 0) {
    throw new RangeError(`Cannot start benign traffic at ${x.start_ms}: use a UTC midnight`);
  }
  return x;
}

/**
 * The benign events of `options`, in event-time order, in docs/events-and-alerts.md shapes.
 *
 * @example
 * ```ts
 * import { benignEvents } from "./benign.ts";
 * const events = benignEvents({ users: 100, days: 1, warmup_days: 0, flows: false });
 * events[0]!.kind; // "metric", "auth", …
 * ```
 */
export function benignEvents(options: Partial<BenignOptions> = {}): SimEvent[] {
  const o = benignOptions(options);
  const from = o.start_ms - o.warmup_days * DAY_MS;
  const to = o.start_ms + o.days * DAY_MS;
  const days = o.warmup_days + o.days;
  const people = new Sink(`bn${o.seed}`, BENIGN_LIMITS.max_events);
  const d = new Draw(o.seed);
  const offices = makeOffices(d, o.users, o.start_ms, o.days);
  for (let i = 0; i < o.users; i++) {
    const u = makePerson(d, i, offices);
    livePerson(d, u, people, from, days);
  }
  const sinks = [people];
  if (o.ops) {
    const ops = new Sink(`bo${o.seed}`, BENIGN_LIMITS.max_events);
    services(new Draw(o.seed + 1_000_003), ops, from, to);
    sinks.push(ops);
  }
  if (o.flows) {
    const flows = new Sink(`bf${o.seed}`, BENIGN_LIMITS.max_events);
    const logins = people.sorted(from, to) // flows from the warm-up on
      .filter((e) => e.kind === "auth" && e.type === "login_success")
      .map((e) => ({ at: Date.parse(e.timestamp), ip: e.ip as string }));
    const fd = new Draw(o.seed + 2_000_003);
    customerFlows(fd, flows, logins);
    networkFlows(fd, flows, from, to);
    sinks.push(flows);
  }
  // The people's past (before the warm-up) is kept: it is their history.
  return merge(sinks.map((s, i) => s.sorted(i === 0 ? -Infinity : from, to)));
}

/** Sorted lists merged into one, in event-time order (ties: the earlier list first). */
function merge(lists: SimEvent[][]): SimEvent[] {
  const all = lists.flat();
  const at = new Map(all.map((e) => [e, Date.parse(e.timestamp)]));
  return all.sort((a, b) => at.get(a)! - at.get(b)!);
}

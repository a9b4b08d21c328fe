/**
 * What the benign-traffic generator's parts share: a seeded random source with the
 * distributions they draw from, the daily rhythm of people's activity, and a sink that
 * numbers events and keeps them until they are sorted into event-time order.
 *
 * The rhythm is modelled on published hour-of-day curves of web and online-banking use
 * (internet exchanges' and CDNs' public traffic graphs, banks' published app-usage
 * figures): a trough around 03:00–05:00 local at about a tenth of the peak, a rise from
 * 06:00, a plateau through the working day and the highest point in the evening; at
 * weekends the morning rise comes about two hours later. It is not tuned to any rule.
 *
 * @module
 */

import { seededRandom } from "../actors/random.ts";
import type { SimEvent } from "./simulator.ts";

/** The milliseconds of an hour, a day. */
export const HOUR_MS = 3_600_000;
/** The milliseconds of a day. */
export const DAY_MS = 24 * HOUR_MS;

/** Relative activity by local hour on a working day (the peak is 1). */
const WEEKDAY = [
  0.12,
  0.07,
  0.05,
  0.04,
  0.04,
  0.07,
  0.2,
  0.45,
  0.65,
  0.7,
  0.7,
  0.72, //
  0.78,
  0.72,
  0.68,
  0.68,
  0.72,
  0.8,
  0.88,
  0.95,
  1,
  0.92,
  0.65,
  0.3,
];
/** Relative activity by local hour at a weekend: a later morning. */
const WEEKEND = [
  0.18,
  0.1,
  0.07,
  0.05,
  0.04,
  0.05,
  0.08,
  0.15,
  0.3,
  0.5,
  0.68,
  0.75, //
  0.78,
  0.75,
  0.7,
  0.68,
  0.7,
  0.75,
  0.82,
  0.9,
  0.95,
  0.9,
  0.68,
  0.38,
];
/** Volume of a weekend day against a working day (fewer bills paid, fewer logins). */
export const WEEKEND_VOLUME = 0.8;

/** The hour-of-day weights of a day (weekend or not). */
export function hourWeights(weekend: boolean): readonly number[] {
  return weekend ? WEEKEND : WEEKDAY;
}

/** The relative activity at a local hour (0–23, fractional ones interpolated). */
export function activity(localHour: number, weekend: boolean): number {
  const w = hourWeights(weekend);
  const h = ((localHour % 24) + 24) % 24;
  const i = Math.floor(h);
  const f = h - i;
  return w[i]! * (1 - f) + w[(i + 1) % 24]! * f;
}

/** Whether a day (UTC midnight of it, or any time in it) falls on Saturday or Sunday. */
export function isWeekend(day_ms: number): boolean {
  const d = new Date(day_ms).getUTCDay();
  return d === 0 || d === 6;
}

/** A seeded random source with the draws the generator needs. */
export class Draw {
  readonly next: () => number;

  constructor(seed: number) {
    this.next = seededRandom(seed);
  }

  /** A number in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  /** A whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One of `xs`, uniformly. */
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }

  /** An index drawn with the given (unnormalised) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }

  /** A log-normal draw with the given median and the σ of its logarithm. */
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** A standard normal draw (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** An exponential draw with the given mean. */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  /** A Poisson draw (Knuth; for the small means used here). */
  poisson(mean: number): number {
    const limit = Math.exp(-mean);
    let k = 0, p = this.next();
    while (p > limit && k < 1_000) {
      k++;
      p *= this.next();
    }
    return k;
  }

  /** An IPv4 address in a /16 (`a.b`), host part random. */
  ipIn(prefix16: string): string {
    return `${prefix16}.${this.int(0, 255)}.${this.int(1, 254)}`;
  }
}

/** Where the generator's parts put their events: numbered, then sorted by event time. */
export class Sink {
  #events: { at: number; e: SimEvent }[] = [];
  #ids = 0;
  readonly #prefix: string;
  readonly #max: number;

  constructor(prefix: string, max_events: number) {
    this.#prefix = prefix;
    this.#max = max_events;
  }

  /** Adds an event of `kind` at `at` (ms) with `fields`; returns it (its id is set). */
  add(kind: string, at: number, fields: Record<string, unknown>): SimEvent {
    if (this.#events.length >= this.#max) {
      throw new RangeError(
        `Cannot generate more than ${this.#max} benign events: ask for fewer users or days`,
      );
    }
    const t = Math.floor(at);
    const e: SimEvent = {
      kind,
      event_id: `${this.#prefix}-${++this.#ids}`,
      timestamp: new Date(t).toISOString(),
      ...fields,
    };
    this.#events.push({ at: t, e });
    return e;
  }

  /** How many events were added. */
  get size(): number {
    return this.#events.length;
  }

  /** The events between `from` and `to` (ms), in event-time order (ties: as added). */
  sorted(from: number, to: number): SimEvent[] {
    return this.#events
      .filter((x) => x.at >= from && x.at < to)
      .sort((a, b) => a.at - b.at)
      .map((x) => x.e);
  }
}

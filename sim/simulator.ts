/**
 * The event simulator: seeded, realistic auth and payment traffic (users with home
 * cities, devices, IPs and daily rhythms, who now and then mistype a password) with
 * attack scenarios injected at a steady interval, each with its ground truth.
 *
 * The same options give the same events, byte for byte.
 *
 * @module
 */

import { TimeHeap } from "../actors/heap.ts";
import { seededRandom } from "../actors/random.ts";
import { Ops, type OpsOptions } from "./ops.ts";
import {
  NET_SCENARIOS,
  type NetScenario,
  type Scenario,
  type SimEvent,
  type Truth,
} from "./truth.ts";
// The scenarios and the truth, for those who import them from the simulator.
export * from "./truth.ts";
import { distanceKm } from "../actors/rules/login_risk.ts";
import { defaults, MIN_SIMULATED_USERS } from "../config/defaults.ts";
import type { ModelManifest } from "../models/service.ts";
import { ATTACK_AGENTS, ATTACKER_CITIES, type City, HOME_CITIES, USER_AGENTS } from "./geo.ts";

/**
 * The scenarios in the order they are injected by default: every one of them, attempts
 * more often than attacks that get in (as in a bank's logs, where most campaigns fail).
 */
export const ROTATION: readonly Scenario[] = [
  "brute_force",
  "password_spray",
  "guess_then_success",
  "credential_stuffing",
  "brute_force",
  "slow_attack",
  "account_takeover",
  "password_spray",
  "brute_force",
  "impossible_travel",
  "credential_stuffing",
];

/** Rules each scenario must fire. */
export const EXPECTED_RULES: Readonly<Record<Scenario, readonly string[]>> = {
  brute_force: ["auth.brute_force"],
  guess_then_success: [
    "auth.brute_force",
    "auth.success_after_failures",
    "user.compromise_after_attack",
  ],
  password_spray: ["ip.password_spray"],
  credential_stuffing: ["ip.credential_stuffing"],
  account_takeover: ["auth.risky_login", "user.account_takeover"],
  impossible_travel: ["auth.risky_login", "auth.impossible_travel"],
  slow_attack: ["ip.throttle"],
};

const NET_RULES: Readonly<Record<NetScenario, string>> = {
  port_scan: "net.port_scan",
  address_scan: "net.address_scan",
  flood: "net.flood",
};

/** Share of users who log in from an office: many users behind one address (a NAT). */
const OFFICE_SHARE = 0.03;
/** Offices (one address each). */
const OFFICES = 3;
/** Share of users paying their regular payees in the first hour after a salary day's 09:00. */
const SALARY_SHARE = 0.05;

/** Share of payments to someone the user has not paid regularly. */
const NEW_PAYEE_SHARE = 0.05;

/** Chance that a session at home starts a trip (another city, a known device, another IP). */
const TRAVEL_SHARE = 0.01;

/** How to simulate. */
export interface SimOptions {
  seed: number;
  users: number;
  /** Event time of the first event (ms). */
  start_ms: number;
  /** Average events per second of event time. */
  events_per_second: number;
  /** Seconds of event time between attacks (0: none). */
  attack_interval_s: number;
  /** Scenarios to inject, in rotation (default: `ROTATION`). */
  scenarios?: readonly Scenario[];
  /**
   * Network flows too: background flows of the benign class and, every attack interval
   * (half an interval after each login attack), a burst of one attack class from one
   * source, the classes in rotation. Flows draw from their own random stream and ids,
   * so the auth and payment events are the same with or without them.
   */
  flows?: FlowOptions;
  /**
   * Operations traffic too (`sim/ops.ts`): services' metrics and logs, page views, and an
   * incident every attack interval (a quarter interval after each login attack). Its own
   * random stream and ids: the auth and payment traffic is the same with or without it.
   */
  ops?: OpsOptions;
  /**
   * The bank's payment system failing now and then: from `first_ms`, every `every_ms`
   * (0: once), for `length_ms`, three in four of the transactions that would have
   * succeeded come back `failed`. No Vigil rule alerts on it (nothing is attacked); the
   * transaction success-rate KPI alert (Prometheus) does.
   */
  payment_outages?: PaymentOutages;
}

/** When the simulated payment system fails (`SimOptions.payment_outages`). */
export interface PaymentOutages {
  first_ms: number;
  every_ms: number;
  length_ms: number;
}

/** During an outage, this many of each four transactions that would succeed fail. */
const OUTAGE_FAILED_OF_4 = 3;

/** How to simulate flows. */
export interface FlowOptions {
  /** Per class, the 52 feature values of a typical flow (a flow model manifest's `prototypes`). */
  prototypes: Readonly<Record<string, readonly number[]>>;
  /**
   * Per class, feature vectors drawn like the training data (a flow model manifest's
   * `traffic.classes`: microaggregates of its training rows, `models/train/flow_traffic.py`).
   * Background flows and attack bursts pick one of their class's at random; a class without
   * any uses its prototype.
   */
  traffic?: Readonly<Record<string, readonly (readonly number[])[]>>;
  /** The benign class. */
  benign: string;
  /** Features in the prototypes' order (the model's). */
  features: readonly string[];
  /** Average background flows per second of event time. */
  per_second: number;
}

/**
 * Flows from a flow model's manifest (its class prototypes, traffic sample, benign class and
 * features), at `per_second`; null when the manifest has no prototypes.
 */
export function flowsOf(m: ModelManifest | null, per_second: number): FlowOptions | null {
  const prototypes = m?.prototypes as Record<string, number[]> | undefined;
  if (!m || !prototypes) return null;
  const traffic = (m.traffic as { classes?: Record<string, number[][]> } | undefined)?.classes;
  return {
    prototypes,
    ...(traffic ? { traffic } : {}),
    benign: m.benign_class ?? m.classes[0]!,
    features: m.features,
    per_second,
  };
}

interface User {
  id: string;
  home: City;
  ip: string;
  devices: string[];
  agent: string;
  /** Successful logins so far (attacks that need a victim with history look for one). */
  logins: number;
  /** The payees the user pays regularly (rent, utilities, family). */
  payees: string[];
  /** When the user last logged in (0: never), and where from. */
  last_login_ms: number;
  last_place: City;
  /** A trip away from home: another city and IP until a time. */
  trip: { place: City; ip: string; until_ms: number } | null;
}

interface Pending {
  at: number;
  seq: number;
  event: SimEvent;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Mean events of one benign session (login, ~1.2 payments, ~0.7 logout, rare mistypes). */
const EVENTS_PER_SESSION = 3;

/** A deterministic generator of traffic. */
export class Simulator {
  readonly truths: Truth[] = [];
  #o: Required<SimOptions>;
  #r: () => number;
  #users: User[];
  #heap = new TimeHeap<Pending>();
  #seq = 0;
  #ids = 0;
  #sessions = 0;
  #nextSession: number;
  #nextAttack: number;
  #attacks = 0;
  #stuffings = 0;
  #flows: FlowOptions | null;
  #fr: () => number;
  #flowIds = 0;
  #nextFlow = Infinity;
  #nextFlowAttack = Infinity;
  #flowAttacks = 0;
  #ops: Ops | null = null;
  /** Transactions met during outages (every fourth of them still succeeds). */
  #outaged = 0;
  #nextOpsIncident = Infinity;
  #offices: string[];
  #nextSalary: number;

  constructor(options: SimOptions) {
    if (!(Number.isInteger(options.users) && options.users >= MIN_SIMULATED_USERS)) {
      throw new RangeError(
        `Cannot simulate ${options.users} users: at least ${MIN_SIMULATED_USERS} are needed`,
      );
    }
    if (!(options.events_per_second > 0)) {
      throw new RangeError(`Cannot simulate ${options.events_per_second} events a second`);
    }
    this.#o = { scenarios: ROTATION, ...options } as Required<SimOptions>;
    this.#r = seededRandom(options.seed);
    this.#fr = seededRandom(options.seed + 1_000_003);
    this.#offices = Array.from({ length: OFFICES }, () => this.#ip(this.#pick(HOME_CITIES)));
    this.#users = Array.from({ length: options.users }, (_, i) => this.#makeUser(i));
    // Salaries come on the 25th; the simulation's first day stands in for one.
    this.#nextSalary = Math.ceil((options.start_ms - 9 * HOUR_MS) / DAY_MS) * DAY_MS + 9 * HOUR_MS;
    this.#nextSession = options.start_ms;
    this.#nextAttack = options.attack_interval_s > 0 ? options.start_ms + 5_000 : Infinity;
    this.#flows = options.flows ?? null;
    if (this.#flows && this.#flows.per_second > 0) this.#nextFlow = options.start_ms;
    if (this.#flows && options.attack_interval_s > 0) {
      this.#nextFlowAttack = options.start_ms + 5_000 + options.attack_interval_s * 500;
    }
    if (options.ops) {
      this.#ops = new Ops(options.seed, options.start_ms, options.ops);
      if (options.attack_interval_s > 0) {
        this.#nextOpsIncident = options.start_ms + 5_000 + options.attack_interval_s * 250;
      }
    }
  }

  /** Every event with event time before `until_ms` not yet returned, in time order. */
  *until(until_ms: number): Generator<SimEvent> {
    const sessionGap = 1000 * EVENTS_PER_SESSION / this.#o.events_per_second;
    for (;;) {
      const nextOps = this.#ops?.next ?? Infinity;
      const next = Math.min(
        this.#nextSession,
        this.#nextAttack,
        this.#nextFlow,
        this.#nextFlowAttack,
        nextOps,
        this.#nextOpsIncident,
        this.#nextSalary,
        until_ms,
      );
      while (this.#heap.size > 0 && this.#heap.peek()!.at < next) {
        const { at, event } = this.#heap.pop()!;
        if (event.kind === "transaction" && this.#o.payment_outages) this.#outage(event, at);
        yield event;
      }
      if (next >= until_ms) return;
      if (this.#nextSalary === next) {
        this.#salaryDay(next);
        this.#nextSalary = Infinity;
      } else if (nextOps === next) {
        this.#ops!.step(next, (at, e) => this.#push(at, e));
      } else if (this.#nextOpsIncident === next) {
        const truth = this.#ops!.incident(
          next,
          (at, e) => this.#push(at, e),
          this.#users.map((u) => u.id),
        );
        if (truth) this.truths.push(truth);
        this.#nextOpsIncident += this.#o.attack_interval_s * 1000;
      } else if (this.#nextFlow === next) {
        this.#backgroundFlow(next);
        this.#nextFlow += -Math.log(1 - this.#fr()) * 1000 / this.#flows!.per_second;
      } else if (this.#nextFlowAttack === next) {
        this.#flowAttack(next);
        this.#nextFlowAttack += this.#o.attack_interval_s * 1000;
      } else if (this.#nextAttack <= this.#nextSession) {
        this.#attack(this.#nextAttack);
        this.#nextAttack += this.#o.attack_interval_s * 1000;
      } else {
        this.#session(this.#nextSession);
        this.#nextSession += -Math.log(1 - this.#r()) * sessionGap;
      }
    }
  }

  /** Up to `n` events (fewer only if `until` ends first), in time order. */
  take(n: number, until_ms = Infinity): SimEvent[] {
    const out: SimEvent[] = [];
    if (n <= 0) return out;
    for (const e of this.until(until_ms)) {
      out.push(e);
      if (out.length >= n) break;
    }
    return out;
  }

  #makeUser(i: number): User {
    const home = this.#pick(HOME_CITIES);
    const id = `u${String(i + 1).padStart(6, "0")}`;
    const office = this.#r() < OFFICE_SHARE ? this.#pick(this.#offices) : null;
    return {
      id,
      home,
      ip: office ?? this.#ip(home),
      devices: Array.from({ length: 1 + Math.floor(this.#r() * 2) }, (_, k) => `d-${id}-${k}`),
      agent: this.#pick(USER_AGENTS),
      logins: 0,
      payees: Array.from(
        { length: 3 + Math.floor(this.#r() * 6) },
        () => `cp-${Math.floor(this.#r() * 5_000)}`,
      ),
      last_login_ms: 0,
      last_place: home,
      trip: null,
    };
  }

  /** A benign session: maybe a mistype or two, a login, some payments, maybe a logout. */
  #session(t: number): void {
    const u = this.#activeUser(t);
    const session = `s${this.#o.seed}-${++this.#sessions}`;
    const device = this.#r() < 0.02 ? `d-${u.id}-new${this.#sessions}` : this.#pick(u.devices);
    const { place, ip } = this.#whereIs(u, t);
    let at = t;
    if (this.#r() < 0.04) {
      const mistypes = 1 + Math.floor(this.#r() * 2);
      for (let i = 0; i < mistypes; i++) {
        this.#push(at, this.#auth("login_failure", u.id, ip, place, device, u.agent, null));
        at += 3_000 + this.#r() * 12_000;
      }
    }
    this.#push(at, this.#auth("login_success", u.id, ip, place, device, u.agent, session));
    u.logins++;
    u.last_login_ms = at;
    u.last_place = place;
    const payments = Math.floor(this.#r() * 2.5);
    let pt = at;
    for (let i = 0; i < payments; i++) {
      pt += 20_000 + this.#r() * 240_000;
      this.#push(pt, this.#payment(u, device));
    }
    if (this.#r() < 0.7) {
      this.#push(pt + 60_000 + this.#r() * 1_200_000, {
        ...this.#base("auth", 0),
        type: "logout",
        user_id: u.id,
        session_id: session,
      });
    }
  }

  /**
   * Where a user logs in from at `t`: home, or now and then a trip of 2–10 days to another
   * city (maybe another country) with an IP there. A trip starts or ends only when a
   * flight could have made it since the user's last login (800 km/h plus 2 h), so benign
   * travel is never impossible travel.
   */
  #whereIs(u: User, t: number): { place: City; ip: string } {
    const travel = this.#r();
    const reachable = (to: City) =>
      u.last_login_ms === 0 ||
      t - u.last_login_ms >=
        (distanceKm(u.last_place.lat, u.last_place.lon, to.lat, to.lon) / 800 + 2) * 3_600_000;
    if (u.trip && t >= u.trip.until_ms && reachable(u.home)) u.trip = null;
    if (!u.trip && travel < TRAVEL_SHARE) {
      const to = this.#pick(HOME_CITIES);
      if (to !== u.home && reachable(to)) {
        u.trip = { place: to, ip: this.#ip(to), until_ms: t + (2 + this.#r() * 8) * 86_400_000 };
      }
    }
    return u.trip ? { place: u.trip.place, ip: u.trip.ip } : { place: u.home, ip: u.ip };
  }

  /** A user more likely awake at `t` in their home time zone. */
  #activeUser(t: number): User {
    let u = this.#pick(this.#users);
    for (let tries = 0; tries < 4; tries++) {
      const hour = (new Date(t).getUTCHours() + u.home.utc_offset + 24) % 24;
      if (this.#r() < rhythm(hour)) break;
      u = this.#pick(this.#users);
    }
    return u;
  }

  #attack(t: number): void {
    const scenario = this.#o.scenarios[this.#attacks++ % this.#o.scenarios.length]!;
    const from = this.#pick(ATTACKER_CITIES);
    const ip = this.#ip(from);
    const agent = this.#pick(ATTACK_AGENTS);
    const device = `d-attacker-${this.#attacks}`;
    if (scenario === "password_spray" || scenario === "credential_stuffing") {
      this.#manyUsers(scenario, t, ip, from, device, agent);
      return;
    }
    if (scenario === "account_takeover" || scenario === "impossible_travel") {
      // An intruder takes over an account in use: one with a baseline of logins, so its
      // new device and network are news (auth.new_device_location) as well.
      const min = scenario === "account_takeover" ? defaults.auth.new_device_min_logins : 1;
      this.#takeover(scenario, t, this.#knownUser(min), ip, from, device, agent);
      return;
    }
    if (scenario === "slow_attack") {
      this.#slowAttack(t, ip, from, device, agent);
      return;
    }
    const victim = this.#pick(this.#users);
    const failures = scenario === "brute_force"
      ? 8 + Math.floor(this.#r() * 8)
      : 6 + Math.floor(this.#r() * 4);
    const ids: string[] = [];
    let at = t;
    for (let i = 0; i < failures; i++) {
      const e = this.#auth("login_failure", victim.id, ip, from, device, agent, null);
      ids.push(e.event_id as string);
      this.#push(at, e);
      at += 1_000 + this.#r() * 7_000;
    }
    let login: string | null = null;
    if (scenario === "guess_then_success") {
      login = this.#attackerLogin(victim, at, ip, from, device, agent, ids);
    } else {
      at -= 2_000;
    }
    this.#userTruth(scenario, victim, ip, t, at, ids, login);
  }

  /** The attacker's successful login as `victim`; its id is added to `ids` and returned. */
  #attackerLogin(
    victim: User,
    at: number,
    ip: string,
    from: City,
    device: string,
    agent: string,
    ids: string[],
  ): string {
    const e = this.#auth(
      "login_success",
      victim.id,
      ip,
      from,
      device,
      agent,
      `sa-${this.#attacks}`,
    );
    ids.push(e.event_id as string);
    this.#push(at, e);
    return e.event_id as string;
  }

  /**
   * The ground truth of an attack on one user; `login`: the attacker's successful login.
   * The decisive event is the last of `ids`.
   */
  #userTruth(
    scenario: Scenario,
    victim: User,
    ip: string,
    t: number,
    at: number,
    ids: string[],
    login: string | null,
    rules: readonly string[] = EXPECTED_RULES[scenario],
  ): void {
    const risky = login ? [{ user_id: victim.id, event_id: login }] : undefined;
    const entity = { type: "user" as const, key: victim.id };
    this.truths.push(truthOf(scenario, rules, entity, ip, t, at, ids.at(-1)!, ids, risky));
  }

  /**
   * A user who has logged in at least `min` times before (a takeover is told from the
   * user's history), if one turns up among a few tries; else the one with the most.
   */
  #knownUser(min: number): User {
    let u = this.#pick(this.#users);
    for (let tries = 0; tries < 50 && u.logins < min; tries++) {
      const v = this.#pick(this.#users);
      if (v.logins > u.logins) u = v;
    }
    return u;
  }

  /**
   * A login with stolen credentials and no failed attempt: account takeover from the
   * attacker's own city and device at any hour; impossible travel with the victim's own
   * device (a stolen session or cookie), 5–30 min after the victim logged in at home.
   */
  #takeover(
    scenario: "account_takeover" | "impossible_travel",
    t: number,
    victim: User,
    ip: string,
    from: City,
    device: string,
    agent: string,
  ): void {
    const ids: string[] = [];
    let at = t;
    if (scenario === "impossible_travel") {
      const own = this.#pick(victim.devices);
      const home = this.#auth(
        "login_success",
        victim.id,
        victim.ip,
        victim.home,
        own,
        victim.agent,
        `s${this.#o.seed}-${++this.#sessions}`,
      );
      ids.push(home.event_id as string);
      this.#push(at, home);
      at += 300_000 + this.#r() * 1_500_000;
      device = own;
      agent = victim.agent;
    }
    const login = this.#attackerLogin(victim, at, ip, from, device, agent, ids);
    if (scenario === "account_takeover") {
      // The intruder moves money out: a transfer to a mule account within 2–20 min.
      at += 120_000 + this.#r() * 1_080_000;
      const out: SimEvent = {
        ...this.#base("transaction", 0),
        user_id: victim.id,
        account_id: `a-${victim.id}`,
        type: "transfer",
        amount: Math.round((1_500 + this.#r() * 7_500) * 100) / 100,
        currency: "NOK",
        counterparty: `mule-${this.#attacks}`,
        ip,
        device_id: device,
        channel: "web",
        status: "success",
      };
      ids.push(out.event_id as string);
      this.#push(at, out);
    }
    // A victim with a baseline of logins (the default one) also gets
    // auth.new_device_location: the intruder's device and network are new to them.
    const rules = scenario === "account_takeover" &&
        victim.logins >= defaults.auth.new_device_min_logins
      ? [...EXPECTED_RULES[scenario], "auth.new_device_location"]
      : EXPECTED_RULES[scenario];
    this.#userTruth(scenario, victim, ip, t, at, ids, login, rules);
  }

  /**
   * An attack from one IP across many users: a spray tries a few common passwords in
   * rounds against 6–9 users (3 rounds); stuffing tries one leaked pair each for 28–35
   * users, and in one stuffing attack of three (the first, then every third) one works.
   */
  #manyUsers(
    scenario: "password_spray" | "credential_stuffing",
    t: number,
    ip: string,
    from: City,
    device: string,
    agent: string,
  ): void {
    const spray = scenario === "password_spray";
    const n = spray ? 6 + Math.floor(this.#r() * 4) : 28 + Math.floor(this.#r() * 8);
    const victims = new Set<User>();
    while (victims.size < n) victims.add(this.#pick(this.#users));
    const ids: string[] = [];
    let at = t, end = t;
    for (let round = 0; round < (spray ? 3 : 1); round++) {
      for (const v of victims) {
        const e = this.#auth("login_failure", v.id, ip, from, device, agent, null);
        ids.push(e.event_id as string);
        this.#push(at, e);
        end = at;
        at += 2_000 + this.#r() * (spray ? 10_000 : 6_000);
      }
    }
    const decisive = ids[ids.length - 1]!;
    let risky: Truth["risky_logins"] | null = null;
    if (!spray && this.#stuffings++ % 3 === 0) {
      const lucky = [...victims][Math.floor(this.#r() * n)]!;
      const e = this.#auth(
        "login_success",
        lucky.id,
        ip,
        from,
        device,
        agent,
        `sa-${this.#attacks}`,
      );
      this.#push(at, e);
      risky = [{ user_id: lucky.id, event_id: e.event_id as string }];
    }
    const entity = { type: "ip" as const, key: ip };
    const rules = EXPECTED_RULES[scenario];
    this.truths.push(
      truthOf(scenario, rules, entity, ip, t, end, decisive, ids, risky ?? undefined),
    );
  }

  /**
   * A salary day (benign, a look-alike of rapid transfers and large amounts): a share of
   * the users pay 2–4 of their regular payees within the hour, ordinary amounts.
   */
  #salaryDay(t: number): void {
    for (const u of this.#users) {
      if (this.#r() >= SALARY_SHARE) continue;
      let at = t + this.#r() * 3_000_000;
      const n = 2 + Math.floor(this.#r() * 3);
      for (let i = 0; i < n; i++) {
        const e = this.#payment(u, this.#pick(u.devices));
        e.counterparty = u.payees[i % u.payees.length];
        e.type = "transfer";
        this.#push(at, e);
        at += 20_000 + this.#r() * 120_000;
      }
    }
  }

  /**
   * A steady attack from one IP that stays under the per-user limits and reads as no
   * campaign: 110–130 failed logins, one every 2–5 s, two passwords per user tried back to
   * back (the leaked one and a variant) over 55–65 users, so neither "about once each"
   * (stuffing) nor "several each" (a spray). It drains the IP's `ip.throttle` bucket (100,
   * plus one back per 14.4 min); the decisive failure is the one that finds it empty.
   */
  #slowAttack(t: number, ip: string, from: City, device: string, agent: string): void {
    const n = 110 + Math.floor(this.#r() * 21);
    const victims = Array.from({ length: Math.ceil(n / 2) }, () => this.#pick(this.#users));
    const ids: string[] = [];
    let at = t, decisive = "";
    const { throttle_capacity: capacity, throttle_refill_ms: refill } = defaults.ip;
    let credit = capacity * refill, last = t;
    for (let i = 0; i < n; i++) {
      const e = this.#auth("login_failure", victims[i >> 1]!.id, ip, from, device, agent, null);
      ids.push(e.event_id as string);
      const ts = Math.floor(at);
      credit = Math.min(capacity * refill, credit + (ts - last));
      last = ts;
      if (credit >= refill) credit -= refill;
      else if (!decisive) decisive = e.event_id as string;
      this.#push(ts, e);
      at += 2_000 + this.#r() * 3_000;
    }
    const entity = { type: "ip" as const, key: ip };
    const rules = EXPECTED_RULES.slow_attack;
    this.truths.push(
      truthOf("slow_attack", rules, entity, ip, t, last, decisive || ids.at(-1)!, ids),
    );
  }

  /** A benign flow from one of the users' addresses to a server. */
  #backgroundFlow(t: number): void {
    const f = this.#flows!;
    const u = this.#users[Math.floor(this.#fr() * this.#users.length)]!;
    const dst = `192.0.2.${1 + Math.floor(this.#fr() * 20)}`;
    this.#push(t, this.#flow(u.ip, dst, f.benign, t, 0.2, null, true));
  }

  /**
   * A burst of 6–15 flows of one attack class from one source, over about 10 s; or, in
   * the rotation after the classes, a network scenario (`NET_SCENARIOS`).
   */
  #flowAttack(t: number): void {
    const f = this.#flows!;
    const classes = Object.keys(f.prototypes).filter((c) => c !== f.benign);
    if (classes.length === 0) return;
    const turn = this.#flowAttacks++ % (classes.length + NET_SCENARIOS.length);
    const src = `198.18.${Math.floor(this.#fr() * 256)}.${1 + Math.floor(this.#fr() * 254)}`;
    if (turn >= classes.length) {
      this.#netScenario(NET_SCENARIOS[turn - classes.length]!, t, src);
      return;
    }
    const cls = classes[turn]!;
    const dst = `192.0.2.${1 + Math.floor(this.#fr() * 20)}`;
    const n = 6 + Math.floor(this.#fr() * 10);
    const ids: string[] = [];
    let at = t;
    for (let i = 0; i < n; i++) {
      const e = this.#flow(src, dst, cls, at, 0, null, true);
      ids.push(e.event_id as string);
      this.#push(at, e);
      at += 200 + this.#fr() * 1_500;
    }
    const rule = `flow.${cls.toLowerCase().replace(/[^a-z0-9]+/g, "_")}`;
    const entity = { type: "src" as const, key: src };
    this.truths.push(truthOf("flow_attack", [rule], entity, src, t, at, ids[0]!, ids));
  }

  /**
   * A port scan (one host, 20 ports), an address scan (30 hosts, one port), each probe a
   * flow like the model's port-scanning prototype, one every 0.3–1.5 s; or a flood: a
   * source that talked to a server a few times a minute for 12 minutes sends 150–250
   * flows in the next minute (the decisive flow is the first of the minute after, when
   * the flood minute is judged).
   */
  #netScenario(scenario: NetScenario, t: number, src: string): void {
    const f = this.#flows!;
    const probe = Object.keys(f.prototypes).find((c) => /scan/i.test(c)) ?? f.benign;
    const flood = Object.keys(f.prototypes).find((c) => /^dos$/i.test(c)) ?? f.benign;
    const ids: string[] = [];
    let at = t, decisive = "";
    const host = `10.20.${Math.floor(this.#fr() * 256)}.${1 + Math.floor(this.#fr() * 254)}`;
    const push = (dst: string, cls: string, port: number | null, ts: number) => {
      const e = this.#flow(src, dst, cls, ts, 0, port);
      ids.push(e.event_id as string);
      this.#push(ts, e);
      return e.event_id as string;
    };
    if (scenario === "flood") {
      for (let m = 0; m < 12; m++) {
        const k = 1 + Math.floor(this.#fr() * 3);
        for (let i = 0; i < k; i++) {
          push(host, f.benign, null, t + m * 60_000 + this.#fr() * 59_000);
        }
      }
      const minute = Math.floor(t / 60_000) * 60_000 + 13 * 60_000;
      const n = 150 + Math.floor(this.#fr() * 101);
      for (let i = 0; i < n; i++) push(host, flood, null, minute + (i * 59_000) / n);
      at = minute + 60_000 + 1_000;
      decisive = push(host, f.benign, null, at);
    } else {
      const n = scenario === "port_scan" ? 20 : 30;
      const need = scenario === "port_scan" ? 15 : 25;
      const base = 20 + Math.floor(this.#fr() * 1_000);
      const port = [22, 445, 3389, 23][Math.floor(this.#fr() * 4)]!;
      const net = `10.30.${Math.floor(this.#fr() * 256)}`;
      for (let i = 0; i < n; i++) {
        const id = scenario === "port_scan"
          ? push(host, probe, base + i * 7, at)
          : push(`${net}.${i + 1}`, probe, port, at);
        if (i === need - 1) decisive = id;
        at += 300 + this.#fr() * 1_200;
      }
    }
    const entity = { type: "src" as const, key: src };
    this.truths.push(truthOf(scenario, [NET_RULES[scenario]], entity, src, t, at, decisive, ids));
  }

  /**
   * A flow of class `cls`. `sampled`: one of the class's traffic vectors (drawn like the
   * training data) when the model has them. Otherwise its prototype, each value but the port
   * moved by up to ±`jitter` (background flows vary; an attack tool's flows are alike).
   */
  #flow(
    src: string,
    dst: string,
    cls: string,
    t: number,
    jitter = 0,
    port: number | null = null,
    sampled = false,
  ): SimEvent {
    const f = this.#flows!;
    const sample = sampled ? f.traffic?.[cls] : undefined;
    const drawn = sample && sample.length > 0
      ? sample[Math.floor(this.#fr() * sample.length)]!
      : null;
    const proto = drawn ?? f.prototypes[cls]!;
    const spread = drawn ? 0 : jitter;
    const features: Record<string, number> = {};
    f.features.forEach((name, i) => {
      const v = i === 0 && port !== null ? port : proto[i] ?? 0;
      const k = i === 0 || spread === 0 ? 1 : 1 - spread + this.#fr() * 2 * spread;
      features[name] = Math.round(v * k * 1e6) / 1e6;
    });
    const srcPort = 1024 + Math.floor(this.#fr() * 64_000);
    return {
      kind: "flow",
      event_id: `flow${this.#o.seed}-${++this.#flowIds}`,
      timestamp: new Date(t).toISOString(),
      src_ip: src,
      dst_ip: dst,
      src_port: srcPort,
      dst_port: port ?? proto[0] ?? 0,
      protocol: 6,
      flow_id: `${src}-${dst}-${srcPort}-${port ?? proto[0] ?? 0}-6`,
      features,
    };
  }

  #auth(
    type: string,
    user: string,
    ip: string,
    place: City,
    device: string,
    agent: string,
    session: string | null,
  ): SimEvent {
    const e: SimEvent = {
      ...this.#base("auth", 0),
      type,
      user_id: user,
      ip,
      country: place.country,
      city: place.city,
      lat: place.lat,
      lon: place.lon,
      device_id: device,
      user_agent: agent,
    };
    if (session !== null) e.session_id = session;
    return e;
  }

  #payment(u: User, device: string): SimEvent {
    const amount = Math.round(Math.exp(3 + this.#r() * 4) * 100) / 100;
    return {
      ...this.#base("transaction", 0),
      user_id: u.id,
      account_id: `a-${u.id}`,
      type: this.#r() < 0.6 ? "payment" : "transfer",
      amount,
      currency: "NOK",
      // Mostly one of the user's regular payees; now and then someone new.
      counterparty: this.#r() < NEW_PAYEE_SHARE
        ? `cp-${Math.floor(this.#r() * 5_000)}`
        : this.#pick(u.payees),
      ip: u.ip,
      device_id: device,
      channel: "web",
      // The bank's answer, as the seed's payment feed carried it (1 in 40 declined); from
      // the event's number, so the random stream, and every other event, stays as it was.
      status: this.#ids % 40 === 0 ? "declined" : "success",
    };
  }

  /** Whether the payment system is down at `t` (`SimOptions.payment_outages`). */
  inOutage(t: number): boolean {
    const o = this.#o.payment_outages;
    if (!o || t < o.first_ms) return false;
    const into = o.every_ms > 0 ? (t - o.first_ms) % o.every_ms : t - o.first_ms;
    return into < o.length_ms;
  }

  /** A transaction at `t` fails if the payment system is down then (three in four). */
  #outage(e: SimEvent, t: number): void {
    if (e.status !== "success" || !this.inOutage(t)) return;
    if (this.#outaged++ % 4 < OUTAGE_FAILED_OF_4) e.status = "failed";
  }

  #base(kind: string, ts: number): SimEvent {
    return {
      kind,
      event_id: `sim${this.#o.seed}-${++this.#ids}`,
      timestamp: new Date(ts).toISOString(),
    };
  }

  #push(ts: number, event: SimEvent): void {
    const t = Math.floor(ts);
    event.timestamp = new Date(t).toISOString();
    this.#heap.push({ at: t, seq: ++this.#seq, event });
  }

  #ip(c: City): string {
    const r = this.#r;
    return `${this.#pick(c.octets)}.${1 + Math.floor(r() * 254)}.${Math.floor(r() * 256)}.${
      1 + Math.floor(r() * 254)
    }`;
  }

  #pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.#r() * xs.length)]!;
  }
}

/**
 * The ground truth of an attack: against `entity` from `attacker_ip`, between two event
 * times, decided by `decisive`, with its events (and the attacker's successful logins).
 */
function truthOf(
  scenario: Truth["scenario"],
  rules: readonly string[],
  entity: Truth["entity"],
  attacker_ip: string,
  start_ms: number,
  end_ms: number,
  decisive: string,
  event_ids: string[],
  risky_logins?: Truth["risky_logins"],
): Truth {
  return {
    scenario,
    rules,
    entity,
    attacker_ip,
    start: new Date(start_ms).toISOString(),
    end: new Date(Math.floor(end_ms)).toISOString(),
    decisive_event_id: decisive,
    event_ids,
    ...(risky_logins ? { risky_logins } : {}),
  };
}

/** Relative chance of being active at a local hour: low at night, peaks by day and evening. */
export function rhythm(hour: number): number {
  if (hour < 6) return 0.08;
  if (hour < 9) return 0.5;
  if (hour < 17) return 0.9;
  if (hour < 22) return 1;
  return 0.3;
}

/**
 * The per-user rules of docs/detections.md besides the failure rules: `auth.impossible_travel`
 * and `auth.new_device_location` on a successful login, `tx.large_amount` and
 * `tx.rapid_transfers` on a transaction. Pure functions over what the user actor keeps.
 *
 * @module
 */

import {
  type AuthRules,
  type TxRules,
  UNITS_PER_EUR,
  type UserChainRules,
} from "../../config/defaults.ts";
import { preview } from "../../events/bounds.ts";
import type { AuthEvent, TransactionEvent } from "../../events/types.ts";
import type { AlertDraft, IncidentHint, SignalLimits } from "../types.ts";
import { campaignIncident } from "./ip_attempts.ts";
import { distanceKm } from "./login_risk.ts";
import { addRecent, EMPTY_RECENT, type Recent } from "../window.ts";

/** Where and when the user last logged in (the user actor's `last_login`). */
export interface LastPlace {
  readonly ts: number;
  readonly ip: string | null;
  readonly country: string | null;
  readonly city: string | null;
  readonly lat: number | null;
  readonly lon: number | null;
  readonly device_id: string | null;
  /** The AS announcing `ip`, when known (from the event or the IP database). */
  readonly asn?: number | null;
  /** The IP database that gave the place (null or absent: the event itself did). */
  readonly located_by?: string | null;
}

const HOUR_MS = 3_600_000;
/** More than half the Earth's circumference (about 20,015 km), km. */
const MAX_KM = 20_050;

/**
 * `auth.impossible_travel`: the last login and this one are more than `min_km` apart and
 * the trip between them needs more than `speed_kmh` (as Okta's and Entra's velocity
 * checks). Null when either place is unknown or the trip was possible.
 */
export function impossibleTravel(
  last: LastPlace | null,
  e: AuthEvent,
  a: Pick<AuthRules, "impossible_travel_speed_kmh" | "impossible_travel_min_km">,
): AlertDraft | null {
  if (!last || last.lat === null || last.lon === null || e.lat === undefined) return null;
  if (e.lon === undefined || (last.lat === e.lat && last.lon === e.lon)) return null;
  const gap = (e.ts - last.ts) / HOUR_MS;
  // No two places on Earth are further apart than half its circumference: past this gap
  // no trip can be too fast (most logins come from home, or long after the last one).
  if (gap > 0 && MAX_KM / gap <= a.impossible_travel_speed_kmh) return null;
  const km = distanceKm(last.lat, last.lon, e.lat, e.lon);
  if (!(km > a.impossible_travel_min_km)) return null;
  const hours = (e.ts - last.ts) / HOUR_MS;
  // Logins at the same instant (or the earlier one arriving later) need infinite speed.
  const speed = hours > 0 ? km / hours : Infinity;
  if (!(speed > a.impossible_travel_speed_kmh)) return null;
  return {
    rule: "auth.impossible_travel",
    // A suspicion about the account (a VPN, a shared password), not yet an attack.
    severity: "medium",
    entity: { type: "user", key: e.user_id },
    ts: e.ts,
    evidence: {
      from: {
        at: iso(last.ts),
        ip: last.ip,
        country: last.country,
        city: last.city,
        located_by: last.located_by ?? null,
      },
      to: {
        at: iso(e.ts),
        ip: e.ip ?? null,
        country: e.country ?? null,
        city: e.city ?? null,
        located_by: e.located_by ?? null,
      },
      distance_km: Math.round(km),
      hours: round(hours, 3),
      speed_kmh: Number.isFinite(speed) ? Math.round(speed) : null,
      max_speed_kmh: a.impossible_travel_speed_kmh,
      min_distance_km: a.impossible_travel_min_km,
    },
    event_ids: [e.event_id],
    dedup: e.event_id,
  };
}

/**
 * What a user has used: devices, countries and networks of earlier logins, and the last
 * login's (kept apart, so nothing is copied per login to ask).
 */
export interface Known {
  readonly logins: number;
  readonly devices: readonly string[];
  readonly countries: readonly string[];
  /** Networks (`networkOf`) of earlier logins besides the last one's. */
  readonly networks: readonly number[];
  readonly last_device?: string | null;
  readonly last_country?: string | null;
  /** The last login's IP (its network is worked out when asked). */
  readonly last_ip?: string | null;
}

/**
 * The network an IP address belongs to, as a small integer: the /24 of an IPv4 address,
 * the /64 of an IPv6 one (its first four groups as written), hashed (FNV-1a, 30 bits, so
 * it is kept without a heap number). A user's home, office or phone carrier keeps its
 * network while single addresses change.
 *
 * @example
 * ```ts
 * import { networkOf } from "./user_rules.ts";
 * networkOf("10.1.2.3") === networkOf("10.1.2.200"); // true
 * ```
 */
export function networkOf(ip: string): number {
  let end = ip.length;
  if (ip.includes(":")) {
    let groups = 0;
    for (let i = 0; i < ip.length; i++) {
      if (ip.charCodeAt(i) === 58 && ++groups === 4) {
        end = i;
        break;
      }
    }
  } else {
    const dot = ip.lastIndexOf(".");
    if (dot > 0) end = dot;
  }
  let h = 0x811c9dc5;
  for (let i = 0; i < end; i++) h = Math.imul(h ^ ip.charCodeAt(i), 0x01000193);
  return h & 0x3fffffff;
}

/** Whether the login comes from a network the user has logged in from (false: no IP). */
export function familiarNetwork(known: Known, ip: string | undefined): boolean {
  if (ip === undefined) return false;
  const net = networkOf(ip);
  return (known.last_ip ? networkOf(known.last_ip) === net : false) ||
    known.networks.includes(net);
}

function used(list: readonly string[], last: string | null | undefined, v: string): boolean {
  return v === last || list.includes(v);
}

/** The list with the last one's value at its end, for evidence. */
function withLast(list: readonly string[], last: string | null | undefined): string[] {
  return last === null || last === undefined ? [...list] : [...list, last];
}

/**
 * `auth.new_device_location`: a login from a device the user has not used, from a network
 * it has not used either (among the last login's and the 3 distinct ones before it), once
 * the user has at least `new_device_min_logins` logins. Several unfamiliar properties
 * together, as Entra's "unfamiliar sign-in properties": a user's new phone at home, or
 * their own laptop abroad or behind a VPN, is not alerted; a new country as well makes it
 * `medium`. (A known device far away too soon is `auth.impossible_travel`.)
 */
export function newDeviceLocation(
  known: Known,
  e: AuthEvent,
  a: Pick<AuthRules, "new_device_min_logins">,
): AlertDraft | null {
  if (known.logins < a.new_device_min_logins) return null;
  if (e.device_id === undefined || used(known.devices, known.last_device, e.device_id)) {
    return null;
  }
  if (familiarNetwork(known, e.ip)) return null;
  const country = e.country !== undefined &&
    !used(known.countries, known.last_country, e.country);
  return {
    rule: "auth.new_device_location",
    severity: country ? "medium" : "low",
    entity: { type: "user", key: e.user_id },
    ts: e.ts,
    evidence: {
      new_device: true,
      new_network: true,
      new_country: country,
      device_id: e.device_id,
      country: e.country ?? null,
      ip: e.ip ?? null,
      asn: e.asn ?? null,
      located_by: e.located_by ?? null,
      known_devices: withLast(known.devices, known.last_device),
      known_countries: withLast(known.countries, known.last_country),
      baseline_logins: known.logins,
      min_logins: a.new_device_min_logins,
    },
    event_ids: [e.event_id],
    dedup: e.event_id,
  };
}

/**
 * A user's outgoing amounts: their count, and an exponentially weighted mean and variance
 * of the amounts and of their logarithms.
 */
export interface AmountStats {
  readonly n: number;
  readonly mean: number;
  readonly variance: number;
  readonly log_mean: number;
  readonly log_variance: number;
}

/** Outgoing money: what `tx.large_amount` looks at (a deposit is not). */
export function isOutgoing(e: TransactionEvent): boolean {
  return e.type !== "deposit";
}

/**
 * `tx.large_amount`: an amount above the cap (in euros, `inEuros`), or, once the user has `large_amount_min_history`
 * outgoing amounts, above their mean + `large_amount_sigma` standard deviations. `stats`
 * are the user's before this transaction.
 *
 * Amounts are far from normal (a user pays 30 for lunch and 900 for rent): with only ten
 * or so of them, mean + 3σ is often below the user's own ordinary large payments. So the
 * amount must also be unusual as a ratio: above the geometric mean times e to the same
 * number of standard deviations of the log amounts. An amount far above a steady history
 * is above both. And σ estimated from a few amounts is itself uncertain: the number of
 * them is raised to give the false-alarm rate `large_amount_sigma` has with a known σ
 * (`sampleSigmas`).
 */
export function largeAmount(
  stats: AmountStats | null,
  e: TransactionEvent,
  t: Pick<
    TxRules,
    "large_amount_sigma" | "large_amount_min_history" | "large_amount_cap" | "large_amount_history"
  >,
): AlertDraft | null {
  const eur = inEuros(e.amount, e.currency);
  const over_cap = eur > t.large_amount_cap;
  const std = stats ? Math.sqrt(stats.variance) : 0;
  const k = stats
    ? sampleSigmas(t.large_amount_sigma, Math.min(stats.n, t.large_amount_history))
    : 0;
  const limit = stats
    ? Math.max(
      stats.mean + k * std,
      Math.exp(stats.log_mean + k * Math.sqrt(stats.log_variance)),
    )
    : Infinity;
  const unusual = stats !== null && stats.n >= t.large_amount_min_history && e.amount > limit;
  if (!over_cap && !unusual) return null;
  return {
    rule: "tx.large_amount",
    // Context for an analyst: an amount is not an attack by itself.
    severity: over_cap ? "medium" : "low",
    entity: { type: "user", key: e.user_id },
    ts: e.ts,
    evidence: {
      amount: e.amount,
      currency: e.currency,
      type: e.type,
      counterparty: e.counterparty ?? null,
      over_cap,
      amount_eur: round(eur, 2),
      cap: t.large_amount_cap,
      cap_currency: "EUR",
      unusual_for_user: unusual,
      user_mean: stats ? round(stats.mean, 2) : null,
      user_std: stats ? round(std, 2) : null,
      user_limit: Number.isFinite(limit) ? round(limit, 2) : null,
      sigma: t.large_amount_sigma,
      sigma_for_history: round(k, 3),
      history: stats?.n ?? 0,
    },
    event_ids: [e.event_id],
    dedup: e.event_id,
  };
}

/**
 * An amount in euros (`UNITS_PER_EUR`); in a currency not listed, the amount itself.
 *
 * @example
 * ```ts
 * import { inEuros } from "./user_rules.ts";
 * inEuros(11_600, "NOK"); // 1000
 * ```
 */
export function inEuros(amount: number, currency: string): number {
  const rate = Object.hasOwn(UNITS_PER_EUR, currency) ? UNITS_PER_EUR[currency]! : 1;
  return amount / rate;
}

/**
 * The standard deviations from a mean, estimated with its σ from `n` samples, that a new
 * sample exceeds as rarely as one of a normal distribution exceeds `z` known σ: Student's
 * t quantile with n − 1 degrees of freedom (its Cornish–Fisher expansion, close from
 * n = 10 up), times √(1 + 1/n) for the mean's own error: about 4.2 for z = 3 and n = 10, 3.2
 * for n = 50; z itself for large n.
 *
 * @example
 * ```ts
 * import { sampleSigmas } from "./user_rules.ts";
 * sampleSigmas(3, 10); // ≈ 4.24
 * ```
 */
export function sampleSigmas(z: number, n: number): number {
  if (n < 2) return Infinity;
  const v = n - 1;
  const t = z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v * v);
  return t * Math.sqrt(1 + 1 / n);
}

/** The smallest amount taken for its logarithm (a zero amount has none). */
const MIN_AMOUNT = 0.01;

/**
 * The stats after an outgoing amount: an exponential average over about `history` amounts
 * (weight 2 / (history + 1), as an N-sample moving average), exact for the first ones.
 */
export function addAmount(
  stats: AmountStats | null,
  amount: number,
  t: Pick<TxRules, "large_amount_history">,
): AmountStats {
  const log = Math.log(Math.max(amount, MIN_AMOUNT));
  if (stats === null) return { n: 1, mean: amount, variance: 0, log_mean: log, log_variance: 0 };
  const n = stats.n + 1;
  const w = Math.max(1 / n, 2 / (t.large_amount_history + 1));
  const diff = amount - stats.mean;
  const logDiff = log - stats.log_mean;
  return {
    n: Math.min(n, 1_000_000),
    mean: stats.mean + w * diff,
    variance: (1 - w) * (stats.variance + w * diff * diff),
    log_mean: stats.log_mean + w * logDiff,
    log_variance: (1 - w) * (stats.log_variance + w * logDiff * logDiff),
  };
}

/**
 * `tx.rapid_transfers`: the user's recent transfers with this one, and the alert when more
 * than `rapid_transfers_max` fall within the window.
 */
export function rapidTransfers(
  recent: Recent,
  e: TransactionEvent,
  t: Pick<TxRules, "rapid_transfers_max" | "rapid_transfers_window_ms">,
): { recent: Recent; alert: AlertDraft | null } {
  const next = addRecent(
    recent,
    e.ts,
    e.event_id,
    e.counterparty ?? "",
    t.rapid_transfers_window_ms,
    t.rapid_transfers_max + 1,
  );
  if (next.ts.length <= t.rapid_transfers_max) return { recent: next, alert: null };
  return {
    recent: next,
    alert: {
      rule: "tx.rapid_transfers",
      severity: "medium",
      entity: { type: "user", key: e.user_id },
      ts: e.ts,
      evidence: {
        transfers: next.ts.length,
        max: t.rapid_transfers_max,
        window_s: t.rapid_transfers_window_ms / 1000,
        first: iso(next.ts[0]!),
        last: iso(next.ts[next.ts.length - 1]!),
        counterparties: [...new Set(next.tags.filter((c) => c !== ""))],
      },
      event_ids: [...next.ids],
      dedup: next.ids[0]!,
    },
  };
}

/** No transfers yet. */
export const NO_TRANSFERS: Recent = EMPTY_RECENT;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

/** A login that may be an intruder's: what made it suspicious. */
export interface SuspiciousLogin {
  readonly ts: number;
  readonly event_id: string;
  readonly ip: string | null;
  readonly why: readonly ("new_device" | "new_country" | "after_failures")[];
}

/**
 * Whether a successful login starts a `user.account_takeover` chain: a device the user has
 * not used from a network it has not used, or a country it has not used (no baseline of
 * logins needed, but some history), or a success after failures (as many as `auth.success_after_failures` needs, from any IP, in its
 * window). Null when none of these holds.
 */
export function suspiciousLogin(
  known: Known,
  failures_before: number,
  e: AuthEvent,
  a: Pick<AuthRules, "success_after_failures_min">,
): SuspiciousLogin | null {
  const history = known.logins > 0;
  const device = history && e.device_id !== undefined &&
    !used(known.devices, known.last_device, e.device_id) && !familiarNetwork(known, e.ip);
  const country = history && e.country !== undefined &&
    !used(known.countries, known.last_country, e.country);
  const failures = failures_before >= a.success_after_failures_min;
  if (!device && !country && !failures) return null; // most logins: nothing allocated
  const why: SuspiciousLogin["why"][number][] = [];
  if (device) why.push("new_device");
  if (country) why.push("new_country");
  if (failures) why.push("after_failures");
  return { ts: e.ts, event_id: e.event_id, ip: e.ip ?? null, why };
}

/**
 * A transfer that may end a `user.account_takeover` chain: of at least the floor, to a
 * payee the user has not paid (among the ones remembered; known when it arrives, as the
 * user's payments come in order). Null otherwise. It is judged once the watermark passes
 * it (`accountTakeover`), when every login before it has come, whatever topic ran ahead.
 */
export function takeoverCandidate(
  payees: readonly string[],
  e: TransactionEvent,
  u: Pick<UserChainRules, "account_takeover_min_amount">,
): PendingTransfer | null {
  if (e.type !== "transfer" || e.counterparty === undefined) return null;
  if (payees.includes(e.counterparty) || e.amount < u.account_takeover_min_amount) return null;
  const { ts, event_id, amount, currency, counterparty } = e;
  return { ts, event_id, amount, currency, counterparty, user_id: e.user_id };
}

/** A transfer to a new payee waiting to be judged (`takeoverCandidate`). */
export interface PendingTransfer {
  readonly ts: number;
  readonly event_id: string;
  readonly user_id: string;
  readonly amount: number;
  readonly currency: string;
  readonly counterparty: string;
}

/**
 * `user.account_takeover`: a transfer to a new payee (`takeoverCandidate`) within the
 * window after a suspicious login: the latest one at or before it among `suspects`
 * (oldest first).
 */
export function accountTakeover(
  suspects: readonly SuspiciousLogin[],
  t: PendingTransfer,
  u: Pick<UserChainRules, "account_takeover_window_ms" | "account_takeover_min_amount">,
): AlertDraft | null {
  let login: SuspiciousLogin | undefined;
  for (let i = suspects.length - 1; i >= 0 && login === undefined; i--) {
    if (suspects[i]!.ts <= t.ts) login = suspects[i];
  }
  if (!login || t.ts - login.ts > u.account_takeover_window_ms) return null;
  const after = t.ts - login.ts;
  return {
    rule: "user.account_takeover",
    severity: "critical",
    entity: { type: "user", key: t.user_id },
    ts: t.ts,
    evidence: {
      login: { event_id: login.event_id, at: iso(login.ts), ip: login.ip, why: login.why },
      transfer: { amount: t.amount, currency: t.currency, counterparty: t.counterparty },
      new_payee: true,
      minutes_after_login: round(after / 60_000, 1),
      window_min: u.account_takeover_window_ms / 60_000,
      min_amount: u.account_takeover_min_amount,
    },
    event_ids: [login.event_id, t.event_id],
    dedup: `${login.event_id}>${t.event_id}`,
  };
}

/**
 * An attack the user was a target of: the alert's rule, the attacking IP, the alert's
 * episode (which names it whatever the order events arrive in), and when the user was
 * first tried in it.
 */
export interface Attack {
  readonly rule: string;
  readonly ip: string | null;
  /** The AS announcing the attacking IP, when known (null or absent: not known). */
  readonly asn?: number | null;
  readonly episode: string;
  readonly ts: number;
}

/** An attack as the user remembers it (`markAttack`). */
export type AttackMark = Attack;

/** What an IP actor tells a user it targeted (through the signals path). */
export interface Targeted extends Attack {
  readonly kind: "targeted";
}

/** The rules of an IP whose targets are told (`Targeted.rule`). */
const CAMPAIGN_RULES: ReadonlySet<string> = new Set([
  "ip.password_spray",
  "ip.credential_stuffing",
]);

/**
 * A `targeted` message read from the signals topic, rebuilt from its checked fields, or why
 * it is not one: a campaign rule, an IP and an episode no longer than a key, an event time
 * within the events' bounds.
 *
 * @example
 * ```ts
 * import { targetedOf } from "./user_rules.ts";
 * import { defaults } from "../../config/defaults.ts";
 * targetedOf({ kind: "targeted", rule: "ip.password_spray", ip: "203.0.113.9", episode: "1", ts: 0 },
 *   defaults.input); // { message: { kind: "targeted", ... } }
 * ```
 */
export function targetedOf(
  m: unknown,
  limits: SignalLimits,
): { message: Targeted } | { reason: string } {
  const o = (typeof m === "object" && m !== null ? m : {}) as Record<string, unknown>;
  const { kind, rule, ip, episode, ts, asn } = o;
  const max = limits.max_key_chars;
  const key = (v: unknown): v is string => typeof v === "string" && v !== "" && v.length <= max;
  const wrong = (what: string, got: unknown) => ({
    reason: `Cannot use a signal for a user: ${what}, got ${preview(got)}`,
  });
  if (kind !== "targeted") return wrong('its message must be of kind "targeted"', kind);
  if (typeof rule !== "string" || !CAMPAIGN_RULES.has(rule)) {
    return wrong(`its rule must be one of ${[...CAMPAIGN_RULES].join(", ")}`, rule);
  }
  if (ip !== null && !key(ip)) return wrong(`its ip must be null or 1 to ${max} characters`, ip);
  if (!key(episode)) return wrong(`its episode must be 1 to ${max} characters`, episode);
  if (typeof ts !== "number" || !(ts >= limits.min_timestamp_ms && ts <= limits.max_timestamp_ms)) {
    return wrong("its ts must be an event time (epoch ms)", ts);
  }
  if (asn !== undefined && asn !== null && !isAsn(asn)) {
    return wrong("its asn must be null or a whole number 0..4294967295", asn);
  }
  const message: Targeted = { kind: "targeted", rule, ip, episode, ts };
  return { message: isAsn(asn) ? { ...message, asn } : message };
}

function isAsn(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}

/** No attack. */
export const NO_ATTACKS: readonly AttackMark[] = Object.freeze([]);

/** The same attack (told twice, or by two paths). */
export function sameAttack(a: Attack, b: Attack): boolean {
  return a.episode === b.episode && a.rule === b.rule && a.ip === b.ip;
}

/**
 * The marks after word of an attack: a new one is added (the latest `max` by time kept:
 * enough that which go does not hang on the order words and logins arrive in); one known
 * keeps the earliest time the user was tried. Nothing new: the same list.
 */
export function markAttack(
  marks: readonly AttackMark[],
  attack: Attack,
  max: number,
): readonly AttackMark[] {
  const known = marks.find((m) => sameAttack(m, attack));
  if (known) {
    if (attack.ts >= known.ts) return marks;
    return marks.map((m) => m === known ? { ...m, ts: attack.ts } : m);
  }
  const next = [...marks, {
    rule: attack.rule,
    ip: attack.ip,
    asn: attack.asn ?? null,
    episode: attack.episode,
    ts: attack.ts,
  }];
  next.sort((a, b) => a.ts - b.ts || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  return next.length > max ? next.slice(next.length - max) : next;
}

/** What was new to the user about a login, judged against what it knew before it. */
export type Novelty = "new_device" | "new_network" | "new_country";

/** No novelty (most logins). */
export const NOTHING_NEW: readonly Novelty[] = Object.freeze([]);

/**
 * What is new about a login: a device, a network (`networkOf`) or a country the user has
 * not logged in from (among those remembered). Before a baseline of `min_logins` logins
 * (`auth.new_device_location`'s) a user's second device or their office is not news:
 * nothing is new.
 */
export function noveltyOf(
  known: Known,
  e: AuthEvent,
  min_logins: number,
  familiar: boolean = familiarNetwork(known, e.ip),
): readonly Novelty[] {
  if (known.logins === 0 || known.logins < min_logins) return NOTHING_NEW;
  const device = e.device_id !== undefined && !used(known.devices, known.last_device, e.device_id);
  const network = e.ip !== undefined && !familiar;
  const country = e.country !== undefined &&
    !used(known.countries, known.last_country, e.country);
  if (!device && !network && !country) return NOTHING_NEW;
  const out: Novelty[] = [];
  if (device) out.push("new_device");
  if (network) out.push("new_network");
  if (country) out.push("new_country");
  return out;
}

/** A successful login as `user.compromise_after_attack` judges it. */
export interface JudgedLogin extends LastPlace {
  readonly event_id: string;
  /** What was new to the user about it (`noveltyOf`). */
  readonly novel?: readonly Novelty[];
  /** Its login risk, once scored at or above the lowest level (null: not known). */
  readonly risk?: number | null;
  /** Whether it came from a network the user had logged in from before (its own office). */
  readonly known_network?: boolean;
}

/** Why a login after an attack is suspicious. */
export type CompromiseReason =
  | "attack_address"
  | "attack_network"
  | "attack_asn"
  | Novelty
  | "login_risk";

/**
 * `user.compromise_after_attack` (Elastic's higher-order rule, with the unfamiliar sign-in
 * properties of Okta and Entra): a successful login within the window after the user was
 * the target of a spray, stuffing or brute-force alert (grouped by user, so IP rotation
 * does not hide it) that is itself suspicious: from the attack's address or its network
 * (/24; `critical`), from another network of the attack's AS (`high`), from a network or country new to the user (or a new device not on the user's
 * own network: a new phone at home is not news), or, off the user's own network, with a
 * login risk at or above `risky_login_medium` (`medium`). An owner's login from a known
 * device and network after an attack is no alert, whatever its score.
 *
 * `marks` are the attacks the user remembers (oldest first); the login is judged against
 * those whose window it falls in. One alert per login (its id names the login), however
 * many attacks named the user. The login risk counts only when nothing else makes the
 * login suspicious. Whether a login is alerted hangs only on the login and the attacks'
 * times, never on the order the login, the attack's word and the login's score arrive in
 * (the caller judges each login again as each comes): replay and a live run agree.
 */
export function compromiseAfterAttack(
  marks: readonly AttackMark[],
  login: JudgedLogin,
  user: string,
  u: Pick<UserChainRules, "compromise_window_ms">,
  medium_risk: number,
): AlertDraft | null {
  const covered = coveredBy(marks, login, u);
  if (covered.length === 0) return null;
  const why: CompromiseReason[] = [];
  const net = login.ip !== null ? networkOf(login.ip) : null;
  const asn = login.asn ?? null;
  // The attack's address is news only when it is not the user's own network: staff behind
  // their office's address retrying a stale password after it expired are not intruders.
  if (login.known_network === true) {
    // Neither reason: the address is the user's own.
  } else if (covered.some((m) => m.ip !== null && m.ip === login.ip)) why.push("attack_address");
  else if (covered.some((m) => m.ip !== null && net !== null && networkOf(m.ip) === net)) {
    why.push("attack_network");
  } else if (asn !== null && covered.some((m) => (m.asn ?? null) === asn)) {
    // Another network of the AS the attack came from (its hosting provider, its ISP).
    why.push("attack_asn");
  }
  for (const n of login.novel ?? NOTHING_NEW) {
    // A new device on the user's own network is their new phone at home, not news.
    if (n !== "new_device" || login.known_network !== true) why.push(n);
  }
  const risk = login.risk ?? null;
  // The score counts only off the user's own network: the owner's way back home after an
  // intruder's login scores high (judged from the intruder's place, after the attack's
  // failures), and an owner's login from a known network is no alert.
  if (why.length === 0 && risk !== null && risk >= medium_risk && login.known_network !== true) {
    why.push("login_risk");
  }
  if (why.length === 0) return null;
  const first = covered[0]!;
  const after = login.ts - first.ts;
  // The attack's own address (or its network) got in: a confirmed compromise.
  const confirmed = why[0] === "attack_address" || why[0] === "attack_network";
  const incident = attackIncident(first);
  return {
    rule: "user.compromise_after_attack",
    // Confirmed: critical; something new or the attack's AS: high; the model's score alone
    // (the owner's way back after an intruder's login often scores so): a suspicion, medium.
    severity: confirmed
      ? "critical"
      : why.length === 1 && why[0] === "login_risk"
      ? "medium"
      : "high",
    entity: { type: "user", key: user },
    ts: login.ts,
    evidence: {
      attack: { rule: first.rule, ip: first.ip, at: iso(first.ts) },
      attacks: covered.map((m) => ({ rule: m.rule, ip: m.ip, asn: m.asn ?? null, at: iso(m.ts) })),
      login: {
        event_id: login.event_id,
        at: iso(login.ts),
        ip: login.ip,
        country: login.country,
        device_id: login.device_id,
        asn,
        located_by: login.located_by ?? null,
      },
      why,
      same_ip: why[0] === "attack_address",
      login_risk: why.includes("login_risk") ? round(risk!, 4) : null,
      minutes_after_attack: round(after / 60_000, 1),
      window_min: u.compromise_window_ms / 60_000,
    },
    event_ids: [login.event_id],
    dedup: login.event_id,
    ...(incident ? { incident } : {}),
  };
}

/** The attacks whose window a login falls in (oldest first). */
export function coveredBy(
  marks: readonly AttackMark[],
  login: { readonly ts: number },
  u: Pick<UserChainRules, "compromise_window_ms">,
): readonly AttackMark[] {
  return marks.filter((m) => login.ts >= m.ts && login.ts - m.ts <= u.compromise_window_ms);
}

/**
 * The incident an attack on a user belongs to: an address's campaign (the one the
 * campaign's own alert names); none for the user's own brute force, whose alerts join the
 * user's incident of the hour with the rest of the user's chain (`actors/incident.ts`).
 */
export function attackIncident(a: Attack): IncidentHint | undefined {
  if (a.ip !== null && CAMPAIGN_RULES.has(a.rule)) return campaignIncident(a.ip, a.rule, a.episode);
  return undefined;
}

/**
 * Suppressions (issue 15, item 2): an analyst's "known, stop telling me" for a rule, an
 * entity (a user, an address, a page, a service) or a network (CIDR), with a reason, an
 * author and an expiry. A suppressed alert is still raised, stored and counted, with
 * `mode: "suppressed"` and the suppression's id, but notifies no one.
 *
 * Whether an alert is suppressed is judged in event time (the alert's own time against the
 * suppression's `starts_at` and `expires_at`), so a replay given the same suppressions
 * (`deno task replay --suppressions FILE`) suppresses the same alerts. Ending one early
 * (DELETE) sets its expiry to the time it was ended, so what it covered before stays so.
 *
 * @module
 */

import type { AlertLimits } from "../config/defaults.ts";
import { type Address, parseAddress } from "../geo/address.ts";

/** One suppression. */
export interface Suppression {
  id: string;
  /** The rule it covers (null: every rule). */
  rule: string | null;
  /** The entity it covers (both or neither). */
  entity_type: string | null;
  entity_key: string | null;
  /** The network it covers: alerts whose entity is an address in it. */
  cidr: string | null;
  reason: string;
  author: string;
  /** Event time it applies from, and until (exclusive). */
  starts_at: string;
  expires_at: string;
  created_at: string;
  /** The incident it was made from, if any. */
  incident_id: string | null;
}

/** The bounds of suppressions. */
export type SuppressionLimits = Pick<
  AlertLimits,
  "max_suppressions" | "max_suppression_ms" | "max_reason_chars"
>;

/** A request that cannot make a suppression; the message says why (the API's 400). */
export class SuppressionError extends Error {}

const FIELDS = new Set([
  "rule",
  "entity_type",
  "entity_key",
  "cidr",
  "reason",
  "starts_at",
  "expires_at",
  "duration_s",
]);

/** A network as an address family, its first address and its prefix length. */
interface Network {
  address: Address;
  bits: number;
}

function networkOf(cidr: string): Network | null {
  const slash = cidr.indexOf("/");
  if (slash < 0) return null;
  const address = parseAddress(cidr.slice(0, slash));
  const bits = Number(cidr.slice(slash + 1));
  if (!address || !/^\d{1,3}$/.test(cidr.slice(slash + 1))) return null;
  if (bits > (address.family === 4 ? 32 : 128)) return null;
  return { address, bits };
}

/** Whether the first `bits` bits of two words lists agree. */
function samePrefix(a: readonly number[], b: readonly number[], bits: number): boolean {
  for (let w = 0; bits > 0; w++, bits -= 32) {
    const n = Math.min(32, bits);
    const mask = n === 32 ? 0xffffffff : ((0xffffffff << (32 - n)) >>> 0);
    if (((a[w]! & mask) >>> 0) !== ((b[w]! & mask) >>> 0)) return false;
  }
  return true;
}

function inNetwork(key: string, net: Network): boolean {
  const a = parseAddress(key);
  if (!a || a.family !== net.address.family) return false;
  const words = (x: Address) => x.family === 4 ? [x.v4] : [...x.v6];
  return samePrefix(words(a), words(net.address), net.bits);
}

/** What an alert is, for matching: its rule, entity and event time (ms). */
export interface Suppressible {
  rule: string;
  entity: { type: string; key: string };
  ts: number;
}

/** Whether a suppression covers an alert (its network read once, by the caller). */
function covers(s: Suppression, net: Network | null, a: Suppressible): boolean {
  if (s.rule !== null && s.rule !== a.rule) return false;
  if (s.entity_type !== null && s.entity_type !== a.entity.type) return false;
  if (s.entity_key !== null && s.entity_key !== a.entity.key) return false;
  if (net !== null && !inNetwork(a.entity.key, net)) return false;
  return a.ts >= Date.parse(s.starts_at) && a.ts < Date.parse(s.expires_at);
}

/**
 * Reads a POST body into a suppression (`id`, `author` and `created_at` given by the
 * caller), or throws a SuppressionError naming what is wrong. It must name something:
 * a rule, an entity or a network; and it must end (`expires_at`, or `duration_s`).
 */
export function suppressionOf(
  body: unknown,
  given: { id: string; author: string; now_ms: number; incident_id?: string },
  limits: SuppressionLimits,
): Suppression {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new SuppressionError(
      'Cannot use the body: send an object with "reason", "duration_s" or "expires_at", ' +
        'and "rule", "entity_type" with "entity_key", or "cidr"',
    );
  }
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0) throw new SuppressionError(`Cannot use field(s) ${unknown.join(", ")}`);
  const text = (name: string): string | null => {
    const v = b[name];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string" || v.trim() === "" || v.length > 256) {
      throw new SuppressionError(`${name} must be a non-empty text of at most 256 characters`);
    }
    return v;
  };
  const rule = text("rule");
  const entity_type = text("entity_type");
  const entity_key = text("entity_key");
  const cidr = text("cidr");
  if ((entity_type === null) !== (entity_key === null)) {
    throw new SuppressionError("entity_type and entity_key go together");
  }
  if (cidr !== null && networkOf(cidr) === null) {
    throw new SuppressionError(`cidr "${cidr}" is not a network (e.g. 203.0.113.0/24)`);
  }
  if (rule === null && entity_key === null && cidr === null) {
    throw new SuppressionError("A suppression must name a rule, an entity or a network (cidr)");
  }
  const reason = b.reason;
  if (typeof reason !== "string" || reason.trim() === "") {
    throw new SuppressionError("reason must say why (some text)");
  }
  if (reason.length > limits.max_reason_chars) {
    throw new SuppressionError(`reason is longer than ${limits.max_reason_chars} characters`);
  }
  const time = (name: string): number | null => {
    const v = b[name];
    if (v === undefined || v === null) return null;
    const ms = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
    if (!Number.isFinite(ms)) throw new SuppressionError(`${name} must be a time (ISO-8601 or ms)`);
    return ms;
  };
  const starts = time("starts_at") ?? given.now_ms;
  let expires = time("expires_at");
  if (b.duration_s !== undefined) {
    const d = b.duration_s;
    if (typeof d !== "number" || !Number.isFinite(d) || d <= 0) {
      throw new SuppressionError("duration_s must be a positive number of seconds");
    }
    if (expires !== null) throw new SuppressionError("Send expires_at or duration_s, not both");
    expires = starts + d * 1000;
  }
  if (expires === null) {
    throw new SuppressionError("A suppression must end: send expires_at or duration_s");
  }
  if (expires <= starts) throw new SuppressionError("expires_at must be after starts_at");
  if (expires - starts > limits.max_suppression_ms) {
    throw new SuppressionError(
      `A suppression lasts at most ${limits.max_suppression_ms / 3_600_000} h`,
    );
  }
  return {
    id: given.id,
    rule,
    entity_type,
    entity_key,
    cidr,
    reason,
    author: given.author,
    starts_at: new Date(starts).toISOString(),
    expires_at: new Date(expires).toISOString(),
    created_at: new Date(given.now_ms).toISOString(),
    incident_id: given.incident_id ?? null,
  };
}

/** The suppressions a process judges alerts with (bounded; the newest kept). */
export class Suppressions {
  #list: { s: Suppression; net: Network | null }[] = [];
  #max: number;

  constructor(max: number, initial: readonly Suppression[] = []) {
    this.#max = max;
    this.replace(initial);
  }

  /** Puts these in place of what was held (e.g. the store's, re-read). */
  replace(list: readonly Suppression[]): void {
    const key = (s: Suppression) => `${s.created_at}\u0000${s.id}`;
    const sorted = [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    this.#list = sorted.slice(-this.#max).map((s) => ({
      s,
      net: s.cidr === null ? null : networkOf(s.cidr),
    }));
  }

  /** Adds or replaces one (by id). */
  put(s: Suppression): void {
    this.replace([...this.#list.map((x) => x.s).filter((x) => x.id !== s.id), s]);
  }

  get list(): Suppression[] {
    return this.#list.map((x) => x.s);
  }

  /** The id of the first suppression covering the alert (the oldest), or null. */
  match(a: Suppressible): string | null {
    for (const { s, net } of this.#list) if (covers(s, net, a)) return s.id;
    return null;
  }
}

/**
 * Turns raw input (a Kafka value, a line of a file, an HTTP body item) into a
 * validated event, or into a reason a person can read. Never throws.
 *
 * @module
 */

import { hash64 } from "../actors/hash.ts";
import { checkedFlowFeatures, type FlowRow } from "./flow_features.ts";
import type { AuthEvent, EventKind, OtherEvent, TransactionEvent, VigilEvent } from "./types.ts";

/** The outcome of validating one input. */
export type Parsed = { ok: true; event: VigilEvent } | { ok: false; reason: string };

/** The kinds, and the topic each is read from by default. */
export const TOPIC_OF_KIND: Readonly<Record<EventKind, string>> = Object.freeze({
  auth: "auth-events",
  transaction: "transactions",
  flow: "network-flows",
  click: "clickstream",
  log: "service-logs",
  metric: "service-metrics",
});

const KINDS = new Set<string>(Object.keys(TOPIC_OF_KIND));
const AUTH_TYPES = new Set(["login_success", "login_failure", "logout"]);
const TX_TYPES = new Set(["transfer", "payment", "withdrawal", "deposit"]);
const LEVELS = new Set(["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);

/** Options for {@linkcode parseEvent}. */
export interface ParseOptions {
  /** The kind implied by the source (a Kafka topic); a `kind` field, if present, must agree. */
  kind?: EventKind | undefined;
  /** Event time to use when the event has no `timestamp` (e.g. the Kafka record's). */
  fallback_ts?: number | undefined;
}

class Invalid extends Error {}

/**
 * Parses and validates one event from its JSON text.
 *
 * @example
 * ```ts
 * import { parseEvent } from "./validate.ts";
 * parseEvent('{"kind":"auth","type":"logout","user_id":"u1","timestamp":0}');
 * // { ok: true, event: { kind: "auth", type: "logout", user_id: "u1", ... } }
 * ```
 */
export function parseEvent(text: string, options: ParseOptions = {}): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `Cannot parse event: not valid JSON (${(err as Error).message})` };
  }
  return validateEvent(value, text, options);
}

/**
 * Validates an already parsed value. `text` is its JSON text, used to derive a stable
 * `event_id` when the event has none.
 */
export function validateEvent(value: unknown, text: string, options: ParseOptions = {}): Parsed {
  try {
    return { ok: true, event: toEvent(value, text, options) };
  } catch (err) {
    if (err instanceof Invalid) return { ok: false, reason: err.message };
    throw err;
  }
}

function toEvent(value: unknown, text: string, options: ParseOptions): VigilEvent {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Invalid("Cannot accept event: it must be a JSON object");
  }
  const o = value as Record<string, unknown>;
  const kind = eventKind(o, options.kind);
  const ts = eventTime(o, options.fallback_ts);
  const id = o.event_id;
  let event_id: string;
  if (id === undefined || id === null) event_id = "e-" + hash64(text);
  else if (typeof id === "string" && id.length > 0) event_id = id;
  else if (typeof id === "number") event_id = String(id);
  else throw invalid("event_id", "must be a non-empty string", id);
  switch (kind) {
    case "auth":
      return authEvent(o, event_id, ts);
    case "transaction":
      return transactionEvent(o, event_id, ts);
    case "flow":
      return { kind, event_id, ts, raw: o, row: checkFlow(o) } satisfies OtherEvent;
    default:
      checkOther(kind, o);
      return { kind, event_id, ts, raw: o } satisfies OtherEvent;
  }
}

function eventKind(o: Record<string, unknown>, implied: EventKind | undefined): EventKind {
  const k = o.kind;
  if (k === undefined) {
    if (implied) return implied;
    throw new Invalid('Cannot accept event: field "kind" is missing');
  }
  if (typeof k !== "string" || !KINDS.has(k)) {
    throw invalid("kind", `must be one of ${[...KINDS].join(", ")}`, k);
  }
  if (implied && k !== implied) {
    throw new Invalid(`Cannot accept event: kind "${k}" arrived on the ${implied} topic`);
  }
  return k as EventKind;
}

function eventTime(o: Record<string, unknown>, fallback: number | undefined): number {
  const t = o.timestamp;
  if (t === undefined || t === null) {
    if (fallback !== undefined) return fallback;
    throw new Invalid('Cannot accept event: field "timestamp" is missing');
  }
  const ms = typeof t === "number" ? t : typeof t === "string" ? parseIso(t) : NaN;
  if (!Number.isFinite(ms)) {
    throw invalid("timestamp", "must be an ISO-8601 string or epoch milliseconds", t);
  }
  return ms;
}

const DIGIT_AT = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22];
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The shape `Date#toISOString` writes, `YYYY-MM-DDTHH:MM:SS.sssZ`, without a regex; NaN otherwise. */
function parseCanonical(t: string): number {
  for (const i of DIGIT_AT) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return NaN;
  }
  if (
    t[4] !== "-" || t[7] !== "-" || t[10] !== "T" || t[13] !== ":" || t[16] !== ":" ||
    t[19] !== "."
  ) return NaN;
  const n = (i: number) => (t.charCodeAt(i) - 48) * 10 + t.charCodeAt(i + 1) - 48;
  const y = n(0) * 100 + n(2), mo = n(5), d = n(8), h = n(11), mi = n(14), s = n(17);
  const ms = (t.charCodeAt(20) - 48) * 100 + n(21);
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return NaN;
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (mo === 2 && !leap ? 28 : DAYS[mo - 1]!)) return NaN;
  return Date.UTC(y, mo - 1, d, h, mi, s, ms);
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Epoch ms of an ISO-8601 date or date-time; NaN for anything else (including dates
 * that do not exist, such as February 30). Without an offset the time is read as UTC,
 * never as the machine's local time, so every machine reads it the same.
 */
export function parseIso(text: string): number {
  if (text.length === 24 && text.charCodeAt(23) === 90 /* Z */) {
    const fast = parseCanonical(text);
    if (fast === fast) return fast; // not NaN
  }
  const m = ISO.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h = "0", mi = "0", sec = "0", frac = "", zone = "Z"] = m;
  const ms = Number((frac + "000").slice(0, 3));
  const utc = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec),
    ms,
  );
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) || check.getUTCSeconds() !== Number(sec)
  ) return NaN;
  if (zone.toUpperCase() === "Z") return utc;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const offset = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  return utc - sign * offset;
}

function authEvent(o: Record<string, unknown>, event_id: string, ts: number): AuthEvent {
  const type = o.type;
  if (typeof type !== "string" || !AUTH_TYPES.has(type)) {
    throw invalid("type", "must be login_success, login_failure or logout", type);
  }
  const user_id = id(o, "user_id");
  const ip = type === "logout" ? optString(o, "ip") : str(o, "ip");
  return {
    kind: "auth",
    event_id,
    ts,
    raw: o,
    type: type as AuthEvent["type"],
    user_id,
    ip,
    country: optString(o, "country"),
    city: optString(o, "city"),
    lat: optNumber(o, "lat"),
    lon: optNumber(o, "lon"),
    device_id: optString(o, "device_id"),
    session_id: optString(o, "session_id"),
  };
}

function transactionEvent(
  o: Record<string, unknown>,
  event_id: string,
  ts: number,
): TransactionEvent {
  const type = o.type;
  if (typeof type !== "string" || !TX_TYPES.has(type)) {
    throw invalid("type", "must be transfer, payment, withdrawal or deposit", type);
  }
  const amount = o.amount;
  if (typeof amount !== "number" || !(amount > 0) || !Number.isFinite(amount)) {
    throw invalid("amount", "must be a number greater than 0", amount);
  }
  return {
    kind: "transaction",
    event_id,
    ts,
    raw: o,
    user_id: id(o, "user_id"),
    account_id: id(o, "account_id"),
    type: type as TransactionEvent["type"],
    amount,
    currency: str(o, "currency"),
    counterparty: optString(o, "counterparty"),
  };
}

/** A flow's addresses and features checked; its features as the flow model reads them. */
function checkFlow(o: Record<string, unknown>): FlowRow {
  str(o, "src_ip");
  str(o, "dst_ip");
  const f = o.features;
  if (typeof f !== "object" || f === null || Array.isArray(f)) {
    throw invalid("features", "must be an object of numeric feature values", f);
  }
  // JSON has no Infinity or NaN; CICFlowMeter writes them, so their names are taken.
  const row = checkedFlowFeatures(f as Record<string, unknown>);
  if (typeof row === "string") {
    throw new Invalid(
      `Cannot accept event: feature "${row}" must be a number (or "Infinity", "-Infinity", "NaN")`,
    );
  }
  return row;
}

function checkOther(kind: EventKind, o: Record<string, unknown>): void {
  switch (kind) {
    case "click":
      id(o, "session_id");
      str(o, "page");
      optNumber(o, "latency_ms");
      return;
    case "log": {
      id(o, "service");
      const level = o.level;
      if (typeof level !== "string" || !LEVELS.has(level)) {
        throw invalid("level", "must be DEBUG, INFO, WARN, ERROR or FATAL", level);
      }
      str(o, "message");
      return;
    }
    case "metric":
      id(o, "service");
      optNumber(o, "cpu");
      optNumber(o, "latency_ms");
      return;
    default:
      return;
  }
}

/** An identifier: a non-empty string, or a number taken as its decimal string. */
function id(o: Record<string, unknown>, name: string): string {
  const v = o[name];
  if (typeof v === "string" && v.length > 0) return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (v === undefined || v === null) throw missing(name);
  throw invalid(name, "must be a non-empty string", v);
}

function str(o: Record<string, unknown>, name: string): string {
  const v = o[name];
  if (typeof v === "string" && v.length > 0) return v;
  if (v === undefined || v === null) throw missing(name);
  throw invalid(name, "must be a non-empty string", v);
}

function optString(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  throw invalid(name, "must be a string", v);
}

function optNumber(o: Record<string, unknown>, name: string): number | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  throw invalid(name, "must be a number", v);
}

function missing(name: string): Invalid {
  return new Invalid(`Cannot accept event: field "${name}" is missing`);
}

function invalid(name: string, rule: string, got: unknown): Invalid {
  let shown = JSON.stringify(got) ?? String(got);
  if (shown.length > 60) shown = shown.slice(0, 57) + "...";
  return new Invalid(`Cannot accept event: field "${name}" ${rule}, got ${shown}`);
}

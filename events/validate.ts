/**
 * Turns raw input (a Kafka value, a line of a file, an HTTP body item) into a
 * validated event, or into a reason a person can read. Never throws.
 *
 * Every intake validates here, with the same bounds (`InputLimits`): field lengths,
 * nesting, numeric ranges. An event that passes is safe for every actor: its keys are
 * short, its numbers finite and in range, its time one a `Date` can write.
 *
 * @module
 */

import { hash64 } from "./hash.ts";
import { defaults, type InputLimits } from "../config/defaults.ts";
import { clip, preview, shapeProblem } from "./bounds.ts";
import { checkedFlowFeatures, type FlowRow } from "./flow_features.ts";
import { parseIso } from "./time.ts";
import {
  type AuthEvent,
  EVENT_KINDS,
  type EventKind,
  type OtherEvent,
  type TransactionEvent,
  type VigilEvent,
} from "./types.ts";

export { parseIso };

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

const KINDS = new Set<string>(EVENT_KINDS);
const AUTH_TYPES = new Set(["login_success", "login_failure", "logout"]);
const TX_TYPES = new Set(["transfer", "payment", "withdrawal", "deposit"]);
const LEVELS = new Set(["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]);

/**
 * Fields detection does not read, bounded only when they are strings (other types pass,
 * as before the bounds), per kind: ids and keys, and free text.
 */
const LOOSE_KEYS: Readonly<Record<EventKind, readonly string[]>> = Object.freeze({
  auth: [],
  transaction: ["ip", "device_id", "channel"],
  flow: ["flow_id", "protocol"],
  click: ["user_id"],
  log: ["user_id"],
  metric: [],
});
const LOOSE_TEXTS: Readonly<Record<EventKind, readonly string[]>> = Object.freeze({
  auth: ["user_agent", "reason"],
  transaction: [],
  flow: [],
  click: ["referrer"],
  log: [],
  metric: [],
});

/** Fields of a metric event that are not its numbers. */
const NOT_GAUGES = new Set(["timestamp", "event_id", "kind", "service"]);

/** Options for {@linkcode parseEvent}. */
export interface ParseOptions {
  /** The kind implied by the source (a Kafka topic); a `kind` field, if present, must agree. */
  kind?: EventKind | undefined;
  /** Event time to use when the event has no `timestamp` (e.g. the Kafka record's). */
  fallback_ts?: number | undefined;
  /** The bounds (default: `defaults.input`); every intake passes the configured ones. */
  limits?: InputLimits | undefined;
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
  const lim = options.limits ?? defaults.input;
  const kind = eventKind(o, options.kind);
  const shape = shapeProblem(o, lim);
  if (shape !== null) throw new Invalid(shape);
  const ts = eventTime(o, options.fallback_ts, lim);
  const id = o.event_id;
  let event_id: string;
  if (id === undefined || id === null) event_id = "e-" + hash64(text);
  else if (typeof id === "string" && id.length > 0) {
    event_id = within(id, "event_id", lim.max_key_chars);
  } else if (typeof id === "number") event_id = String(id);
  else throw invalid("event_id", "must be a non-empty string", id);
  for (const name of LOOSE_KEYS[kind]) loose(o, name, lim.max_key_chars);
  for (const name of LOOSE_TEXTS[kind]) loose(o, name, lim.max_text_chars);
  switch (kind) {
    case "auth":
      return authEvent(o, event_id, ts, lim);
    case "transaction":
      return transactionEvent(o, event_id, ts, lim);
    case "flow":
      return { kind, event_id, ts, raw: o, row: checkFlow(o, lim) } satisfies OtherEvent;
    default:
      checkOther(kind, o, lim);
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

function eventTime(o: Record<string, unknown>, fallback: number | undefined, lim: InputLimits) {
  const t = o.timestamp;
  if (t === undefined || t === null) {
    if (fallback === undefined) {
      throw new Invalid('Cannot accept event: field "timestamp" is missing');
    }
    if (!(fallback >= lim.min_timestamp_ms && fallback <= lim.max_timestamp_ms)) {
      throw new Invalid(
        `Cannot accept event: field "timestamp" is missing, and its record's time ` +
          `${preview(fallback)} is outside ${timeRange(lim)}`,
      );
    }
    return fallback;
  }
  const ms = typeof t === "number" ? t : typeof t === "string" ? parseIso(t) : NaN;
  if (!Number.isFinite(ms)) {
    throw invalid("timestamp", "must be an ISO-8601 string or epoch milliseconds", t);
  }
  if (!(ms >= lim.min_timestamp_ms && ms <= lim.max_timestamp_ms)) {
    throw new Invalid(
      `Cannot accept event: field "timestamp" is ${preview(t)}, outside ${timeRange(lim)}`,
    );
  }
  return ms;
}

function timeRange(lim: InputLimits): string {
  const iso = (ms: number) => {
    const d = new Date(ms);
    return Number.isFinite(d.getTime()) ? d.toISOString() : String(ms);
  };
  return `${iso(lim.min_timestamp_ms)}..${iso(lim.max_timestamp_ms)}`;
}

function authEvent(
  o: Record<string, unknown>,
  event_id: string,
  ts: number,
  lim: InputLimits,
): AuthEvent {
  const type = o.type;
  if (typeof type !== "string" || !AUTH_TYPES.has(type)) {
    throw invalid("type", "must be login_success, login_failure or logout", type);
  }
  const key = lim.max_key_chars;
  const user_id = id(o, "user_id", key);
  const ip = type === "logout" ? optString(o, "ip", key) : str(o, "ip", key);
  const e: AuthEvent = {
    kind: "auth",
    event_id,
    ts,
    raw: o,
    type: type as AuthEvent["type"],
    user_id,
    ip,
    country: optString(o, "country", key),
    city: optString(o, "city", key),
    lat: inRange(o, "lat", -90, 90),
    lon: inRange(o, "lon", -180, 180),
    device_id: optString(o, "device_id", key),
    session_id: optString(o, "session_id", key),
  };
  const asn = asnOf(o);
  if (asn !== undefined) e.asn = asn; // most events have none: no field
  return e;
}

/** An optional AS number: a whole number 0..4294967295. */
function asnOf(o: Record<string, unknown>): number | undefined {
  const v = inRange(o, "asn", 0, 0xffffffff);
  if (v === undefined || Number.isInteger(v)) return v;
  throw invalid("asn", "must be a whole number (an AS number)", v);
}

function transactionEvent(
  o: Record<string, unknown>,
  event_id: string,
  ts: number,
  lim: InputLimits,
): TransactionEvent {
  const type = o.type;
  if (typeof type !== "string" || !TX_TYPES.has(type)) {
    throw invalid("type", "must be transfer, payment, withdrawal or deposit", type);
  }
  const amount = o.amount;
  if (typeof amount !== "number" || !(amount > 0) || !Number.isFinite(amount)) {
    throw invalid("amount", "must be a number greater than 0", amount);
  }
  if (amount > lim.max_amount) {
    throw new Invalid(
      `Cannot accept event: field "amount" is ${preview(amount)}, more than the largest ` +
        `amount taken, ${lim.max_amount}`,
    );
  }
  const key = lim.max_key_chars;
  return {
    kind: "transaction",
    event_id,
    ts,
    raw: o,
    user_id: id(o, "user_id", key),
    account_id: id(o, "account_id", key),
    type: type as TransactionEvent["type"],
    amount,
    currency: str(o, "currency", key),
    counterparty: optString(o, "counterparty", key),
  };
}

/** A flow's addresses, ports and features checked; its features as the flow model reads them. */
function checkFlow(o: Record<string, unknown>, lim: InputLimits): FlowRow {
  str(o, "src_ip", lim.max_key_chars);
  str(o, "dst_ip", lim.max_key_chars);
  port(o, "src_port", lim);
  port(o, "dst_port", lim);
  const f = o.features;
  if (typeof f !== "object" || f === null || Array.isArray(f)) {
    throw invalid("features", "must be an object of numeric feature values", f);
  }
  // JSON has no Infinity or NaN; CICFlowMeter writes them, so their names are taken.
  const row = checkedFlowFeatures(f as Record<string, unknown>);
  if (typeof row === "string") {
    const v = (f as Record<string, unknown>)[row];
    throw new Invalid(
      typeof v === "number"
        ? `Cannot accept event: feature "${clip(row)}" is ${v}, not a finite number ` +
          '(write "Infinity", "-Infinity" or "NaN" as strings)'
        : `Cannot accept event: feature "${
          clip(row)
        }" must be a number (or "Infinity", "-Infinity", "NaN")`,
    );
  }
  return row;
}

function checkOther(kind: EventKind, o: Record<string, unknown>, lim: InputLimits): void {
  const abs = lim.max_metric_abs;
  switch (kind) {
    case "click":
      id(o, "session_id", lim.max_key_chars);
      str(o, "page", lim.max_key_chars);
      inRange(o, "latency_ms", -abs, abs);
      return;
    case "log": {
      id(o, "service", lim.max_key_chars);
      const level = o.level;
      if (typeof level !== "string" || !LEVELS.has(level)) {
        throw invalid("level", "must be DEBUG, INFO, WARN, ERROR or FATAL", level);
      }
      str(o, "message", lim.max_text_chars);
      return;
    }
    case "metric":
      id(o, "service", lim.max_key_chars);
      optNumber(o, "cpu");
      optNumber(o, "latency_ms");
      // Every number of a metric event is a metric (`svc.metric_anomaly` follows it).
      for (const name in o) {
        const v = o[name];
        if (typeof v !== "number" || NOT_GAUGES.has(name)) continue;
        if (!(v >= -abs && v <= abs)) throw outside(name, v, -abs, abs);
      }
      return;
    default:
      return;
  }
}

/** An identifier: a non-empty string, or a number taken as its decimal string. */
function id(o: Record<string, unknown>, name: string, max: number): string {
  const v = o[name];
  if (typeof v === "string" && v.length > 0) return within(v, name, max);
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (v === undefined || v === null) throw missing(name);
  throw invalid(name, "must be a non-empty string", v);
}

function str(o: Record<string, unknown>, name: string, max: number): string {
  const v = o[name];
  if (typeof v === "string" && v.length > 0) return within(v, name, max);
  if (v === undefined || v === null) throw missing(name);
  throw invalid(name, "must be a non-empty string", v);
}

function optString(o: Record<string, unknown>, name: string, max: number): string | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return within(v, name, max);
  throw invalid(name, "must be a string", v);
}

/** A field detection does not read: bounded when it is a string, left alone otherwise. */
function loose(o: Record<string, unknown>, name: string, max: number): void {
  const v = o[name];
  if (typeof v === "string") within(v, name, max);
}

function within(v: string, name: string, max: number): string {
  if (v.length <= max) return v;
  throw new Invalid(
    `Cannot accept event: field "${name}" is ${v.length} characters long, more than the ` +
      `${max} allowed`,
  );
}

function optNumber(o: Record<string, unknown>, name: string): number | undefined {
  const v = o[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  throw invalid(name, "must be a number", v);
}

/** An optional number within `lo..hi`. */
function inRange(o: Record<string, unknown>, name: string, lo: number, hi: number) {
  const v = optNumber(o, name);
  if (v === undefined || (v >= lo && v <= hi)) return v;
  throw outside(name, v, lo, hi);
}

/** An optional port: a whole number 0..65535, or a string (a service name, or digits). */
function port(o: Record<string, unknown>, name: string, lim: InputLimits): void {
  const v = o[name];
  if (v === undefined || v === null) return;
  if (typeof v === "string") {
    within(v, name, lim.max_key_chars);
    return;
  }
  if (typeof v !== "number") throw invalid(name, "must be a port number (or a string)", v);
  if (!Number.isInteger(v) || v < 0 || v > 65_535) throw outside(name, v, 0, 65_535, "whole ");
}

function outside(name: string, v: number, lo: number, hi: number, what = ""): Invalid {
  return new Invalid(
    `Cannot accept event: field "${name}" is ${preview(v)}, outside ${lo}..${hi}` +
      (what ? ` (a ${what}number)` : ""),
  );
}

function missing(name: string): Invalid {
  return new Invalid(`Cannot accept event: field "${name}" is missing`);
}

function invalid(name: string, rule: string, got: unknown): Invalid {
  return new Invalid(`Cannot accept event: field "${name}" ${rule}, got ${preview(got)}`);
}

/**
 * Reads the configuration: the defaults of `defaults.ts`, overridden from the
 * environment. Every leaf `section.name` is set by `VIGIL_SECTION_NAME` (e.g.
 * `VIGIL_AUTH_BRUTE_FORCE_FAILURES=10`); `HOST` and `PORT` set the API's address.
 *
 * @module
 */

import { type Config, defaults, MIN_SIMULATED_USERS, PARTITIONERS } from "./defaults.ts";
import { outOfRange, PARAM_RANGES } from "./ranges.ts";

/** A configuration value that cannot be used. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** Short names kept for the contract (`PORT`, `KAFKA_BROKERS`, …), and the usual names of Kafka's security. */
export const ALIASES: Readonly<Record<string, string>> = {
  HOST: "VIGIL_API_HOST",
  PORT: "VIGIL_API_PORT",
  KAFKA_BROKERS: "VIGIL_IO_KAFKA_BROKERS",
  MONGODB_URI: "VIGIL_IO_MONGODB_URI",
  KAFKA_TLS: "VIGIL_IO_KAFKA_TLS",
  KAFKA_TLS_CA_FILE: "VIGIL_IO_KAFKA_TLS_CA_FILE",
  KAFKA_TLS_CERT_FILE: "VIGIL_IO_KAFKA_TLS_CERT_FILE",
  KAFKA_TLS_KEY_FILE: "VIGIL_IO_KAFKA_TLS_KEY_FILE",
  KAFKA_SASL_MECHANISM: "VIGIL_IO_KAFKA_SASL_MECHANISM",
  KAFKA_SASL_USERNAME: "VIGIL_IO_KAFKA_SASL_USERNAME",
  KAFKA_SASL_PASSWORD: "VIGIL_IO_KAFKA_SASL_PASSWORD",
  KAFKA_SASL_PASSWORD_FILE: "VIGIL_IO_KAFKA_SASL_PASSWORD_FILE",
};

/** The SASL mechanisms Vigil's Kafka client speaks. */
export const KAFKA_SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/** One configurable value. */
export interface Setting {
  variable: string;
  path: string;
  value: unknown;
}

/** Every setting with its environment variable and default, in order. */
export function settings(config: Config = structuredClone(defaults) as Config): Setting[] {
  const out: Setting[] = [];
  for (const [section, value] of Object.entries(config)) {
    if (typeof value === "object" && value !== null) {
      for (const [name, v] of Object.entries(value)) {
        out.push({
          variable: `VIGIL_${section}_${name}`.toUpperCase(),
          path: `${section}.${name}`,
          value: v,
        });
      }
    } else {
      out.push({ variable: `VIGIL_${section}`.toUpperCase(), path: section, value });
    }
  }
  return out;
}

/**
 * The configuration for an environment.
 *
 * @example
 * ```ts
 * import { loadConfig } from "./load.ts";
 * loadConfig({ PORT: "9000" }).api.port; // 9000
 * ```
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const config = structuredClone(defaults) as Config;
  const named = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) {
    if (v !== undefined && v !== "") named.set(Object.hasOwn(ALIASES, k) ? ALIASES[k]! : k, v);
  }
  for (const s of settings(config)) {
    const text = named.get(s.variable);
    if (text === undefined) continue;
    const [section, name] = s.path.split(".");
    const value = parseValue(s.variable, text, s.value);
    if (name === undefined) (config as unknown as Record<string, unknown>)[section!] = value;
    else (config as unknown as Record<string, Record<string, unknown>>)[section!]![name] = value;
  }
  // The raw archive is on by default where a database keeps it (MongoDB, with its TTL);
  // in memory only when asked for.
  if (!named.has("VIGIL_IO_ARCHIVE_RAW_EVENTS") && config.io.mongodb_uri !== "") {
    config.io.archive_raw_events = true;
  }
  checkConfig(config);
  return config;
}

function parseValue(variable: string, text: string, like: unknown): unknown {
  if (typeof like === "number") {
    const n = text.trim() === "" ? NaN : Number(text.trim().replaceAll("_", ""));
    if (!Number.isFinite(n)) {
      throw new ConfigError(`Cannot read ${variable}: "${text}" is not a number`);
    }
    return n;
  }
  if (typeof like === "boolean") {
    if (/^(1|true|yes|on)$/i.test(text)) return true;
    if (/^(0|false|no|off)$/i.test(text)) return false;
    throw new ConfigError(`Cannot read ${variable}: "${text}" is not true or false`);
  }
  return text;
}

/** The most addresses the IP database's cache may keep (about 200 bytes each). */
const MAX_GEO_CACHE_ENTRIES = 1_000_000;

/** The most days of simulated history `start` makes (each is ~17 million events at 200 a second). */
const MAX_HISTORY_DAYS = 7;

/** The furthest a `Date` reaches either side of the epoch (ms). */
const MAX_DATE_MS = 8.64e15;

/** Throws a ConfigError for a configuration whose values cannot be used together. */
export function checkConfig(c: Config): void {
  const positive: [string, number][] = [
    ["VIGIL_RUNTIME_PARTITIONS", c.runtime.partitions],
    ["VIGIL_RUNTIME_TURN_MS", c.runtime.turn_ms],
    ["VIGIL_RULES_PRECISION_WINDOW_DAYS", c.rules.precision_window_days],
    ["VIGIL_RULES_FEEDBACK_REFRESH_MS", c.rules.feedback_refresh_ms],
    ["VIGIL_RULES_MAX_LABELLED_CASES", c.rules.max_labelled_cases],
    ["VIGIL_RUNTIME_MAILBOX_CAPACITY", c.runtime.mailbox_capacity],
    ["VIGIL_RUNTIME_MAX_RESIDENT_ACTORS", c.runtime.max_resident_actors],
    ["VIGIL_SIMULATOR_MAX_RESIDENT_ACTORS", c.simulator.max_resident_actors],
    ["VIGIL_RUNTIME_MAX_BATCH_EVENTS", c.runtime.max_batch_events],
    ["VIGIL_RUNTIME_MAX_BATCHES_IN_FLIGHT", c.runtime.max_batches_in_flight],
    ["VIGIL_RUNTIME_PARTITIONS_IN_PARALLEL", c.runtime.partitions_in_parallel],
    ["VIGIL_AUTH_BRUTE_FORCE_FAILURES", c.auth.brute_force_failures],
    ["VIGIL_API_MAX_BODY_BYTES", c.api.max_body_bytes],
    ["VIGIL_IP_MAX_FAILURES_TRACKED", c.ip.max_failures_tracked],
    ["VIGIL_IO_KAFKA_MAX_REQUEST_BYTES", c.io.kafka_max_request_bytes],
    ["VIGIL_IO_KAFKA_CONNECT_BACKOFF_MIN_MS", c.io.kafka_connect_backoff_min_ms],
    ["VIGIL_API_HEADER_TIMEOUT_MS", c.api.header_timeout_ms],
    ["VIGIL_API_BODY_TIMEOUT_MS", c.api.body_timeout_ms],
    ["VIGIL_API_IDLE_TIMEOUT_MS", c.api.idle_timeout_ms],
    ["VIGIL_API_MAX_HOLD_MS", c.api.max_hold_ms],
    ["VIGIL_API_MAX_ITEM_REASON_CHARS", c.api.max_item_reason_chars],
    ["VIGIL_API_SESSION_TTL_MS", c.api.session_ttl_ms],
    ["VIGIL_API_MAX_SESSIONS", c.api.max_sessions],
    ["VIGIL_API_MEMORY_STORE_MAX_AUDIT", c.api.memory_store_max_audit],
    ["VIGIL_INPUT_MAX_KEY_CHARS", c.input.max_key_chars],
    ["VIGIL_INPUT_MAX_TEXT_CHARS", c.input.max_text_chars],
    ["VIGIL_INPUT_MAX_FIELD_NAME_CHARS", c.input.max_field_name_chars],
    ["VIGIL_INPUT_MAX_NESTING_LEVELS", c.input.max_nesting_levels],
    ["VIGIL_CONSOLE_STREAM_MAX_CLIENTS", c.console.stream_max_clients],
    ["VIGIL_CONSOLE_STREAM_CLIENT_BUFFER_MESSAGES", c.console.stream_client_buffer_messages],
    ["VIGIL_CONSOLE_STREAM_HEARTBEAT_MS", c.console.stream_heartbeat_ms],
    ["VIGIL_CONSOLE_VOLUME_BUCKET_S", c.console.volume_bucket_s],
    ["VIGIL_CONSOLE_VOLUME_BUCKETS", c.console.volume_buckets],
    ["VIGIL_CONSOLE_VOLUME_MAX_RULES", c.console.volume_max_rules],
    ["VIGIL_AGGREGATE_INTERVAL_MS", c.aggregate.interval_ms],
    ["VIGIL_AGGREGATE_LOOKBACK_MS", c.aggregate.lookback_ms],
    ["VIGIL_AGGREGATE_FIRST_LOOKBACK_MS", c.aggregate.first_lookback_ms],
    ["VIGIL_AGGREGATE_LEASE_MS", c.aggregate.lease_ms],
    ["VIGIL_AGGREGATE_MAX_ROWS", c.aggregate.max_rows],
  ];
  for (const [name, v] of positive) {
    if (!(v >= 1) || !Number.isInteger(v)) {
      throw new ConfigError(`Cannot use ${name}=${v}: it must be a whole number of at least 1`);
    }
  }
  if (!(c.io.kafka_connect_backoff_max_ms >= c.io.kafka_connect_backoff_min_ms)) {
    throw new ConfigError(
      `Cannot use VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS=${c.io.kafka_connect_backoff_max_ms}: ` +
        `it must be at least VIGIL_IO_KAFKA_CONNECT_BACKOFF_MIN_MS (${c.io.kafka_connect_backoff_min_ms})`,
    );
  }
  checkKafkaSecurity(c.io);
  const cache = c.geo.cache_entries;
  if (!(Number.isInteger(cache) && cache >= 0 && cache <= MAX_GEO_CACHE_ENTRIES)) {
    throw new ConfigError(
      `Cannot use VIGIL_GEO_CACHE_ENTRIES=${cache}: it must be a whole number from 0 to ` +
        `${MAX_GEO_CACHE_ENTRIES}`,
    );
  }
  for (
    const [name, v, max] of [
      ["VIGIL_SIMULATOR_HISTORY_DAYS", c.simulator.history_days, MAX_HISTORY_DAYS],
      ["VIGIL_MEMORY_STORE_MAX_ARCHIVED_EVENTS", c.memory_store_max_archived_events, 10_000_000],
    ] as const
  ) {
    if (!(Number.isInteger(v) && v >= 0 && v <= max)) {
      throw new ConfigError(`Cannot use ${name}=${v}: it must be a whole number from 0 to ${max}`);
    }
  }
  for (
    const [name, v] of [
      ["VIGIL_INPUT_MAX_AMOUNT", c.input.max_amount],
      ["VIGIL_INPUT_MAX_METRIC_ABS", c.input.max_metric_abs],
    ] as const
  ) {
    if (!(v > 0)) throw new ConfigError(`Cannot use ${name}=${v}: it must be more than 0`);
  }
  const { min_timestamp_ms: from, max_timestamp_ms: to } = c.input;
  if (!(from >= -MAX_DATE_MS && from <= to && to <= MAX_DATE_MS)) {
    throw new ConfigError(
      `Cannot use the event times ${from}..${to} (VIGIL_INPUT_MIN_TIMESTAMP_MS, ` +
        `VIGIL_INPUT_MAX_TIMESTAMP_MS): they must rise within ±${MAX_DATE_MS}, a Date's range`,
    );
  }
  const a = c.api;
  if (!(a.ingest_events_per_s >= 0)) {
    throw new ConfigError(
      `Cannot use VIGIL_API_INGEST_EVENTS_PER_S=${a.ingest_events_per_s}: it must be 0 (no limit) or more`,
    );
  }
  if (a.ingest_events_per_s > 0 && !(a.ingest_burst_events >= a.max_events_per_request)) {
    throw new ConfigError(
      `Cannot use VIGIL_API_INGEST_BURST_EVENTS=${a.ingest_burst_events}: it must be at least ` +
        `VIGIL_API_MAX_EVENTS_PER_REQUEST (${a.max_events_per_request}), or a full request never goes in`,
    );
  }
  if (
    !(Number.isInteger(a.max_watermark_holds) &&
      a.max_watermark_holds >= 2 * a.max_events_per_request)
  ) {
    throw new ConfigError(
      `Cannot use VIGIL_API_MAX_WATERMARK_HOLDS=${a.max_watermark_holds}: it must be a whole number ` +
        `of at least twice VIGIL_API_MAX_EVENTS_PER_REQUEST (${2 * a.max_events_per_request}: ` +
        `a login attempt holds two lanes), or a full request never goes in`,
    );
  }
  if (!(c.ip.stuffing_min_share >= 0 && c.ip.stuffing_min_share <= 1)) {
    throw new ConfigError(
      `Cannot use VIGIL_IP_STUFFING_MIN_SHARE=${c.ip.stuffing_min_share}: it must be 0..1`,
    );
  }
  const { risky_login_low: low, risky_login_medium: mid, risky_login_high: high } = c.auth;
  if (!(low >= 0 && low <= mid && mid <= high && high <= 1)) {
    throw new ConfigError(
      `Cannot use the risky-login levels ${low} / ${mid} / ${high} ` +
        "(VIGIL_AUTH_RISKY_LOGIN_LOW, _MEDIUM, _HIGH): they must rise within 0..1",
    );
  }
  if (!(PARTITIONERS as readonly string[]).includes(c.io.kafka_producer_partitioner)) {
    throw new ConfigError(
      `Cannot use VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=${c.io.kafka_producer_partitioner}: it ` +
        "must be murmur2 (Kafka's Java client, kafkajs) or crc32 (librdkafka's default: kcat, " +
        "confluent-kafka-python, Go, .NET)",
    );
  }
  const severities = ["info", "low", "medium", "high", "critical"];
  for (const target of ["slack", "webhook", "alertmanager"] as const) {
    const v = c.notify[`${target}_min_severity`];
    if (!severities.includes(v)) {
      throw new ConfigError(
        `Cannot use VIGIL_NOTIFY_${target.toUpperCase()}_MIN_SEVERITY=${v}: it must be one of ` +
          severities.join(", "),
      );
    }
  }
  const sim = c.simulator;
  if (!(Number.isInteger(sim.users) && sim.users >= MIN_SIMULATED_USERS)) {
    throw new ConfigError(
      `Cannot use VIGIL_SIMULATOR_USERS=${sim.users}: it must be a whole number of at least ${MIN_SIMULATED_USERS}`,
    );
  }
  if (!(sim.events_per_second > 0)) {
    throw new ConfigError(
      `Cannot use VIGIL_SIMULATOR_EVENTS_PER_SECOND=${sim.events_per_second}: it must be above 0`,
    );
  }
  for (
    const name of ["payment_outage_after_s", "payment_outage_every_s", "payment_outage_s"] as const
  ) {
    if (!(sim[name] >= 0 && Number.isFinite(sim[name]))) {
      throw new ConfigError(
        `Cannot use VIGIL_SIMULATOR_${name.toUpperCase()}=${
          sim[name]
        }: it must be 0 or more seconds`,
      );
    }
  }
  if (!(c.aggregate.jitter >= 0 && c.aggregate.jitter < 1)) {
    throw new ConfigError(
      `Cannot use VIGIL_AGGREGATE_JITTER=${c.aggregate.jitter}: it must be at least 0 and below 1`,
    );
  }
  if (!(c.aggregate.first_run_delay_ms >= 0)) {
    throw new ConfigError(
      `Cannot use VIGIL_AGGREGATE_FIRST_RUN_DELAY_MS=${c.aggregate.first_run_delay_ms}: it must be 0 or more`,
    );
  }
  if (sim.payment_outage_every_s > 0 && sim.payment_outage_s > sim.payment_outage_every_s) {
    throw new ConfigError(
      `Cannot use VIGIL_SIMULATOR_PAYMENT_OUTAGE_S=${sim.payment_outage_s}: an outage cannot ` +
        `last longer than VIGIL_SIMULATOR_PAYMENT_OUTAGE_EVERY_S (${sim.payment_outage_every_s})`,
    );
  }
  if (!(Number.isInteger(c.api.port) && c.api.port >= 0 && c.api.port <= 65535)) {
    throw new ConfigError(`Cannot use PORT=${c.api.port}: it must be 0..65535`);
  }
  // Each rule parameter within its range (the API's changes are checked here too).
  const sections = c as unknown as Record<string, Record<string, unknown>>;
  for (const [path, range] of PARAM_RANGES) {
    const [section, name] = path.split(".") as [string, string];
    const v = sections[section]?.[name];
    const outside = typeof v === "number" ? outOfRange(v, range) : "it must be a number";
    if (outside) {
      const variable = `VIGIL_${section}_${name}`.toUpperCase();
      throw new ConfigError(`Cannot use ${variable}=${v}: ${outside}`);
    }
  }
}

/** Throws a ConfigError for Kafka TLS or SASL settings that cannot work together. */
function checkKafkaSecurity(io: Config["io"]): void {
  const mechanism = io.kafka_sasl_mechanism;
  const password = io.kafka_sasl_password !== "" || io.kafka_sasl_password_file !== "";
  if (mechanism === "") {
    if (io.kafka_sasl_username !== "" || password) {
      throw new ConfigError(
        "Cannot use a Kafka SASL user name or password without KAFKA_SASL_MECHANISM " +
          `(one of ${KAFKA_SASL_MECHANISMS.join(", ")})`,
      );
    }
  } else if (!(KAFKA_SASL_MECHANISMS as readonly string[]).includes(mechanism.toUpperCase())) {
    throw new ConfigError(
      `Cannot use KAFKA_SASL_MECHANISM=${mechanism}: it must be one of ` +
        KAFKA_SASL_MECHANISMS.join(", "),
    );
  } else if (io.kafka_sasl_username === "" || !password) {
    throw new ConfigError(
      `Cannot use KAFKA_SASL_MECHANISM=${mechanism} without KAFKA_SASL_USERNAME and ` +
        "KAFKA_SASL_PASSWORD (or KAFKA_SASL_PASSWORD_FILE)",
    );
  }
  if (io.kafka_sasl_password !== "" && io.kafka_sasl_password_file !== "") {
    throw new ConfigError(
      "Cannot use both KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE: set one",
    );
  }
  if ((io.kafka_tls_cert_file === "") !== (io.kafka_tls_key_file === "")) {
    throw new ConfigError(
      "Cannot use KAFKA_TLS_CERT_FILE without KAFKA_TLS_KEY_FILE (or the key without the " +
        "certificate): mutual TLS needs both",
    );
  }
}

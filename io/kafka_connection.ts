/**
 * How Vigil reaches Kafka: the brokers, TLS (the CA to trust, a client certificate for
 * mutual TLS) and SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512), read once from the
 * configuration and the files it names (`kafkaClient` in `kafka_log.ts` makes the one
 * kind of kafkajs client from it, for the log, the benchmarks and the tests alike); and
 * what a failed connection means, in words an operator can act on. No kafkajs code is
 * loaded here, so pure tests can use it.
 *
 * @module
 */

import type { IoSettings } from "../config/defaults.ts";
import { ConfigError } from "../config/load.ts";

/** A SASL mechanism as kafkajs names it. */
export type SaslMechanism = "plain" | "scram-sha-256" | "scram-sha-512";

/** Where the brokers are and how to prove who we are to them. */
export interface KafkaConnection {
  brokers: string[];
  client_id: string;
  /** TLS, when on: PEM texts (no CA: the system's CAs are trusted). */
  tls?: { ca?: string; cert?: string; key?: string };
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** Reads a whole text file (`Deno.readTextFileSync` unless a test gives another). */
export type ReadFile = (path: string) => string;

/**
 * The connection the configuration describes, with its files read. Throws a ConfigError
 * naming the setting and the file when one cannot be read or holds no PEM block.
 *
 * @example
 * ```ts
 * import { loadConfig } from "../config/load.ts";
 * import { kafkaConnection } from "./kafka_connection.ts";
 * const io = loadConfig({ KAFKA_BROKERS: "kafka:9093", KAFKA_TLS: "true" }).io;
 * kafkaConnection(io).tls; // {}: TLS, trusting the system's CAs
 * ```
 */
export function kafkaConnection(
  io: IoSettings,
  read: ReadFile = Deno.readTextFileSync,
): KafkaConnection {
  const out: KafkaConnection = {
    brokers: io.kafka_brokers.split(",").map((b) => b.trim()).filter((b) => b !== ""),
    client_id: io.kafka_client_id,
  };
  const files = [
    ["ca", "KAFKA_TLS_CA_FILE", io.kafka_tls_ca_file],
    ["cert", "KAFKA_TLS_CERT_FILE", io.kafka_tls_cert_file],
    ["key", "KAFKA_TLS_KEY_FILE", io.kafka_tls_key_file],
  ] as const;
  if (io.kafka_tls || files.some(([, , path]) => path !== "")) {
    const tls: NonNullable<KafkaConnection["tls"]> = {};
    for (const [field, variable, path] of files) {
      if (path === "") continue;
      const text = readSetting(read, variable, path);
      if (!text.includes("-----BEGIN ")) {
        throw new ConfigError(`Cannot use ${variable}=${path}: it holds no PEM block`);
      }
      tls[field] = text;
    }
    out.tls = tls;
  }
  if (io.kafka_sasl_mechanism !== "") {
    const password = io.kafka_sasl_password_file === ""
      ? io.kafka_sasl_password
      : readSetting(read, "KAFKA_SASL_PASSWORD_FILE", io.kafka_sasl_password_file)
        .replace(/\r?\n$/, "");
    out.sasl = {
      mechanism: io.kafka_sasl_mechanism.toLowerCase() as SaslMechanism,
      username: io.kafka_sasl_username,
      password,
    };
  }
  return out;
}

function readSetting(read: ReadFile, variable: string, path: string): string {
  try {
    return read(path);
  } catch (err) {
    const why = err instanceof Deno.errors.NotFound
      ? "no such file"
      : err instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : String((err as Error).message ?? err).split("\n")[0];
    throw new ConfigError(`Cannot read ${variable}=${path}: ${why}`, { cause: err });
  }
}

/** Kafka cannot be reached with these settings; the message says why and what to check. */
export class KafkaConnectError extends Error {
  constructor(err: unknown, c: KafkaConnection) {
    super(describeKafkaError(err, c), { cause: err });
    this.name = "KafkaConnectError";
  }
}

/**
 * What a failed connection means, naming the setting to look at, then kafkajs's words:
 * a refused login, an untrusted broker certificate, a refused client certificate, a TLS
 * or SASL mismatch with the listener, or no broker at the address.
 */
export function describeKafkaError(err: unknown, c: KafkaConnection): string {
  let inner = err as { name?: string; message?: string; cause?: unknown; type?: string };
  while (inner?.cause && typeof inner.cause === "object") inner = inner.cause as typeof inner;
  const text = `${inner?.message ?? String(err)}`;
  const why = (cause: string) => `${cause} (${text})`;
  if (inner?.name === "KafkaJSSASLAuthenticationError") {
    const m = c.sasl?.mechanism.toUpperCase() ?? "SASL";
    return why(
      `Kafka refused the ${m} login of user "${c.sasl?.username ?? ""}": check ` +
        "KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD",
    );
  }
  if (/BadCertificate|CertificateRequired|bad certificate|certificate required/i.test(text)) {
    return why(
      "The broker refused the client certificate, or wants one: check the client certificate " +
        "(KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE)",
    );
  }
  if (/certificate|self[- ]signed|issuer|UnknownIssuer|altnames|NotValidForName/i.test(text)) {
    return why(
      "The broker's TLS certificate is not trusted: KAFKA_TLS_CA_FILE must hold the CA " +
        "that signed it, for this address",
    );
  }
  if (/before secure TLS connection|wrong version number|InvalidContentType/i.test(text)) {
    return why("The broker does not speak TLS there: check KAFKA_TLS and the broker's port");
  }
  if (inner?.type === "ILLEGAL_SASL_STATE") {
    return why("The broker takes no SASL login there: check KAFKA_SASL_MECHANISM");
  }
  if (
    inner?.name === "KafkaJSConnectionClosedError" ||
    /write after end|ECONNRESET|EPIPE|socket hang up|^Not connected$/.test(text)
  ) {
    // A listener wanting a client certificate may close the connection before its alert
    // reaches the client (TLS 1.3); one wanting TLS or SASL closes it too. When the close
    // comes between kafkajs's connect and its first request, kafkajs says "Not connected".
    const wants = [
      ...(c.tls === undefined ? ["TLS (KAFKA_TLS)"] : []),
      ...(c.tls !== undefined && c.tls.cert === undefined
        ? ["a client certificate (KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE)"]
        : []),
      ...(c.sasl === undefined ? ["a SASL login (KAFKA_SASL_MECHANISM)"] : []),
    ];
    return why(
      "The broker closed the connection" +
        (wants.length > 0 ? `: does its listener want ${wants.join(" or ")}?` : ""),
    );
  }
  if (/ECONNREFUSED/.test(text)) {
    return why(`No broker answers at ${c.brokers.join(",")}: check KAFKA_BROKERS`);
  }
  return `Cannot reach Kafka at ${c.brokers.join(",")} (${text})`;
}

import assert from "node:assert/strict";
import { defaults } from "../../config/defaults.ts";
import { ConfigError, loadConfig, settings } from "../../config/load.ts";

/** The value at a dotted `section.name` path. */
function at(config: object, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (o, k) => (o as Record<string, unknown>)[k],
    config,
  );
}

/** Every leaf path of the defaults, found independently of `settings()`. */
function leafPaths(): string[] {
  const out: string[] = [];
  for (const [section, value] of Object.entries(defaults)) {
    if (typeof value === "object" && value !== null) {
      for (const name of Object.keys(value)) out.push(`${section}.${name}`);
    } else out.push(section);
  }
  return out;
}

function throwsConfigError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.name, "ConfigError");
    assert.match(err.message, message);
    return true;
  });
}

Deno.test("loadConfig() with an empty environment equals the defaults", () => {
  const config = loadConfig({});
  assert.deepEqual(config, defaults);
  assert.notEqual(config, defaults);
  assert.notEqual(config.auth, defaults.auth, "a copy the caller may change");
});

Deno.test("loadConfig() ignores unrelated, empty and undefined variables", () => {
  const env = { PATH: "/usr/bin", VIGIL_API_PORT: "", VIGIL_RUNTIME_PARTITIONS: undefined };
  assert.deepEqual(loadConfig(env), defaults);
});

Deno.test("loadConfig() reads PORT and HOST as the API's address", () => {
  const config = loadConfig({ PORT: "9000", HOST: "0.0.0.0" });
  assert.equal(config.api.port, 9000);
  assert.equal(config.api.host, "0.0.0.0");
  assert.equal(loadConfig({ VIGIL_API_PORT: "9001" }).api.port, 9001);
});

Deno.test("loadConfig() reads VIGIL_AUTH_BRUTE_FORCE_FAILURES=10", () => {
  const config = loadConfig({ VIGIL_AUTH_BRUTE_FORCE_FAILURES: "10" });
  assert.equal(config.auth.brute_force_failures, 10);
  assert.deepEqual({ ...config.auth, brute_force_failures: 5 }, defaults.auth);
});

Deno.test("loadConfig() reads underscores in numbers as digit separators", () => {
  assert.equal(loadConfig({ VIGIL_ALERTS_COOLDOWN_MS: "60_000" }).alerts.cooldown_ms, 60_000);
});

Deno.test("loadConfig() reads booleans in their usual spellings", () => {
  for (const text of ["1", "true", "TRUE", "yes", "on"]) {
    assert.equal(loadConfig({ VIGIL_ALERTS_STDOUT: text }).alerts_stdout, true, text);
  }
  for (const text of ["0", "false", "No", "off"]) {
    assert.equal(loadConfig({ VIGIL_SIMULATOR_ENABLED: text }).simulator.enabled, false, text);
  }
  throwsConfigError(
    () => loadConfig({ VIGIL_SIMULATOR_ENABLED: "maybe" }),
    /VIGIL_SIMULATOR_ENABLED.*"maybe"/,
  );
});

Deno.test("loadConfig() throws a ConfigError naming a variable that is not a number", () => {
  throwsConfigError(
    () => loadConfig({ VIGIL_RUNTIME_MAILBOX_CAPACITY: "lots" }),
    /VIGIL_RUNTIME_MAILBOX_CAPACITY.*"lots" is not a number/,
  );
  throwsConfigError(() => loadConfig({ PORT: "http" }), /VIGIL_API_PORT/);
  throwsConfigError(() => loadConfig({ VIGIL_ALERTS_COOLDOWN_MS: "Infinity" }), /COOLDOWN_MS/);
});

Deno.test("loadConfig() throws a ConfigError for a blank number", () => {
  // Number("  ") is 0: a blank value must not silently become a zero cool-down or port 0.
  throwsConfigError(() => loadConfig({ VIGIL_ALERTS_COOLDOWN_MS: "  " }), /COOLDOWN_MS/);
  throwsConfigError(() => loadConfig({ PORT: " " }), /PORT/);
});

Deno.test("loadConfig() throws a ConfigError for partitions=0", () => {
  throwsConfigError(
    () => loadConfig({ VIGIL_RUNTIME_PARTITIONS: "0" }),
    /VIGIL_RUNTIME_PARTITIONS=0/,
  );
  throwsConfigError(() => loadConfig({ VIGIL_RUNTIME_PARTITIONS: "2.5" }), /PARTITIONS/);
  throwsConfigError(() => loadConfig({ VIGIL_AUTH_BRUTE_FORCE_FAILURES: "-1" }), /FAILURES/);
});

Deno.test("loadConfig() throws a ConfigError for a port outside 0..65535", () => {
  throwsConfigError(() => loadConfig({ PORT: "70000" }), /PORT=70000/);
  throwsConfigError(() => loadConfig({ PORT: "-1" }), /PORT=-1/);
  assert.equal(loadConfig({ PORT: "0" }).api.port, 0);
});

Deno.test("loadConfig() leaves the defaults unchanged", () => {
  const before = structuredClone(defaults);
  loadConfig({ VIGIL_AUTH_BRUTE_FORCE_FAILURES: "10", PORT: "1", VIGIL_ALERTS_STDOUT: "true" });
  assert.deepEqual(defaults, before);
});

Deno.test("settings() lists one VIGIL_ variable for every leaf of the defaults", () => {
  const list = settings();
  assert.deepEqual(list.map((s) => s.path), leafPaths());
  for (const s of list) {
    assert.equal(s.variable, `VIGIL_${s.path.replace(".", "_")}`.toUpperCase());
    assert.deepEqual(s.value, at(defaults, s.path), s.path);
  }
  assert.equal(new Set(list.map((s) => s.variable)).size, list.length, "no two share a name");
});

/** Settings that only go with others: what each needs beside it to be accepted. */
const COMPANIONS: Record<string, Record<string, string>> = {
  // With MongoDB the raw archive is on unless set.
  VIGIL_IO_MONGODB_URI: { VIGIL_IO_ARCHIVE_RAW_EVENTS: "false" },
  VIGIL_IO_KAFKA_TLS_CERT_FILE: { VIGIL_IO_KAFKA_TLS_KEY_FILE: "key.pem" },
  VIGIL_IO_KAFKA_TLS_KEY_FILE: { VIGIL_IO_KAFKA_TLS_CERT_FILE: "cert.pem" },
  VIGIL_IO_KAFKA_SASL_MECHANISM: {
    VIGIL_IO_KAFKA_SASL_USERNAME: "vigil",
    VIGIL_IO_KAFKA_SASL_PASSWORD: "pw",
  },
  VIGIL_IO_KAFKA_SASL_USERNAME: {
    VIGIL_IO_KAFKA_SASL_MECHANISM: "PLAIN",
    VIGIL_IO_KAFKA_SASL_PASSWORD: "pw",
  },
  VIGIL_IO_KAFKA_SASL_PASSWORD: {
    VIGIL_IO_KAFKA_SASL_MECHANISM: "PLAIN",
    VIGIL_IO_KAFKA_SASL_USERNAME: "vigil",
  },
  VIGIL_IO_KAFKA_SASL_PASSWORD_FILE: {
    VIGIL_IO_KAFKA_SASL_MECHANISM: "PLAIN",
    VIGIL_IO_KAFKA_SASL_USERNAME: "vigil",
  },
};

Deno.test("settings() variables each set their own leaf", () => {
  for (const s of settings()) {
    // A share (0..1) moves halfway to 1 (rising levels stay in order); any other number
    // goes up by one.
    const bumped = typeof s.value === "number"
      ? (s.value > 0 && s.value < 1 ? (s.value + 1) / 2 : s.value + 1)
      : 0;
    const [text, value] = typeof s.value === "number"
      ? [String(bumped), bumped]
      : typeof s.value === "boolean"
      ? [String(!s.value), !s.value]
      : s.variable.endsWith("_MIN_SEVERITY")
      ? ["critical", "critical"]
      : s.variable === "VIGIL_IO_KAFKA_PRODUCER_PARTITIONER"
      ? ["crc32", "crc32"]
      : s.variable === "VIGIL_IO_KAFKA_SASL_MECHANISM"
      ? ["SCRAM-SHA-512", "SCRAM-SHA-512"]
      : ["changed", "changed"];
    const companions = COMPANIONS[s.variable] ?? {};
    const config = loadConfig({ ...companions, [s.variable]: text });
    assert.deepEqual(at(config, s.path), value, s.variable);
    const others = settings(config).filter((o) => o.path !== s.path && !(o.variable in companions));
    for (const o of others) {
      assert.deepEqual(o.value, at(defaults, o.path), `${s.variable} → ${o.path}`);
    }
  }
});

Deno.test("settings() reports the values of the config it is given", () => {
  const config = loadConfig({ VIGIL_AUTH_BRUTE_FORCE_FAILURES: "7" });
  const s = settings(config).find((x) => x.variable === "VIGIL_AUTH_BRUTE_FORCE_FAILURES");
  assert.deepEqual(s, {
    variable: "VIGIL_AUTH_BRUTE_FORCE_FAILURES",
    path: "auth.brute_force_failures",
    value: 7,
  });
});

Deno.test("loadConfig() refuses risky-login levels that do not rise within 0..1", () => {
  assert.throws(
    () => loadConfig({ VIGIL_AUTH_RISKY_LOGIN_MEDIUM: "0.4" }),
    /risky-login levels 0.5 \/ 0.4 \/ 0.95/,
  );
  assert.throws(() => loadConfig({ VIGIL_AUTH_RISKY_LOGIN_HIGH: "1.5" }), /within 0\.\.1/);
  assert.equal(loadConfig({ VIGIL_AUTH_RISKY_LOGIN_LOW: "0.6" }).auth.risky_login_low, 0.6);
});

Deno.test("loadConfig() takes the producers' partitioner, and refuses one it does not know", () => {
  assert.equal(defaults.io.kafka_producer_partitioner, "murmur2");
  assert.equal(
    loadConfig({ VIGIL_IO_KAFKA_PRODUCER_PARTITIONER: "crc32" }).io.kafka_producer_partitioner,
    "crc32",
  );
  assert.throws(
    () => loadConfig({ VIGIL_IO_KAFKA_PRODUCER_PARTITIONER: "consistent_random" }),
    /VIGIL_IO_KAFKA_PRODUCER_PARTITIONER=consistent_random: it must be murmur2 .* or crc32/,
  );
});
Deno.test("loadConfig() reads Kafka's TLS and SASL settings from their usual names", () => {
  const io = loadConfig({
    KAFKA_TLS: "true",
    KAFKA_TLS_CA_FILE: "/etc/vigil/ca.pem",
    KAFKA_TLS_CERT_FILE: "/etc/vigil/client.pem",
    KAFKA_TLS_KEY_FILE: "/etc/vigil/client.key",
    KAFKA_SASL_MECHANISM: "scram-sha-512",
    KAFKA_SASL_USERNAME: "vigil",
    KAFKA_SASL_PASSWORD_FILE: "/run/secrets/kafka",
  }).io;
  assert.deepEqual(
    [
      io.kafka_tls,
      io.kafka_tls_ca_file,
      io.kafka_tls_cert_file,
      io.kafka_tls_key_file,
      io.kafka_sasl_mechanism,
      io.kafka_sasl_username,
      io.kafka_sasl_password_file,
    ],
    [
      true,
      "/etc/vigil/ca.pem",
      "/etc/vigil/client.pem",
      "/etc/vigil/client.key",
      "scram-sha-512",
      "vigil",
      "/run/secrets/kafka",
    ],
  );
  assert.equal(
    loadConfig({
      KAFKA_SASL_PASSWORD: "x",
      KAFKA_SASL_MECHANISM: "PLAIN",
      KAFKA_SASL_USERNAME: "u",
    }).io.kafka_sasl_password,
    "x",
  );
});

Deno.test("loadConfig() refuses Kafka SASL and TLS settings that cannot work", () => {
  const user = { KAFKA_SASL_USERNAME: "vigil", KAFKA_SASL_PASSWORD: "pw" };
  const refused: [Record<string, string>, RegExp][] = [
    [
      { ...user, KAFKA_SASL_MECHANISM: "GSSAPI" },
      /^Cannot use KAFKA_SASL_MECHANISM=GSSAPI: it must be one of PLAIN, SCRAM-SHA-256, SCRAM-SHA-512$/,
    ],
    [
      { KAFKA_SASL_MECHANISM: "PLAIN" },
      /^Cannot use KAFKA_SASL_MECHANISM=PLAIN without KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
    ],
    [
      { KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_USERNAME: "vigil" },
      /without KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD/,
    ],
    [{ KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_PASSWORD: "pw" }, /without KAFKA_SASL_USERNAME/],
    [user, /^Cannot use a Kafka SASL user name or password without KAFKA_SASL_MECHANISM/],
    [
      { ...user, KAFKA_SASL_MECHANISM: "PLAIN", KAFKA_SASL_PASSWORD_FILE: "/f" },
      /^Cannot use both KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE/,
    ],
    [
      { KAFKA_TLS_CERT_FILE: "/c.pem" },
      /^Cannot use KAFKA_TLS_CERT_FILE without KAFKA_TLS_KEY_FILE/,
    ],
    [{ KAFKA_TLS_KEY_FILE: "/k.pem" }, /mutual TLS needs both/],
    [
      { VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS: "10" },
      /^Cannot use VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS=10: it must be at least/,
    ],
    [{ KAFKA_TLS: "maybe" }, /^Cannot read VIGIL_IO_KAFKA_TLS: "maybe" is not true or false$/],
  ];
  for (const [env, message] of refused) {
    throwsConfigError(() => loadConfig(env), message);
    assert.throws(() => loadConfig(env), (err: Error) => !err.message.includes("\n"), "one line");
  }
});

Deno.test("loadConfig() refuses a simulated payment outage longer than its interval or negative", () => {
  throwsConfigError(
    () =>
      loadConfig({
        VIGIL_SIMULATOR_PAYMENT_OUTAGE_S: "4000",
        VIGIL_SIMULATOR_PAYMENT_OUTAGE_EVERY_S: "3600",
      }),
    /VIGIL_SIMULATOR_PAYMENT_OUTAGE_S=4000: an outage cannot last longer than VIGIL_SIMULATOR_PAYMENT_OUTAGE_EVERY_S \(3600\)/,
  );
  throwsConfigError(
    () => loadConfig({ VIGIL_SIMULATOR_PAYMENT_OUTAGE_AFTER_S: "-5" }),
    /VIGIL_SIMULATOR_PAYMENT_OUTAGE_AFTER_S=-5: it must be 0 or more seconds/,
  );
  const once = loadConfig({
    VIGIL_SIMULATOR_PAYMENT_OUTAGE_S: "4000",
    VIGIL_SIMULATOR_PAYMENT_OUTAGE_EVERY_S: "0",
  });
  assert.equal(once.simulator.payment_outage_s, 4000);
});

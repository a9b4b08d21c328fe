import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "../../config/load.ts";
import { describeKafkaError, kafkaConnection, type ReadFile } from "../../io/kafka_connection.ts";

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

/** A reader over these files; any other path is not found. */
function files(contents: Record<string, string>): ReadFile {
  return (path) => {
    const text = contents[path];
    if (text === undefined) throw new Deno.errors.NotFound(`No such file: ${path}`);
    return text;
  };
}

const io = (env: Record<string, string>) =>
  loadConfig({ KAFKA_BROKERS: "k1:9093, k2:9093", ...env }).io;

Deno.test("kafkaConnection() without TLS or SASL has the brokers and the client id only", () => {
  assert.deepEqual(kafkaConnection(io({}), files({})), {
    brokers: ["k1:9093", "k2:9093"],
    client_id: "vigil",
  });
});

Deno.test("kafkaConnection() reads the CA, the client certificate and the key", () => {
  const read = files({ "/ca.pem": PEM, "/c.pem": PEM, "/k.pem": "-----BEGIN PRIVATE KEY-----" });
  assert.deepEqual(kafkaConnection(io({ KAFKA_TLS: "true" }), read).tls, {});
  assert.deepEqual(kafkaConnection(io({ KAFKA_TLS_CA_FILE: "/ca.pem" }), read).tls, { ca: PEM });
  const mutual = kafkaConnection(
    io({ KAFKA_TLS_CERT_FILE: "/c.pem", KAFKA_TLS_KEY_FILE: "/k.pem" }),
    read,
  );
  assert.deepEqual(mutual.tls, { cert: PEM, key: "-----BEGIN PRIVATE KEY-----" });
});

Deno.test("kafkaConnection() takes the SASL password from the environment or a file", () => {
  const sasl = { KAFKA_SASL_MECHANISM: "SCRAM-SHA-256", KAFKA_SASL_USERNAME: "vigil" };
  assert.deepEqual(kafkaConnection(io({ ...sasl, KAFKA_SASL_PASSWORD: "pw" }), files({})).sasl, {
    mechanism: "scram-sha-256",
    username: "vigil",
    password: "pw",
  });
  const fromFile = kafkaConnection(
    io({ ...sasl, KAFKA_SASL_PASSWORD_FILE: "/run/secrets/kafka" }),
    files({ "/run/secrets/kafka": "p w\n\n" }),
  );
  assert.equal(fromFile.sasl?.password, "p w\n", "one trailing newline dropped");
});

Deno.test("kafkaConnection() names the setting and the file it cannot use", () => {
  const refuses = (env: Record<string, string>, message: RegExp, read = files({})) =>
    assert.throws(() => kafkaConnection(io(env), read), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, message);
      assert.doesNotMatch(err.message, /\n/, "one line");
      return true;
    });
  refuses(
    { KAFKA_TLS_CA_FILE: "/nope.pem" },
    /^Cannot read KAFKA_TLS_CA_FILE=\/nope\.pem: no such file$/,
  );
  refuses(
    { KAFKA_TLS_CERT_FILE: "/c.pem", KAFKA_TLS_KEY_FILE: "/k.pem" },
    /^Cannot read KAFKA_TLS_KEY_FILE=\/k\.pem: no such file$/,
    files({ "/c.pem": PEM }),
  );
  refuses(
    { KAFKA_TLS_CA_FILE: "/ca.txt" },
    /^Cannot use KAFKA_TLS_CA_FILE=\/ca\.txt: it holds no PEM block$/,
    files({ "/ca.txt": "hello" }),
  );
  refuses(
    { KAFKA_TLS_CA_FILE: "/ca.pem" },
    /^Cannot read KAFKA_TLS_CA_FILE=\/ca\.pem: permission denied$/,
    () => {
      throw new Deno.errors.PermissionDenied("Permission denied (os error 13)");
    },
  );
  refuses(
    {
      KAFKA_SASL_MECHANISM: "PLAIN",
      KAFKA_SASL_USERNAME: "vigil",
      KAFKA_SASL_PASSWORD_FILE: "/run/secrets/nope",
    },
    /^Cannot read KAFKA_SASL_PASSWORD_FILE=\/run\/secrets\/nope: no such file$/,
  );
});

/**
 * An error shaped as kafkajs 2.2.4 makes it (`src/errors.js`: a name, a message, a `type`
 * for protocol errors). kafkajs itself cannot load without permissions; the real errors
 * are met in tests/e2e/kafka_tls_test.ts.
 */
function kafkaError(name: string, message: string, fields: object = {}): Error {
  return Object.assign(new Error(message), { name }, fields);
}

/** A connection error after kafkajs's retries ran out, the last error as its cause. */
function retried(message: string, name = "KafkaJSConnectionError"): Error {
  return Object.assign(new Error(message, { cause: kafkaError(name, message) }), {
    name: "KafkaJSNumberOfRetriesExceeded",
  });
}

Deno.test("describeKafkaError() names the cause and the setting to check", () => {
  const c = {
    brokers: ["127.0.0.1:9093"],
    client_id: "vigil",
    sasl: { mechanism: "scram-sha-256" as const, username: "vigil", password: "pw" },
  };
  const cases: [unknown, RegExp][] = [
    [
      kafkaError(
        "KafkaJSSASLAuthenticationError",
        "SASL SCRAM SHA256 authentication failed: Authentication failed during authentication " +
          "due to invalid credentials with SASL mechanism SCRAM-SHA-256",
      ),
      /^Kafka refused the SCRAM-SHA-256 login of user "vigil": check KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD \(SASL SCRAM/,
    ],
    [
      retried("Connection error: self-signed certificate in certificate chain"),
      /^The broker's TLS certificate is not trusted: KAFKA_TLS_CA_FILE .*\(Connection error: self-signed/,
    ],
    [
      retried("Connection error: unable to get local issuer certificate"),
      /certificate is not trusted/,
    ],
    [
      retried("Connection error: received fatal alert: BadCertificate"),
      /^The broker refused the client certificate, or wants one: check the client certificate \(KAFKA_TLS_CERT_FILE/,
    ],
    [
      retried(
        "Connection error: Client network socket disconnected before secure TLS connection was established",
      ),
      /^The broker does not speak TLS there: check KAFKA_TLS/,
    ],
    [
      retried("Closed connection", "KafkaJSConnectionClosedError"),
      /^The broker closed the connection: does its listener want TLS \(KAFKA_TLS\)\? \(Closed/,
    ],
    [
      kafkaError("KafkaJSProtocolError", "Request is not valid given the current SASL state", {
        type: "ILLEGAL_SASL_STATE",
      }),
      /^The broker takes no SASL login there: check KAFKA_SASL_MECHANISM/,
    ],
    [
      retried("Connection error: connect ECONNREFUSED 127.0.0.1:9093"),
      /^No broker answers at 127\.0\.0\.1:9093: check KAFKA_BROKERS/,
    ],
    [new Error("something else"), /^Cannot reach Kafka at 127\.0\.0\.1:9093 \(something else\)$/],
  ];
  for (const [err, expected] of cases) {
    const text = describeKafkaError(err, c);
    assert.match(text, expected);
    assert.doesNotMatch(text, /pw/, "never the password");
  }
});

Deno.test("describeKafkaError() asks for what a closed connection may have wanted", () => {
  const closed = retried("Connection error: write after end");
  const said = (c: object) =>
    describeKafkaError(closed, { brokers: ["b:1"], client_id: "v", ...c });
  assert.match(
    said({ tls: {} }),
    /^The broker closed the connection: does its listener want a client certificate \(KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE\) or a SASL login \(KAFKA_SASL_MECHANISM\)\? \(Connection error: write after end\)$/,
  );
  assert.match(said({}), /want TLS \(KAFKA_TLS\) or a SASL login/);
  assert.match(
    said({
      tls: { cert: "c", key: "k" },
      sasl: { mechanism: "plain", username: "u", password: "p" },
    }),
    /^The broker closed the connection \(Connection error: write after end\)$/,
  );
  // The close lands between kafkajs's connect and its first request (CI saw it over mTLS).
  assert.match(
    describeKafkaError(retried("Not connected"), { brokers: ["b:1"], client_id: "v", tls: {} }),
    /^The broker closed the connection: does its listener want a client certificate \(KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE\)/,
  );
});

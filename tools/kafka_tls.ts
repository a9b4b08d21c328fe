/**
 * A test Kafka broker with authenticated and encrypted listeners, on loopback: a
 * `SASL_SSL` listener taking PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and an `SSL`
 * listener that requires a client certificate (mutual TLS). The certificates (a CA, the
 * broker's, a client's, and a second CA that signed none of them) are made with openssl
 * and keytool into a temporary folder when the broker starts; the SCRAM credentials are
 * written when its storage is formatted.
 *
 * Needs what `servers.ts` needs, and `openssl` and `keytool` on the PATH.
 *
 * @module
 */

import { run, type Server, startKafka } from "./servers.ts";

/** The password of the broker's keystore and truststore (test files only). */
const STORE_PASSWORD = "vigil-test-store";

/** Options of a secured test broker. */
export interface SecureKafkaOptions {
  /** The PLAINTEXT listener's port (the broker talks to itself there). */
  port: number;
  controller_port: number;
  sasl_ssl_port: number;
  /** The mutual-TLS listener's port. */
  mtls_port: number;
  /** A name for its data and log folder under `.cache/kafka/`. */
  name: string;
  /** The one user, known to every SASL mechanism. */
  username: string;
  password: string;
}

/** PEM files a client needs. */
export interface TestCertificates {
  /** The CA that signed the broker's and the client's certificates. */
  ca_file: string;
  /** A CA that signed nothing here (a client trusting only it refuses the broker). */
  other_ca_file: string;
  client_cert_file: string;
  client_key_file: string;
}

/** A running secured broker. */
export interface SecureKafka extends Server {
  /** `host:port` of the SASL_SSL listener. */
  readonly sasl_ssl: string;
  /** `host:port` of the SSL listener requiring a client certificate. */
  readonly mtls: string;
  readonly certificates: TestCertificates;
}

/** Starts a fresh broker with SASL_SSL and mutual-TLS listeners (and PLAINTEXT). */
export async function startSecureKafka(o: SecureKafkaOptions): Promise<SecureKafka> {
  const dir = await Deno.makeTempDir({ prefix: "vigil-kafka-tls-" });
  const certificates = await makeCertificates(dir);
  const scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  const server = await startKafka({
    port: o.port,
    controller_port: o.controller_port,
    name: o.name,
    listeners: {
      SASL_SSL: { protocol: "SASL_SSL", port: o.sasl_ssl_port },
      SSL: { protocol: "SSL", port: o.mtls_port },
    },
    properties: {
      "ssl.keystore.type": "PKCS12",
      "ssl.keystore.location": `${dir}/broker.p12`,
      "ssl.keystore.password": STORE_PASSWORD,
      "ssl.key.password": STORE_PASSWORD,
      "ssl.truststore.type": "PKCS12",
      "ssl.truststore.location": `${dir}/truststore.p12`,
      "ssl.truststore.password": STORE_PASSWORD,
      "listener.name.ssl.ssl.client.auth": "required",
      "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
      "listener.name.sasl_ssl.plain.sasl.jaas.config":
        "org.apache.kafka.common.security.plain.PlainLoginModule required " +
        `user_${o.username}="${o.password}";`,
      "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": scram,
      "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram,
    },
    format_args: ["SCRAM-SHA-256", "SCRAM-SHA-512"].flatMap((m) => [
      "--add-scram",
      `${m}=[name=${o.username},password=${o.password}]`,
    ]),
  });
  return {
    ...server,
    sasl_ssl: `127.0.0.1:${o.sasl_ssl_port}`,
    mtls: `127.0.0.1:${o.mtls_port}`,
    certificates,
    stop: async () => {
      await server.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * A CA, the broker's certificate for 127.0.0.1 and a client certificate (both signed by
 * it) as PEM, the broker's key pair in a PKCS12 keystore and the CA in a truststore; and
 * another CA. Files in `dir`.
 */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  const at = (name: string) => `${dir}/${name}`;
  for (const ca of ["ca", "other-ca"]) {
    await run("openssl", [
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"],
      ...["-keyout", at(`${ca}.key`), "-out", at(`${ca}.pem`), "-subj", `/CN=Vigil test ${ca}`],
      ...["-addext", "basicConstraints=critical,CA:TRUE"],
      ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
    ]);
  }
  const sign = async (name: string, subject: string, extensions: string) => {
    await Deno.writeTextFile(at(`${name}.ext`), extensions);
    await run("openssl", [
      ...["req", "-newkey", "rsa:2048", "-nodes", "-keyout", at(`${name}.key`)],
      ...["-out", at(`${name}.csr`), "-subj", subject],
    ]);
    await run("openssl", [
      ...["x509", "-req", "-in", at(`${name}.csr`), "-CA", at("ca.pem"), "-CAkey", at("ca.key")],
      ...["-CAcreateserial", "-days", "2", "-out", at(`${name}.pem`)],
      ...["-extfile", at(`${name}.ext`)],
    ]);
  };
  const leaf =
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n";
  await sign(
    "broker",
    "/CN=127.0.0.1",
    `${leaf}extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n`,
  );
  await sign("client", "/CN=vigil", `${leaf}extendedKeyUsage=clientAuth\n`);
  await run("openssl", [
    ...["pkcs12", "-export", "-in", at("broker.pem"), "-inkey", at("broker.key")],
    ...["-certfile", at("ca.pem"), "-name", "broker", "-out", at("broker.p12")],
    ...["-passout", `pass:${STORE_PASSWORD}`],
  ]);
  await run("keytool", [
    ...["-importcert", "-noprompt", "-alias", "ca", "-file", at("ca.pem")],
    ...["-keystore", at("truststore.p12"), "-storetype", "PKCS12", "-storepass", STORE_PASSWORD],
  ]);
  return {
    ca_file: at("ca.pem"),
    other_ca_file: at("other-ca.pem"),
    client_cert_file: at("client.pem"),
    client_key_file: at("client.key"),
  };
}

/**
 * Kafka over TLS and SASL, against a broker of this file's own (tools/kafka_tls.ts: a
 * SASL_SSL listener with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, and an SSL listener that
 * requires a client certificate). The log produces and consumes with each mechanism and
 * with mutual TLS; a refused login, an untrusted certificate and a missing client
 * certificate are each named. A worker given a wrong password (or the wrong CA) stays up,
 * not ready, says why once and keeps retrying; restarted with the right password it
 * raises the alerts of every event produced before and meanwhile. No secret is logged,
 * and `main.ts config` shows none.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { Topics } from "../../events/topics.ts";
import { type KafkaConnection, kafkaConnection } from "../../io/kafka_connection.ts";
import { kafkaClient, KafkaLog } from "../../io/kafka_log.ts";
import type { Batch } from "../../io/log.ts";
import { type SecureKafka, startSecureKafka } from "../../tools/kafka_tls.ts";
import { unique } from "../integration/servers.ts";
import { alertsOnTopic } from "./drill.ts";
import { get, startWorker, until, type Worker } from "./workers.ts";

const PASSWORD = "vigil-sasl-pw-7f3a";
const WRONG = "not-the-password-91c2";
const ROOT = new URL("../../", import.meta.url).pathname;

/** The environment of a client of the SASL_SSL listener (the usual short names). */
function saslEnv(k: SecureKafka, mechanism: string, password = PASSWORD): Record<string, string> {
  return {
    KAFKA_BROKERS: k.sasl_ssl,
    KAFKA_TLS: "true",
    KAFKA_TLS_CA_FILE: k.certificates.ca_file,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_USERNAME: "vigil",
    KAFKA_SASL_PASSWORD: password,
  };
}

/** The connection an environment describes, read as a worker reads it. */
const connectionOf = (env: Record<string, string>): KafkaConnection =>
  kafkaConnection(loadConfig(env).io);

/** Produces ten keyed records to a fresh topic and reads them back in a fresh group. */
async function roundTrip(c: KafkaConnection): Promise<void> {
  const log = new KafkaLog(c);
  const topic = unique("tls");
  try {
    await log.ensureTopics([topic], 2);
    const sent = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    await log.produce(topic, sent);
    const seen: string[] = [];
    const consumer = log.consume({
      group: unique("g"),
      topics: [topic],
      max_batch: 100,
      handler: (b: Batch) => {
        seen.push(...b.records.map((r) => r.value));
        return Promise.resolve();
      },
    });
    await until("ten records", () => Promise.resolve(seen.length >= 10 || undefined), 30_000);
    await consumer.stop();
    assert.deepEqual([...new Set(seen)].sort(), sent.map((m) => m.value).sort());
  } finally {
    await log.close();
  }
}

/** How `ensureTopics` fails for this connection (it must, within seconds). */
async function refusal(c: KafkaConnection): Promise<string> {
  const log = new KafkaLog(c);
  const t = Date.now();
  try {
    await log.ensureTopics([unique("never")], 1);
  } catch (err) {
    assert.equal((err as Error).name, "KafkaConnectError");
    assert.ok(Date.now() - t < 15_000, `said after ${Date.now() - t} ms`);
    return (err as Error).message;
  } finally {
    await log.close();
  }
  throw new Error("ensureTopics() went through");
}

/** Five failed logins of `user`, two seconds apart, a minute ago. */
function bruteForce(user: string): { key: string; value: string }[] {
  const t0 = Date.now() - 60_000;
  return [0, 1, 2, 3, 4].map((i) => ({
    key: user,
    value: JSON.stringify({
      type: "login_failure",
      user_id: user,
      ip: "198.51.100.23",
      timestamp: new Date(t0 + i * 2_000).toISOString(),
    }),
  }));
}

/** Waits until a worker's stderr matches, and returns that line. */
function saysLine(w: Worker, pattern: RegExp): Promise<string> {
  return until(
    `a log line matching ${pattern}`,
    () => Promise.resolve(w.said().split("\n").find((line) => pattern.test(line))),
    60_000,
  );
}

/** A worker's /ready answer. */
async function readiness(w: Worker): Promise<{ status: number; reasons: string[] }> {
  const r = await get(`http://127.0.0.1:${w.port}/ready`);
  if (!r) return { status: 0, reasons: [] };
  return { status: r.status, reasons: JSON.parse(r.text).reasons };
}

Deno.test({
  name: "Kafka over SASL_SSL and mutual TLS: every mechanism, named refusals, no lost event",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const k = await startSecureKafka({
      port: 41310,
      controller_port: 41311,
      sasl_ssl_port: 41312,
      mtls_port: 41313,
      name: "tls-test",
      username: "vigil",
      password: PASSWORD,
    });
    const certs = k.certificates;
    const workers: Worker[] = [];
    try {
      await t.step("the log produces and consumes with each SASL mechanism", async () => {
        for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
          await roundTrip(connectionOf(saslEnv(k, mechanism)));
        }
      });

      await t.step("the log produces and consumes over mutual TLS", async () => {
        await roundTrip(connectionOf({
          KAFKA_BROKERS: k.mtls,
          KAFKA_TLS_CA_FILE: certs.ca_file,
          KAFKA_TLS_CERT_FILE: certs.client_cert_file,
          KAFKA_TLS_KEY_FILE: certs.client_key_file,
        }));
      });

      await t.step("a refused login, an untrusted CA, a missing client certificate", async () => {
        for (const mechanism of ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]) {
          const said = await refusal(connectionOf(saslEnv(k, mechanism, WRONG)));
          assert.match(said, new RegExp(`^Kafka refused the ${mechanism} login of user "vigil"`));
          assert.ok(!said.includes(WRONG), said);
        }
        const untrusted = await refusal(
          connectionOf({ ...saslEnv(k, "PLAIN"), KAFKA_TLS_CA_FILE: certs.other_ca_file }),
        );
        assert.match(untrusted, /^The broker's TLS certificate is not trusted: KAFKA_TLS_CA_FILE/);
        const noCert = await refusal(
          connectionOf({ KAFKA_BROKERS: k.mtls, KAFKA_TLS_CA_FILE: certs.ca_file }),
        );
        // The broker's alert, or (TLS 1.3 lets the client write first) the closed connection.
        assert.match(noCert, /client certificate \(KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE\)/);
      });

      await t.step(
        "a worker with a wrong password or CA waits; fixed, it loses nothing",
        async () => {
          const prefix = `${unique("tls")}.`;
          const topics = new Topics(prefix);
          const base: Record<string, string> = {
            ...saslEnv(k, "SCRAM-SHA-256"),
            VIGIL_IO_TOPIC_PREFIX: prefix,
            VIGIL_IO_KAFKA_GROUP: unique("workers"),
            VIGIL_RUNTIME_PARTITIONS: "2",
            VIGIL_IO_KAFKA_CONNECT_BACKOFF_MIN_MS: "200",
            VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS: "1000",
          };
          const conn = connectionOf(base);
          // The topics are made by hand: the worker cannot make them with a wrong password.
          const admin = new KafkaLog(conn);
          await admin.ensureTopics(topics.all, 2);
          const before = unique("before");
          const during = unique("during");
          await admin.produce(topics.of("auth"), bruteForce(before));

          const wrong = startWorker({ ...base, KAFKA_SASL_PASSWORD: WRONG });
          const untrusted = startWorker({ ...base, KAFKA_TLS_CA_FILE: certs.other_ca_file });
          workers.push(wrong, untrusted);
          const refused = await saysLine(wrong, /Cannot reach Kafka/);
          assert.match(refused, /Kafka refused the SCRAM-SHA-256 login of user \\"vigil\\"/);
          const notTrusted = await saysLine(untrusted, /Cannot reach Kafka/);
          assert.match(notTrusted, /The broker's TLS certificate is not trusted/);
          await admin.produce(topics.of("auth"), bruteForce(during));
          // Still up, not ready, retrying with backoff; said once, not on every attempt.
          for (
            const [w, cause] of [[wrong, /Kafka refused/], [untrusted, /not trusted/]] as const
          ) {
            const r = await until("three attempts", async () => {
              const r = await readiness(w);
              return /\((?:[3-9]|\d\d+) attempts/.test(r.reasons[0] ?? "") ? r : undefined;
            }, 30_000);
            assert.equal(r.status, 503);
            assert.match(r.reasons[0]!, /^cannot reach Kafka \(\d+ attempts, retrying\): /);
            assert.match(r.reasons[0]!, cause);
            assert.equal(w.said().match(/Cannot reach Kafka/g)?.length, 1, w.said());
          }
          assert.equal(await wrong.stop(), 0, "stops cleanly while retrying");
          assert.equal(await untrusted.stop(), 0);

          // The right password, from a file this time.
          const secretFile = await Deno.makeTempFile();
          await Deno.writeTextFile(secretFile, `${PASSWORD}\n`);
          const fromFile: Record<string, string> = {
            ...base,
            KAFKA_SASL_PASSWORD_FILE: secretFile,
          };
          delete fromFile.KAFKA_SASL_PASSWORD;
          const fixed = startWorker(fromFile);
          workers.push(fixed);
          await until("the fixed worker ready", async () => {
            return (await readiness(fixed)).status === 200 || undefined;
          }, 60_000);
          const alerts = await alertsOnTopic(
            kafkaClient(conn),
            topics.alerts,
            (seen) => seen.size >= 2,
            60_000,
          );
          const raised = [...alerts.values()].map((text) => JSON.parse(text))
            .map((a) => `${a.rule} ${a.entity.key} ${a.event_ids.length}`).sort();
          assert.deepEqual(
            raised,
            [`auth.brute_force ${before} 5`, `auth.brute_force ${during} 5`].sort(),
          );
          assert.equal(await fixed.stop(), 0);
          await admin.close();
          await Deno.remove(secretFile);
          for (const w of workers) {
            const text = await w.log;
            for (const secret of [PASSWORD, WRONG]) assert.ok(!text.includes(secret), "logged");
          }
        },
      );

      await t.step("main.ts config shows no secret", async () => {
        const out = await new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-env", "--allow-read", "main.ts", "config"],
          cwd: ROOT,
          env: {
            ...saslEnv(k, "SCRAM-SHA-512"),
            MONGODB_URI: "mongodb://vigil:mongo-pw-5d1e@db:27017/vigil?tls=true",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(out.stdout);
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        assert.ok(!text.includes(PASSWORD) && !text.includes("mongo-pw-5d1e"), text);
        assert.match(text, /^VIGIL_IO_KAFKA_SASL_PASSWORD=\*\*\*$/m);
        assert.match(text, /^VIGIL_IO_KAFKA_SASL_MECHANISM=SCRAM-SHA-512$/m);
        assert.match(
          text,
          /^VIGIL_IO_MONGODB_URI=mongodb:\/\/vigil:\*\*\*@db:27017\/vigil\?tls=true$/m,
        );
      });
    } finally {
      await Promise.all(workers.map((w) => w.crash()));
      await k.stop();
    }
  },
});

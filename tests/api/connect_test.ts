/**
 * A system whose log cannot be reached at start (Kafka refusing the login, say): it stays
 * up and not ready, says why on /ready, and tries again with a doubling, bounded backoff;
 * and its API never answers with a configured secret. In memory, no permission at all.
 *
 * @module
 */

import assert from "node:assert/strict";
import { loadConfig } from "../../config/load.ts";
import { VigilSystem } from "../../engine/system.ts";
import { MemoryLog } from "../../io/memory_log.ts";
import { appOf } from "../../api/system_app.ts";

const TOKEN = "test-token";
const REFUSED = 'Kafka refused the SCRAM-SHA-256 login of user "vigil": check the password';

/** An embedded log that fails to create topics the first `failures` times. */
class RefusingLog extends MemoryLog {
  attempts: number[] = [];
  constructor(public failures: number) {
    super();
  }
  override ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    this.attempts.push(performance.now());
    if (this.attempts.length <= this.failures) return Promise.reject(new Error(REFUSED));
    return super.ensureTopics(topics, partitions);
  }
}

async function ready(system: VigilSystem): Promise<{ status: number; reasons: string[] }> {
  const res = await appOf(system).request("/ready");
  return { status: res.status, reasons: (await res.json()).reasons };
}

Deno.test("start() retries a log it cannot reach with a doubling backoff up to its ceiling", async () => {
  const config = loadConfig({
    VIGIL_IO_KAFKA_CONNECT_BACKOFF_MIN_MS: "50",
    VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS: "200",
  });
  const log = new RefusingLog(5);
  const system = new VigilSystem({ config, token: TOKEN, log });
  try {
    const starting = system.start({ simulate: false });
    while (log.attempts.length < 2) await new Promise((r) => setTimeout(r, 5));
    const waiting = await ready(system);
    assert.equal(waiting.status, 503);
    assert.match(
      waiting.reasons[0]!,
      /^cannot reach Kafka \(\d attempts, retrying\): Kafka refused/,
    );
    await starting;
    assert.equal(log.attempts.length, 6, "five failures, then it went through");
    const gaps = log.attempts.slice(1).map((t, i) => t - log.attempts[i]!);
    // Doubling from 50 ms, held at 200 (where it would otherwise go on to 400 and 800).
    [50, 100, 200, 200, 200].forEach((wanted, i) => {
      assert.ok(gaps[i]! >= wanted - 2 && gaps[i]! < wanted + 150, `gap ${i}: ${gaps.join(", ")}`);
    });
    assert.deepEqual(await ready(system), { status: 200, reasons: [] });
  } finally {
    await system.stop();
  }
});

Deno.test("stop() ends start()'s retries at once, without consuming", async () => {
  const config = loadConfig({
    VIGIL_IO_KAFKA_CONNECT_BACKOFF_MIN_MS: "60000",
    VIGIL_IO_KAFKA_CONNECT_BACKOFF_MAX_MS: "60000",
  });
  const log = new RefusingLog(Infinity);
  const system = new VigilSystem({ config, token: TOKEN, log });
  const starting = system.start({ simulate: false });
  while (log.attempts.length < 1) await new Promise((r) => setTimeout(r, 5));
  const t = performance.now();
  await system.stop();
  await starting;
  assert.ok(performance.now() - t < 1_000, "not after the minute's backoff");
  assert.equal(log.attempts.length, 1);
  assert.ok((await ready(system)).reasons.includes("not consuming yet"));
});

Deno.test("no API answer holds a configured secret", async () => {
  const secrets = ["kafka-pw-1", "mongo-pw-2", "hmac-key-3", "slack-token-4"];
  const config = loadConfig({
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: "vigil",
    KAFKA_SASL_PASSWORD: secrets[0],
    VIGIL_IO_MONGODB_URI: `mongodb://vigil:${secrets[1]}@db:27017/vigil?tls=true`,
    VIGIL_NOTIFY_WEBHOOK_SECRET: secrets[2],
    VIGIL_NOTIFY_SLACK_URL: `https://hooks.slack.com/services/T0/B0/${secrets[3]}`,
  });
  // The embedded log and store: the secrets are in its configuration only.
  const system = new VigilSystem({ config, token: TOKEN });
  await system.start({ simulate: false });
  try {
    const paths = [
      "/health",
      "/ready",
      "/metrics",
      "/openapi.json",
      "/docs",
      "/api/v1/alerts",
      "/api/v1/actors",
      "/api/v1/cluster",
      "/api/v1/archive",
      "/api/v1/dead-letters",
      "/api/v1/models",
      "/api/v1/rules",
      "/api/v1/rules/auth.brute_force",
    ];
    for (const path of paths) {
      const res = await appOf(system).request(path, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      const text = await res.text();
      assert.ok(res.status < 500, `${path}: ${res.status}`);
      for (const s of secrets) assert.ok(!text.includes(s), `${path} shows ${s}`);
    }
  } finally {
    await system.stop();
  }
});

/**
 * `deno task start` on the real Kafka and MongoDB wire-protocol servers: events produced
 * by hand with a standard Kafka client (kafkajs) come out as alerts on the `alerts` topic
 * and in MongoDB; poison messages (invalid JSON, missing fields, wrong types, a 5 MB
 * value) land in the `dead-letters` topic and store with a reason, and the stream goes on.
 *
 * @module
 */

import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import { kafkaClient } from "../../io/kafka_log.ts";
import { MongoStore } from "../../io/mongo_store.ts";
import { kafkaBrokers, mongoUri, unique } from "../integration/servers.ts";
import { collect, freePort } from "./workers.ts";

const ROOT = new URL("../../", import.meta.url);

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

Deno.test({
  name:
    "deno task start on Kafka and MongoDB: hand-produced events give alerts; poison is dead-lettered",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const port = freePort();
    const database = unique("e2e");
    const prefix = `${unique("e2e")}.`;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["task", "start"],
      cwd: ROOT,
      env: {
        PORT: String(port),
        ADMIN_TOKEN: "tok",
        KAFKA_BROKERS: kafkaBrokers(),
        MONGODB_URI: mongoUri(),
        VIGIL_IO_MONGODB_DATABASE: database,
        VIGIL_IO_TOPIC_PREFIX: prefix,
        VIGIL_IO_KAFKA_GROUP: unique("group"),
        VIGIL_SIMULATOR_ENABLED: "false",
        VIGIL_IO_ARCHIVE_RAW_EVENTS: "true",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = collect(child.stderr);
    const kafka = kafkaClient({ client_id: "by-hand", brokers: [kafkaBrokers()] });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const store = await MongoStore.connect({
      uri: mongoUri(),
      database,
      timeout_ms: 5_000,
      dead_letter_retention_s: 3600,
    });
    try {
      await until("/ready", async () => {
        const r = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => null);
        const ok = r?.status === 200;
        await r?.body?.cancel();
        return ok ? true : undefined;
      });
      await producer.connect();
      const user = unique("victim");
      const t0 = Date.now() - 60_000;
      const failure = (i: number) =>
        JSON.stringify({
          type: "login_failure",
          user_id: user,
          ip: "198.51.100.23",
          timestamp: new Date(t0 + i * 2_000).toISOString(),
        });
      await producer.send({
        topic: `${prefix}auth-events`,
        messages: [
          { key: user, value: failure(0) },
          { key: user, value: "{this is not json" },
          {
            key: user,
            value: JSON.stringify({ type: "login_failure", ip: "1.2.3.4", timestamp: t0 }),
          },
          {
            key: user,
            value: JSON.stringify({ type: "login_failure", user_id: user, ip: 7, timestamp: t0 }),
          },
          {
            key: user,
            value: JSON.stringify({
              type: "logout",
              user_id: user,
              pad: "x".repeat(5_000_000),
              timestamp: t0,
            }),
          },
          ...[1, 2, 3, 4, 5].map((i) => ({ key: user, value: failure(i) })),
        ],
      });

      const alerts = await until("the alert in MongoDB", async () => {
        const a = await store.findAlerts({ limit: 10, entity_key: user });
        return a.length > 0 ? a : undefined;
      });
      assert.equal(alerts.length, 1);
      assert.equal(alerts[0]!.rule, "auth.brute_force");
      assert.equal(alerts[0]!.event_ids.length, 5);

      // Poison on every other input topic too.
      const poison: Record<string, [string, RegExp]> = {
        "transactions": [
          JSON.stringify({
            user_id: user,
            account_id: "a1",
            type: "transfer",
            amount: -5,
            currency: "EUR",
            timestamp: t0,
          }),
          /"amount" must be a number greater than 0/,
        ],
        "network-flows": [
          JSON.stringify({ src_ip: "10.0.0.1", dst_ip: "10.0.0.2", timestamp: t0 }),
          /"features" must be/,
        ],
        "clickstream": ["<html>not json</html>", /not valid JSON/],
        "service-logs": [
          JSON.stringify({ service: "api", level: "LOUD", message: "x", timestamp: t0 }),
          /"level" must be/,
        ],
        "service-metrics": [JSON.stringify({ cpu: 50, timestamp: t0 }), /"service" is missing/],
      };
      for (const [topic, [value]] of Object.entries(poison)) {
        await producer.send({ topic: prefix + topic, messages: [{ key: user, value }] });
      }
      const dead = await until("nine dead letters", async () => {
        const d = await store.findDeadLetters(50);
        return d.length >= 9 ? d : undefined;
      });
      const reasons = dead.map((d) => d.reason).join("\n");
      assert.match(reasons, /not valid JSON/);
      assert.match(reasons, /"user_id" is missing/);
      assert.match(reasons, /"ip" must be a non-empty string/);
      assert.match(reasons, /exceeds the limit/);
      for (const [topic, [, why]] of Object.entries(poison)) {
        const letter = dead.find((d) => d.source.startsWith(`${prefix}${topic}/`));
        assert.ok(letter, `a dead letter from ${topic}`);
        assert.match(letter.reason, why, topic);
      }
      for (const d of dead) assert.ok(d.source.startsWith(prefix), d.source);

      // The raw archive holds the valid events as they arrived, once each.
      const archived = await fetch(`http://127.0.0.1:${port}/api/v1/archive?limit=100`, {
        headers: { authorization: "Bearer tok" },
      }).then((r) => r.json());
      const mine = archived.events.filter((e: { raw: { user_id?: string } }) =>
        e.raw.user_id === user
      );
      assert.equal(mine.length, 6, "the six valid failures, not the poison");
      assert.equal(new Set(mine.map((e: { event_id: string }) => e.event_id)).size, 6);

      // The topics carry the same: read them as any Kafka client would.
      const consumer = kafka.consumer({ groupId: unique("reader") });
      await consumer.connect();
      await consumer.subscribe({
        topics: [`${prefix}alerts`, `${prefix}dead-letters`],
        fromBeginning: true,
      });
      const onTopics = { alerts: [] as string[], dead: 0 };
      await consumer.run({
        eachMessage: ({ topic, message }) => {
          if (topic === `${prefix}alerts`) onTopics.alerts.push(message.key?.toString() ?? "");
          if (topic === `${prefix}dead-letters`) onTopics.dead++;
          return Promise.resolve();
        },
      });
      try {
        await until(
          "the alert and nine dead letters on the topics",
          () =>
            Promise.resolve(onTopics.alerts.length > 0 && onTopics.dead >= 9 ? true : undefined),
        );
      } finally {
        await consumer.disconnect();
      }
      assert.equal(onTopics.dead, 9);
      assert.deepEqual(onTopics.alerts, [user], "keyed by the entity key");

      child.kill("SIGTERM");
      const status = await child.status;
      assert.equal(status.code, 0);
      assert.match(await stderr, /Stopped cleanly/);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
      await stderr;
      await producer.disconnect();
      await store.close();
    }
  },
});

/**
 * Property-based test (fast-check, fixed seed) of records a producer writes straight to the
 * topics a worker consumes, as anyone who may write to Kafka can: hostile events on the
 * input topics (with or without their kind), and hostile records on the internal re-key and
 * signals topics. A real `VigilSystem` consumes them from its embedded log through the
 * handler the Kafka consumer calls. Every record is consumed and committed (no batch
 * fails, which Kafka would hand over again for ever); every input record is an event or
 * a dead letter with its reason; no actor's turn fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { PAGE } from "../../actors/page.ts";
import { SERVICE } from "../../actors/service.ts";
import { SOURCE } from "../../actors/source.ts";
import { IP } from "../../actors/ip.ts";
import { USER } from "../../actors/user.ts";
import type { VigilSystem } from "../../engine/system.ts";
import type { Topics } from "../../events/topics.ts";
import { TOPIC_OF_KIND } from "../../events/validate.ts";
import { MemoryLog } from "../../io/memory_log.ts";
import { DEEPEST, hostileLine, hostileValue, PROTOTYPE_NAMES, REFUSED } from "../unit/hostile.ts";
import { metricSum, request, waitFor, withSystem } from "./system.ts";

const MINUTE = 60_000;
const q = JSON.stringify;

const isKind = (k: string): k is keyof typeof TOPIC_OF_KIND => Object.hasOwn(TOPIC_OF_KIND, k);

/**
 * The JSON text of a field's value: mostly `right`, now and then one of `others` (written
 * as JSON) or a hostile value.
 */
const either = (right: string, others: readonly unknown[] = []) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant(right) },
    ...(others.length > 0 ? [{ weight: 1, arbitrary: fc.constantFrom(...others).map(q) }] : []),
    { weight: 1, arbitrary: hostileValue },
  );

/** A value no template string can write (its toString is no function). */
const UNPRINTABLE = { toString: 1 };

/** Stands for the next source offset of a re-keyed attempt (written when it is produced). */
const NEXT_OFFSET = "@o";

/**
 * An event on an input topic: mostly its kind's, its kind left to the topic now and then;
 * now and then another kind's topic.
 */
const inputRecord = (topics: Topics, ts: number) =>
  fc.tuple(hostileLine(ts, 0), fc.boolean(), fc.constantFrom(...topics.inputs), fc.nat(7)).map(
    ([line, strip, other, n]) => {
      const kind = /^\{"kind":"([a-z]+)",/.exec(line)?.[1];
      const topic = kind !== undefined && n > 0 && isKind(kind) ? topics.of(kind) : other;
      return [topic, strip ? line.replace(/^\{"kind":"[a-z]+",/, "{") : line] as const;
    },
  );

/** A record of the re-key topic: login attempts for the actors of IPs, or not. */
const rekeyValue = (ts: number) => {
  const attempt = fc.tuple(
    either(String(ts), ["1970", UNPRINTABLE]),
    either(NEXT_OFFSET, [-2, 1.5, 2 ** 53, UNPRINTABLE]),
    fc.nat(20).chain((n) => hostileLine(ts, n, ["auth"])),
  ).map(([at, o, e]) => `{"o":${o},"ts":${at},"e":${e}}`);
  const source = either("0", [-1, 1e6, "0", UNPRINTABLE]);
  const entries = fc.oneof(
    { weight: 4, arbitrary: fc.array(attempt, { maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.array(fc.oneof(hostileValue, fc.constantFrom(...DEEPEST)), { maxLength: 2 }),
    },
  );
  const record = fc.tuple(source, entries).chain(([p, r]) => {
    const bundle = `{"p":${p},"r":[${r.join(",")}]}`;
    // The form of one attempt, `{p, o, ts, e}`.
    return fc.constantFrom(bundle, r[0]?.startsWith("{") ? `{"p":${p},${r[0].slice(1)}` : bundle);
  });
  return fc.oneof({ weight: 5, arbitrary: record }, { weight: 1, arbitrary: hostileValue });
};

/** A record of the signals topic: a message for an actor, or not. */
const signalValue = (ts: number) => {
  const message = fc.tuple(
    either(q("targeted"), ["event", "judge", "session_idle", "login_risk", ...PROTOTYPE_NAMES]),
    either(q("ip.password_spray"), ["ip.credential_stuffing", "user.brute_force"]),
    either(q("203.0.113.9"), [null, ""]),
    either(q("1"), ["x".repeat(257)]),
    either(String(ts), [-1e300, "1970"]),
  ).map(([k, rule, ip, episode, at]) =>
    `{"kind":${k},"rule":${rule},"ip":${ip},"episode":${episode},"ts":${at}}`
  );
  return fc.tuple(
    either(q(USER), [IP, SOURCE, SERVICE, PAGE, ...PROTOTYPE_NAMES]),
    fc.nat(6).chain((n) => either(q(`u${n}`), ["", "k".repeat(257), ...PROTOTYPE_NAMES])),
    fc.oneof({ weight: 4, arbitrary: message }, { weight: 1, arbitrary: hostileValue }),
  ).map(([t, key, m]) => `{"to":{"type":${t},"key":${key}},"m":${m}}`);
};

/** Waits until the group has committed every record of every topic it consumes. */
function allCommitted(system: VigilSystem, log: MemoryLog): Promise<true> {
  const group = system.config.io.kafka_group;
  return waitFor("every record committed", () => {
    for (const topic of system.topics.consumed) {
      for (let p = 0; p < system.config.runtime.partitions; p++) {
        const records = log.records(topic, p);
        const end = records.length === 0 ? 0 : records[records.length - 1]!.offset + 1;
        if (log.committed(group, topic, p) < end) return Promise.resolve(undefined);
      }
    }
    return Promise.resolve(true as const);
  });
}

Deno.test("Hostile records on every topic a worker consumes are consumed and committed; each input record is an event or a dead letter with a reason; no actor fails", async () => {
  await withSystem(async (system) => {
    const log = system.log;
    assert.ok(log instanceof MemoryLog);
    const { rekeyIp, signals } = system.topics;
    const t0 = Date.now() - 10 * MINUTE;
    const partitions = system.config.runtime.partitions;
    const record = fc.nat(600).chain((n) => {
      const ts = t0 + n * 1_000;
      return fc.tuple(
        fc.oneof(
          { weight: 4, arbitrary: inputRecord(system.topics, ts) },
          { weight: 1, arbitrary: fc.tuple(fc.constant(rekeyIp), rekeyValue(ts)) },
          { weight: 1, arbitrary: fc.tuple(fc.constant(signals), signalValue(ts)) },
        ),
        fc.nat(partitions - 1),
      );
    });
    let inputRecords = 0, refusedInputs = 0, ingested = 0, runs = 0, offset = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 8 }), async (records) => {
        runs++;
        const before = metricSum(
          (await request(system, "/metrics")).text,
          "vigil_events_ingested_total",
        );
        for (const [[topic, value], partition] of records) {
          const written = value.replaceAll(NEXT_OFFSET, () => String(++offset));
          await log.produce(topic, [{ key: null, value: written, partition }]);
        }
        await allCommitted(system, log);
        await system.whenIdle();
        await system.outbox.flush();
        const letters = await system.store.takeDeadLetters(Infinity);
        for (const d of letters) {
          assert.ok(d.reason.length > 0, `a reason: ${d.source}`);
          assert.ok(REFUSED.has(d.category!), `${d.source}: ${d.category}: ${d.reason}`);
        }
        // Every record of an input topic is an event taken in, or refused with its reason.
        const inputs = records.filter(([[topic]]) => topic !== rekeyIp && topic !== signals);
        const refused = letters.filter((d) =>
          (d.category === "invalid" || d.category === "oversized") &&
          !d.source.startsWith(`${rekeyIp}/`) && !d.source.startsWith(`${signals}/`)
        ).length;
        const after = metricSum(
          (await request(system, "/metrics")).text,
          "vigil_events_ingested_total",
        );
        assert.equal(after - before + refused, inputs.length, "taken in or refused");
        inputRecords += inputs.length;
        refusedInputs += refused;
        ingested += after - before;
        assert.equal(system.runtime.stats().quarantined, 0);
      }),
      { seed: 45, numRuns: 150, endOnFailure: true },
    );
    // The records were hostile and plain both: some of each kind of outcome.
    assert.equal(runs, 150);
    assert.ok(ingested > 100 && refusedInputs > 100, `${ingested} taken, ${refusedInputs} refused`);
    assert.equal(ingested + refusedInputs, inputRecords);
    const metrics = (await request(system, "/metrics")).text;
    for (const reason of ["failed", "quarantined", "stopped"]) {
      assert.equal(metricSum(metrics, "vigil_dead_letters_total", `reason="${reason}"`), 0, reason);
    }
    const stats = system.runtime.stats();
    assert.equal(stats.partition_restarts, 0);
    // Right records went through every path: attempts to the IPs' actors, words to users.
    assert.ok((stats.resident[IP] ?? 0) > 0, "IP actors were told of attempts");
    let told = 0;
    for (let n = 0; n <= 6; n++) {
      const user = await system.runtime.stateOf(USER, `u${n}`) as { attacked_by?: unknown[] };
      told += user?.attacked_by?.length ?? 0;
    }
    assert.ok(told > 0, "users were told they were targeted");
    assert.equal((await request(system, "/health")).status, 200);
  }, (config) => {
    config.max_event_bytes = 65_536; // some of the huge values are then oversized
  });
});

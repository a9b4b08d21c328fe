/**
 * Property-based tests (fast-check, fixed seed) of hostile input through validation, the
 * intake and the actors: prototype names as keys and values, huge strings, deep nesting,
 * odd numbers, arrays where objects belong. Nothing throws; every rejection has a reason;
 * an accepted event is bounded and safe downstream, and the turns of the actors it
 * reaches never fail.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { type Config, defaults, type InputLimits } from "../../config/defaults.ts";
import { linesOf, replay, Run } from "../../engine/replay.ts";
import { routeOf } from "../../actors/route.ts";
import type { VigilEvent } from "../../events/types.ts";
import { parseEvent, TOPIC_OF_KIND } from "../../events/validate.ts";
import { checkReplay, hostileLine, hostileLines, hostileValue, KINDS, REFUSED } from "./hostile.ts";

const T0 = Date.UTC(2026, 0, 5, 9);

/** Checks that an accepted event is within the bounds, in every field an actor reads. */
function checkBounded(e: VigilEvent, lim: InputLimits): void {
  // Safe for everything recursive downstream (a checkpoint, a worker thread, a reason).
  assert.doesNotThrow(() => JSON.stringify(e.raw));
  assert.doesNotThrow(() => structuredClone(e.raw));
  const to = routeOf(e)!;
  assert.ok(to.key.length > 0 && to.key.length <= lim.max_key_chars, to.key.slice(0, 80));
  assert.ok(e.ts >= lim.min_timestamp_ms && e.ts <= lim.max_timestamp_ms);
  assert.doesNotThrow(() => new Date(e.ts).toISOString());
  // Every id, key and number the event's type names (what actors keep in their state).
  for (const [name, v] of Object.entries(e)) {
    if (typeof v === "string") assert.ok(v.length <= lim.max_key_chars, `${name}: ${v.length}`);
    if (typeof v === "number") assert.ok(Number.isFinite(v), `${name}: ${v}`);
  }
  if (e.kind === "auth") {
    assert.ok(e.lat === undefined || (e.lat >= -90 && e.lat <= 90), `lat ${e.lat}`);
    assert.ok(e.lon === undefined || (e.lon >= -180 && e.lon <= 180), `lon ${e.lon}`);
  }
  if (e.kind === "transaction") assert.ok(e.amount > 0 && e.amount <= lim.max_amount);
  if (e.kind === "metric") {
    // Its numbers, but for its time and its ids (a service may be named by a number).
    for (const [name, v] of Object.entries(e.raw)) {
      if (typeof v === "number" && !["timestamp", "event_id", "service"].includes(name)) {
        assert.ok(Math.abs(v) <= lim.max_metric_abs, `${name}: ${v}`);
      }
    }
  }
  if (e.kind === "log") assert.ok(String(e.raw.message).length <= lim.max_text_chars);
}

Deno.test("parseEvent() never throws on hostile input: it accepts a bounded event or gives a reason", () => {
  const lim = defaults.input;
  let accepted = 0;
  const reasons = new Set<string>();
  fc.assert(
    // Now and then with the kind a Kafka topic implies (an event of another kind is refused).
    fc.property(
      hostileLine(T0, 0),
      fc.option(fc.constantFrom(...KINDS), { freq: 2 }),
      (text, implied) => {
        const parsed = parseEvent(text, implied === null ? {} : { kind: implied });
        if (!parsed.ok) {
          assert.match(parsed.reason, /^Cannot (accept|parse) event/);
          assert.ok(parsed.reason.length < 400, parsed.reason);
          reasons.add(parsed.reason.replace(/"[^"]*"|-?\d[\d.e+-]*/g, "_"));
          return;
        }
        accepted++;
        checkBounded(parsed.event, lim);
      },
    ),
    { seed: 42, numRuns: 5_000 },
  );
  // Hostile and plain both: many events taken, refused for many different reasons.
  assert.ok(accepted > 250, `${accepted} accepted`);
  assert.ok(reasons.size > 20, `${reasons.size} kinds of reason`);
});

Deno.test("replay() of hostile lines ends, refusing each bad line with a reason; no actor's turn fails", async () => {
  let events = 0, invalid = 0;
  await fc.assert(
    fc.asyncProperty(hostileLines(T0, 24), async (lines) => {
      const r = await replay(linesOf(lines.join("\n")), structuredClone(defaults) as Config);
      checkReplay(lines, r);
      events += r.events;
      invalid += r.invalid;
    }),
    { seed: 7, numRuns: 60 },
  );
  assert.ok(events > 500 && invalid > 200, `${events} events, ${invalid} refused`);
});

Deno.test("The intake takes batches of hostile records as a Kafka consumer hands them (kind from the topic, time from the record) without throwing; no actor's turn fails", async () => {
  const config = structuredClone(defaults) as Config;
  // A record's time as a broker gives it, or not: a number, but any number.
  const recordTime = fc.oneof(
    { weight: 4, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: hostileValue.map((v) => Number(v)) },
  );
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...KINDS),
      fc.array(fc.tuple(hostileLine(T0, 0), fc.boolean(), recordTime), {
        minLength: 1,
        maxLength: 16,
      }),
      async (kind, records) => {
        const run = new Run(config, null);
        run.clock.advanceTo(T0 + 60_000);
        const topic = TOPIC_OF_KIND[kind];
        await run.intake.handleBatch({
          topic,
          partition: 0,
          records: records.map(([line, strip, time], offset) => ({
            topic,
            partition: 0,
            offset,
            key: null,
            // Some producers leave the kind to the topic (and a line may name another).
            value: strip ? line.replace(/^\{"kind":"[a-z]+",/, "{") : line,
            timestamp: time === 0 ? T0 + offset : time,
          })),
        });
        run.runtime.endOfInput();
        await run.runtime.whenIdle();
        await run.outbox.flush();
        assert.equal(run.counts.ingested_events + run.counts.invalid_events, records.length);
        const letters = await run.store.findDeadLetters(1_000);
        assert.ok(letters.length >= run.counts.invalid_events, "a dead letter for each refusal");
        for (const d of letters) {
          assert.ok(d.reason.length > 0);
          assert.ok(REFUSED.has(d.category!), `${d.category}: ${d.reason}`);
        }
      },
    ),
    { seed: 11, numRuns: 60 },
  );
});

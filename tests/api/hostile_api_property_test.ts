/**
 * Property-based test (fast-check, fixed seed) of the HTTP API against hostile requests, in
 * memory: bodies of spoilt events as an object, an array or NDJSON, bodies that are no
 * events at all, odd content types, hostile paths and queries, rule changes with odd
 * parameters. Every request gets a 2xx or a 4xx, never a 5xx; every rejected event has a
 * reason; the system stays up and no actor's turn fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { outOfRange, PARAM_RANGES } from "../../config/ranges.ts";
import { RULES } from "../../engine/rules.ts";
import {
  hostileLine,
  hostileNumber,
  hostileValue,
  PROTOTYPE_NAMES,
  REFUSED,
} from "../unit/hostile.ts";
import { metricSum, request, waitFor, withSystem } from "./system.ts";

const MINUTE = 60_000;

/** A body of `events` as the API takes them, or spoilt. */
const body = (t0: number) =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.tuple(
        fc.array(fc.nat(1_000), { minLength: 1, maxLength: 8 }).chain((ns) =>
          fc.tuple(...ns.map((n, i) => hostileLine(t0 + i * 1_000, n)))
        ),
        fc.constantFrom("object", "array", "ndjson"),
      ).map(([lines, shape]) =>
        shape === "object"
          ? lines[0]!
          : shape === "array"
          ? `[${lines.join(",")}]`
          : lines.join("\n")
      ),
    },
    { weight: 2, arbitrary: hostileValue },
    { weight: 1, arbitrary: fc.constantFrom("", "   ", "\n\n", "[]", "[[]]", "null", "{not json") },
  );

const contentType = fc.constantFrom(
  "application/json",
  "application/x-ndjson",
  "text/plain",
  undefined,
);

/** A path segment or query value an attacker might send. */
const segment = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES, "user", "service", "page", "ip", "src", "x".repeat(5_000)),
  fc.string({ maxLength: 20 }),
).map(encodeURIComponent);

Deno.test("The API answers hostile requests with a 2xx or a 4xx, never a 5xx; rejected events have reasons; no actor fails", async () => {
  await withSystem(async (system) => {
    const t0 = Date.now() - 10 * MINUTE;
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body(t0), contentType, async (text, type) => {
        const r = await request(system, "/api/v1/events", {
          method: "POST",
          body: text,
          ...(type !== undefined ? { type } : {}),
        });
        assert.ok(r.status < 500, `${r.status}: ${r.text.slice(0, 300)}`);
        assert.ok([202, 400, 413].includes(r.status), `${r.status}: ${r.text.slice(0, 300)}`);
        const json = JSON.parse(r.text);
        if (r.status !== 202) {
          assert.equal(typeof json.error, "string");
          return;
        }
        assert.ok(json.accepted >= 0 && json.rejected >= 0);
        accepted += json.accepted;
        assert.equal(json.errors.length, Math.min(json.rejected, 20));
        for (const e of json.errors) assert.ok(typeof e.reason === "string" && e.reason !== "");
      }),
      { seed: 42, numRuns: 200, endOnFailure: true },
    );
    await fc.assert(
      fc.asyncProperty(segment, segment, segment, async (a, b, c) => {
        for (
          const path of [
            `/api/v1/actors/${a}/${b}`,
            `/api/v1/alerts?rule=${a}&entity_key=${b}&limit=${c}&since=${c}`,
            `/api/v1/rules/${a}`,
            `/api/v1/dead-letters?limit=${c}`,
            `/api/v1/archive?limit=${c}`,
          ]
        ) {
          const r = await request(system, path);
          assert.ok(r.status < 500, `${path.slice(0, 100)}: ${r.status} ${r.text.slice(0, 200)}`);
        }
      }),
      { seed: 43, numRuns: 60, endOnFailure: true },
    );
    const names = [...new Set(RULES.flatMap((r) => r.params).map((p) => p.split(".")[1]!))];
    // A rule, and parameters mostly its own (with odd numbers), else any name.
    const change = fc.constantFrom(...RULES, null).chain((known) => {
      const own = (known?.params ?? []).map((p) => p.split(".")[1]!);
      const name = fc.oneof(
        { weight: own.length > 0 ? 3 : 0, arbitrary: fc.constantFrom(...own, "") },
        { weight: 1, arbitrary: fc.constantFrom(...names) },
        { weight: 1, arbitrary: segment },
      );
      const value = fc.oneof({ weight: 2, arbitrary: hostileNumber }, {
        weight: 1,
        arbitrary: hostileValue,
      });
      return fc.tuple(
        known === null ? fc.constantFrom("constructor", "__proto__") : fc.constant(known.rule),
        fc.array(fc.tuple(name, value), { maxLength: 3 }),
      );
    });
    await fc.assert(
      fc.asyncProperty(
        change,
        fc.option(fc.oneof(fc.constantFrom('"enforce"', '"shadow"'), hostileValue), {
          nil: undefined,
        }),
        async ([rule, params], mode) => {
          const text = `{${mode === undefined ? "" : `"mode":${mode},`}"params":{${
            params.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")
          }}}`;
          const r = await request(system, `/api/v1/rules/${rule}`, {
            method: "PATCH",
            body: text,
            type: "application/json",
          });
          assert.ok([200, 400, 404, 413].includes(r.status), `${r.status}: ${r.text}`);
        },
      ),
      { seed: 44, numRuns: 120, endOnFailure: true },
    );
    // The other requests with a body: models, the re-drive of dead letters, the cluster.
    await fc.assert(
      fc.asyncProperty(
        segment,
        fc.oneof(hostileValue, hostileValue.map((v) => `{"version":${v}}`)),
        hostileValue.map((v) => `{"category":${v},"limit":${v}}`),
        async (name, version, redrive) => {
          for (
            const [method, path, body] of [
              ["POST", `/api/v1/models/${name}/activate`, version],
              ["POST", `/api/v1/models/${name}/shadow`, version],
              ["DELETE", `/api/v1/models/${name}/shadow`, undefined],
              ["POST", "/api/v1/dead-letters/redrive", redrive],
              ["POST", "/api/v1/cluster", version],
            ] as const
          ) {
            const r = await request(system, path, {
              method,
              ...(body !== undefined ? { body, type: "application/json" } : {}),
            });
            assert.ok(r.status < 500, `${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
          }
        },
      ),
      { seed: 46, numRuns: 60, endOnFailure: true },
    );
    // Whatever was changed lies within its range: no rule was switched off by a typo.
    const sections = system.config as unknown as Record<string, Record<string, number>>;
    for (const [path, range] of PARAM_RANGES) {
      const [section, name] = path.split(".") as [string, string];
      assert.equal(outOfRange(sections[section]![name]!, range), null, path);
    }
    // Every event the API took in has been through the intake to its actor.
    await waitFor(`the intake to take in ${accepted} events`, async () => {
      const metrics = (await request(system, "/metrics")).text;
      return metricSum(metrics, "vigil_events_ingested_total") >= accepted || undefined;
    }, 10_000);
    assert.ok(accepted > 100, `${accepted} events reached the actors`);
    await system.whenIdle();
    await system.outbox.flush();
    const letters = await system.store.findDeadLetters(100_000);
    const failed = letters.filter((d) => !REFUSED.has(d.category!));
    assert.deepEqual(failed.map((d) => d.reason), [], "no actor's turn failed");
    assert.ok(letters.every((d) => d.reason !== ""));
    assert.equal(system.runtime.stats().quarantined, 0);
    assert.equal((await request(system, "/health")).status, 200);
  });
});

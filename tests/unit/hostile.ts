/**
 * Test helper: hostile input, shared by the tests that feed it to Vigil. Values are built
 * as JSON text, so they can be what `JSON.stringify` never writes: a `__proto__` key, a
 * number too large for a double (`1e309`, read as Infinity), a value nested 50,000 deep.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import type { ReplayResult } from "../../engine/replay.ts";

/** Every name `Object.prototype` has, and `__proto__` (an own key once JSON.parse made it). */
export const PROTOTYPE_NAMES: readonly string[] = [
  ...new Set([...Object.getOwnPropertyNames(Object.prototype), "__proto__"]),
];

/** The kinds of event, and a valid event of each (field → JSON text) to spoil. */
export const KINDS = ["auth", "transaction", "flow", "click", "log", "metric"] as const;

const q = JSON.stringify;

/** A valid event of `kind` at `ts` (its fields as JSON text). */
export function validFields(kind: (typeof KINDS)[number], ts: number, n = 0): Map<string, string> {
  const common: [string, string][] = [["kind", q(kind)], [
    "timestamp",
    q(new Date(ts).toISOString()),
  ]];
  const fields: Record<(typeof KINDS)[number], [string, string][]> = {
    auth: [
      ["type", q(["login_failure", "login_success", "logout"][n % 3])],
      ["user_id", q(`u${n % 7}`)],
      ["ip", q(`203.0.113.${n % 5}`)],
      ["country", q("NL")],
      ["lat", "52.1"],
      ["lon", "5.1"],
      ["device_id", q(`d${n % 3}`)],
    ],
    transaction: [
      ["user_id", q(`u${n % 7}`)],
      ["account_id", q("a1")],
      ["type", q("transfer")],
      ["amount", String(10 + n)],
      ["currency", q("EUR")],
      ["counterparty", q(`p${n % 4}`)],
    ],
    flow: [
      ["src_ip", q(`10.0.0.${n % 5}`)],
      ["dst_ip", q("10.0.1.1")],
      ["dst_port", String(n % 1000)],
      ["features", '{"Total Fwd Packets":1,"Flow Duration":"Infinity"}'],
    ],
    click: [["session_id", q(`s${n % 3}`)], ["page", q(`/p${n % 4}`)], ["latency_ms", "12"]],
    log: [["service", q(`svc${n % 3}`)], ["level", q("ERROR")], ["message", q("timeout")]],
    metric: [["service", q(`svc${n % 3}`)], ["cpu", String(n % 100)], ["queue", "50"]],
  };
  return new Map([...common, ...fields[kind]]);
}

/** Field names to spoil: the contract's, `Object.prototype`'s, odd and over-long ones. */
export const fieldName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "kind",
    "timestamp",
    "event_id",
    "type",
    "user_id",
    "account_id",
    "ip",
    "lat",
    "lon",
    "device_id",
    "session_id",
    "user_agent",
    "amount",
    "currency",
    "counterparty",
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "features",
    "page",
    "service",
    "level",
    "message",
    "cpu",
    "latency_ms",
  ),
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  fc.string({ maxLength: 8 }),
  fc.constantFrom("m".repeat(128), "m".repeat(129), "\u0000", "", " "),
);

/** A number as JSON text: NaN and infinities as CICFlowMeter's strings or as overflow. */
function numberText(x: number): string {
  if (Number.isNaN(x)) return '"NaN"';
  if (x === Infinity) return "1e309";
  if (x === -Infinity) return "-1e309";
  return Object.is(x, -0) ? "-0" : String(x);
}

/** A string of about the bounds' lengths (keys 256, text 8,192) and beyond. */
const longString = fc.constantFrom(255, 256, 257, 8_192, 8_193, 100_000).chain((n) =>
  fc.constantFrom("x", "é", "😀").map((c) => q(c.repeat(Math.ceil(n / c.length))))
);

/** An array and an object nested `levels` deep, as JSON text. */
const nested = (levels: number): [string, string] => [
  "[".repeat(levels) + "]".repeat(levels),
  '{"a":'.repeat(levels) + "1" + "}".repeat(levels),
];

/**
 * Values nested 50,000 levels deep: too deep for anything recursive. (JSON.stringify writes
 * plain ones without recursion, but recurses where an object has a `toJSON` key.)
 */
export const DEEPEST: readonly string[] = [
  ...nested(50_000),
  '{"toJSON":1,"a":'.repeat(50_000) + "1" + "}".repeat(50_000),
];

/** Objects or arrays nested about the nesting bound (32), and far past it. */
const deepValue = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(30, 31, 32, 33, 200).chain((n) => fc.constantFrom(...nested(n))),
  },
  { weight: 1, arbitrary: fc.constantFrom(...DEEPEST) },
);

/** An object keyed by prototype names. */
const protoObject = fc.subarray([...PROTOTYPE_NAMES], { minLength: 1 }).map((names) =>
  "{" + names.map((n, i) => `${q(n)}:${i % 2 === 0 ? i : `{"${n}":${i}}`}`).join(",") + "}"
);

/** Strings as JSON text: prototype names, about the bounds' lengths and past them, any. */
const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES).map(q),
  longString,
  fc.string({ maxLength: 12 }).map(q),
);

/** Numbers as JSON text: off the globe, past every bound, not finite, not whole, any. */
export const hostileNumber: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '"NaN"',
    '"Infinity"',
    '"-Infinity"',
    "-0",
    "1e308",
    "-1e300",
    "1e309",
    "0.5",
    "-1",
    "91",
    "-181",
    "65536",
    "9007199254740993",
    "1700000000",
    "253402300800000",
  ),
  fc.double().map(numberText),
  fc.integer().map(String),
);

/** A number any bound takes, as JSON text. */
const smallNumber: fc.Arbitrary<string> = fc.integer({ min: -1_000, max: 1_000 }).map(String);

/** JSON texts of values an attacker might put where a field's value goes. */
export const hostileValue: fc.Arbitrary<string> = fc.oneof(
  hostileString,
  hostileNumber,
  fc.constantFrom("null", "true", "false", "[]", "{}", '""', '[{"kind":"auth"}]', '["a"]'),
  // Objects a template string or a comparison cannot turn into a primitive (they throw).
  fc.constantFrom('{"toString":1}', '{"toString":{},"valueOf":{}}'),
  deepValue,
  protoObject,
);

/** A hostile value for a field whose right value is `right` (JSON text): often of its type. */
const hostileFor = (right: string): fc.Arbitrary<string> =>
  fc.oneof(right.startsWith('"') ? hostileString : hostileNumber, hostileValue);

/**
 * A line of hostile input: a valid event of one of `kinds` with a few fields spoilt (set to
 * a hostile value, or dropped), or, now and then, a line that is no event at all.
 */
export const hostileLine = (
  ts: number,
  n: number,
  kinds: readonly (typeof KINDS)[number][] = KINDS,
): fc.Arbitrary<string> =>
  fc.oneof(
    {
      weight: 9,
      arbitrary: fc.constantFrom(...kinds).chain((kind) => {
        const fields = validFields(kind, ts, n);
        // Mostly the fields the kind has (each is checked its own way), else any name.
        const own = fc.constantFrom(...fields.keys());
        const name = fc.oneof({ weight: 3, arbitrary: own }, { weight: 1, arbitrary: fieldName });
        const spoilt = fc.oneof(
          {
            weight: 3,
            arbitrary: own.chain((k) => fc.tuple(fc.constant(k), hostileFor(fields.get(k)!))),
          },
          // A plain number under any name too: a service's actor follows it as a metric.
          { weight: 1, arbitrary: fc.tuple(fieldName, fc.oneof(smallNumber, hostileValue)) },
        );
        // A third of the events are left whole; a field is dropped from one in five.
        return fc.tuple(
          fc.oneof(
            { weight: 1, arbitrary: fc.constant([]) },
            {
              weight: 2,
              arbitrary: fc.array(spoilt, { minLength: 1, maxLength: 2 }),
            },
          ),
          fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, {
            weight: 1,
            arbitrary: name,
          }),
        ).map(([spoil, drop]) => {
          const event = new Map(fields);
          for (const [name, value] of spoil) event.set(name, value);
          if (drop !== undefined) event.delete(drop);
          return "{" + [...event].map(([k, v]) => `${q(k)}:${v}`).join(",") + "}";
        });
      }),
    },
    { weight: 1, arbitrary: fc.oneof(hostileValue, fc.constantFrom("{not json", "{", "[1,")) },
  );

/** `count` hostile lines, one second of event time apart from `t0`. */
export const hostileLines = (t0: number, count: number): fc.Arbitrary<string[]> =>
  fc.tuple(...Array.from({ length: count }, (_, i) => hostileLine(t0 + i * 1_000, i)));

/** What a dead letter of input refused at an intake may be; never a failed turn. */
export const REFUSED: ReadonlySet<string> = new Set(["invalid", "oversized", "late", "future"]);

/**
 * Checks what every replay of hostile `lines` must give: each line is an event or refused,
 * each refusal a dead letter with its reason, and no dead letter a failed turn.
 */
export function checkReplay(lines: readonly string[], r: ReplayResult): void {
  const blank = lines.filter((l) => l.trim() === "").length;
  assert.equal(r.events + r.invalid, lines.length - blank, "every line is an event or refused");
  const count = (...categories: string[]) =>
    r.dead_letters.filter((d) => categories.includes(d.category!)).length;
  assert.equal(count("invalid", "oversized"), r.invalid, "a dead letter for each refused line");
  assert.equal(count("late"), r.late, "a dead letter for each late event");
  for (const d of r.dead_letters) {
    assert.ok(d.reason.length > 0, `a reason: ${d.source}`);
    assert.ok(REFUSED.has(d.category!), `a refusal, not a failure: ${d.category}: ${d.reason}`);
  }
}

/**
 * The bounds of `InputLimits` in validation: lengths, nesting, numeric ranges, each with a
 * reason that names the field and the bound.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Config, defaults, type InputLimits } from "../../config/defaults.ts";
import { linesOf, replay } from "../../engine/replay.ts";
import { shapeProblem } from "../../events/bounds.ts";
import { type Parsed, parseEvent } from "../../events/validate.ts";
import type { AuthEvent } from "../../events/types.ts";
import { FLOW_FEATURES } from "../../io/flow_csv.ts";

const TS = Date.UTC(2026, 0, 5, 8);

function accepted(parsed: Parsed, why = "") {
  if (!parsed.ok) assert.fail(`expected the event to be accepted (${why}): ${parsed.reason}`);
  return parsed.event;
}

function rejected(parsed: Parsed): string {
  if (parsed.ok) assert.fail(`expected the event to be rejected: ${JSON.stringify(parsed.event)}`);
  return parsed.reason;
}

const login = (over: Record<string, unknown>) =>
  JSON.stringify({
    kind: "auth",
    type: "login_success",
    user_id: "u1",
    ip: "203.0.113.7",
    timestamp: TS,
    lat: 52.1,
    lon: 5.1,
    ...over,
  });
const metric = (over: Record<string, unknown>) =>
  JSON.stringify({ kind: "metric", service: "payments", timestamp: TS, ...over });
const deep = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

Deno.test("parseEvent() refuses a latitude or longitude off the globe, saying the range", () => {
  assert.equal(
    rejected(parseEvent(login({ lat: 91 }))),
    'Cannot accept event: field "lat" is 91, outside -90..90',
  );
  assert.match(
    rejected(parseEvent(login({ lat: -1e300 }))),
    /"lat" is -1e\+300, outside -90\.\.90/,
  );
  assert.match(rejected(parseEvent(login({ lon: 180.5 }))), /"lon" is 180\.5, outside -180\.\.180/);
  const e = accepted(parseEvent(login({ lat: -90, lon: 180 }))) as AuthEvent;
  assert.deepEqual([e.lat, e.lon], [-90, 180]);
});

Deno.test("A login from latitude 91 or -1e300 is dead-lettered, not an impossible trip", async () => {
  for (const lat of [91, -1e300]) {
    const lines = [
      login({ event_id: "home", timestamp: TS }),
      login({ event_id: "far", timestamp: TS + 60_000, lat }),
    ];
    const r = await replay(linesOf(lines.join("\n")), structuredClone(defaults) as Config);
    assert.deepEqual(r.alerts, [], `lat ${lat}`);
    assert.equal(r.invalid, 1);
    assert.match(r.dead_letters[0]!.reason, /field "lat" is .*, outside -90\.\.90/);
  }
});

Deno.test("parseEvent() refuses an amount above max_amount, and a time outside the event times", () => {
  const tx = (amount: number) =>
    JSON.stringify({
      kind: "transaction",
      type: "transfer",
      user_id: "u1",
      account_id: "a1",
      currency: "EUR",
      amount,
      timestamp: TS,
    });
  assert.equal(
    rejected(parseEvent(tx(1e300))),
    'Cannot accept event: field "amount" is 1e+300, more than the largest amount taken, ' +
      "1000000000000000",
  );
  accepted(parseEvent(tx(1e15)));
  for (const timestamp of [-1e300, 1e300, -1, "1969-12-31T23:59:59Z", 8.7e15]) {
    assert.match(
      rejected(parseEvent(login({ timestamp }))),
      /field "timestamp" is .*, outside 1970-01-01T00:00:00\.000Z\.\.9999-12-31T23:59:59\.999Z/,
      String(timestamp),
    );
  }
  accepted(parseEvent(login({ timestamp: 0 })));
  accepted(parseEvent(login({ timestamp: "9999-12-31T23:59:59.999Z" })));
  const untimed = JSON.stringify({ kind: "auth", type: "logout", user_id: "u1" });
  assert.match(
    rejected(parseEvent(untimed, { fallback_ts: -5 })),
    /"timestamp" is missing, and its record's time -5 is outside/,
  );
});

Deno.test("parseEvent() refuses keys and text longer than their bounds, naming the field and its length", () => {
  assert.equal(
    rejected(parseEvent(login({ device_id: "d".repeat(1_000_000) }))),
    'Cannot accept event: field "device_id" is 1000000 characters long, more than the 256 allowed',
  );
  accepted(parseEvent(login({ user_id: "u".repeat(256) })));
  assert.match(rejected(parseEvent(login({ user_id: "u".repeat(257) }))), /"user_id" is 257/);
  assert.match(rejected(parseEvent(login({ event_id: "e".repeat(300) }))), /"event_id" is 300/);
  const click = (page: string) =>
    JSON.stringify({ kind: "click", session_id: "s", page, timestamp: TS });
  assert.match(rejected(parseEvent(click("/" + "p".repeat(900_000)))), /"page" is 900001/);
  const log = (message: string) =>
    JSON.stringify({ kind: "log", service: "s", level: "ERROR", message, timestamp: TS });
  accepted(parseEvent(log("m".repeat(8_192))));
  assert.match(rejected(parseEvent(log("m".repeat(8_193)))), /"message" is 8193 characters/);
  assert.match(
    rejected(parseEvent(login({ user_agent: "a".repeat(10_000) }))),
    /"user_agent" is 10000 characters long, more than the 8192 allowed/,
  );
  accepted(parseEvent(login({ user_agent: 7 })), "a field no rule reads keeps its other types");
  const named = JSON.stringify({
    kind: "metric",
    service: "s",
    timestamp: TS,
    ["m".repeat(129)]: 1,
  });
  assert.match(
    rejected(parseEvent(named)),
    /a field name is 129 characters long, more than the 128 allowed \("mmm/,
  );
});

Deno.test("parseEvent() refuses a field nested past max_nesting_levels, even 50,000 deep, without throwing", () => {
  for (const [open, close] of [["[", "]"], ['{"a":', "}"]] as const) {
    const text = (levels: number) =>
      metric({}).replace(/}$/, `,"x":${open.repeat(levels)}1${close.repeat(levels)}}`);
    // The event is level 1: "x" holds levels 2 and on.
    accepted(parseEvent(text(31)));
    assert.equal(
      rejected(parseEvent(text(32))),
      'Cannot accept event: field "x" is nested more than 32 levels deep',
    );
    assert.match(rejected(parseEvent(text(50_000))), /field "x" is nested more than 32 levels/);
  }
  // A deep value where a number belongs: the reason shows its start, cheaply.
  const reason = rejected(parseEvent(metric({}).replace(/}$/, `,"cpu":${deep(50_000)}}`)));
  assert.match(reason, /"cpu" is nested more than 32 levels deep/);
  const kind = rejected(parseEvent(`{"kind":${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}}`));
  assert.match(kind, /field "kind" must be one of .*, got \{"a":\{"a":\{"a":"…"\}\}\}/);
});

Deno.test("shapeProblem() takes the configured bounds", () => {
  const lim: InputLimits = { ...defaults.input, max_nesting_levels: 2, max_field_name_chars: 3 };
  assert.equal(shapeProblem({ a: { b: 1 } }, lim), null);
  assert.match(shapeProblem({ a: { b: [] } }, lim)!, /"a" is nested more than 2 levels/);
  assert.match(shapeProblem({ a: { long: 1 } }, lim)!, /a field name is 4 characters/);
  const parsed = parseEvent(metric({ x: [[1]] }), {
    limits: { ...defaults.input, max_nesting_levels: 2 },
  });
  assert.match(rejected(parsed), /more than 2 levels/);
});

Deno.test("parseEvent() refuses a metric event's number past max_metric_abs, or not finite", () => {
  assert.equal(
    rejected(parseEvent(metric({ queue: 1e308 }))),
    'Cannot accept event: field "queue" is 1e+308, outside -1000000000000000..1000000000000000',
  );
  // 1e309 is more than a double holds: JSON.parse reads it as Infinity.
  assert.match(rejected(parseEvent(metric({}).replace(/}$/, ',"q":1e309}'))), /"q" is Infinity/);
  assert.match(rejected(parseEvent(metric({ cpu: -1e16 }))), /"cpu" is -10000000000000000/);
  accepted(parseEvent(metric({ queue: -1e15, cpu: 99.5, latency_ms: 0 })));
  accepted(parseEvent(metric({ event_id: 1e300 })), "an id is not a metric");
});

Deno.test("parseEvent() refuses a flow feature that is not finite unless written as a string, and a port off 0..65535", () => {
  const flow = (features: string, over: Record<string, unknown> = {}) =>
    JSON.stringify({ kind: "flow", src_ip: "10.0.0.1", dst_ip: "10.0.0.2", timestamp: TS, ...over })
      .replace(/}$/, `,"features":${features}}`);
  assert.equal(
    rejected(parseEvent(flow('{"Flow Duration":1e309}'))),
    'Cannot accept event: feature "Flow Duration" is Infinity, not a finite number ' +
      '(write "Infinity", "-Infinity" or "NaN" as strings)',
  );
  const inOrder = FLOW_FEATURES.map((n, i) => `${JSON.stringify(n)}:${i === 3 ? "-1e999" : i}`);
  assert.match(rejected(parseEvent(flow(`{${inOrder.join(",")}}`))), /is -Infinity, not a finite/);
  accepted(parseEvent(flow('{"Flow Duration":"Infinity","Flow Bytes/s":"NaN"}')));
  for (const dst_port of [70_000, -1, 1.5]) {
    assert.match(
      rejected(parseEvent(flow("{}", { dst_port }))),
      /field "dst_port" is .*, outside 0\.\.65535 \(a whole number\)/,
      String(dst_port),
    );
  }
  assert.match(rejected(parseEvent(flow("{}", { src_port: {} }))), /"src_port" must be a port/);
  accepted(parseEvent(flow("{}", { dst_port: "https", src_port: 0 })));
});

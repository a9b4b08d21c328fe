import assert from "node:assert/strict";
import { type Parsed, parseEvent, validateEvent } from "../../events/validate.ts";
import type { AuthEvent, OtherEvent, TransactionEvent, VigilEvent } from "../../events/types.ts";
import { FLOW_FEATURES } from "../../io/flow_csv.ts";

const TS = 1_700_000_000_000;

function accepted(parsed: Parsed): VigilEvent {
  if (!parsed.ok) assert.fail(`expected the event to be accepted: ${parsed.reason}`);
  return parsed.event;
}

function rejected(parsed: Parsed): string {
  if (parsed.ok) assert.fail(`expected the event to be rejected: ${JSON.stringify(parsed.event)}`);
  return parsed.reason;
}

function json(o: Record<string, unknown>): string {
  return JSON.stringify(o);
}

const VALID: Record<string, Record<string, unknown>> = {
  auth: {
    kind: "auth",
    event_id: "a-1",
    timestamp: TS,
    type: "login_failure",
    user_id: "u1",
    ip: "203.0.113.7",
    country: "NL",
    city: "Utrecht",
    lat: 52.09,
    lon: 5.12,
    device_id: "d1",
    user_agent: "curl/8",
    session_id: "s1",
    reason: "bad_password",
    mfa: false,
  },
  transaction: {
    kind: "transaction",
    event_id: "t-1",
    timestamp: TS,
    user_id: "u1",
    account_id: "acc-1",
    type: "transfer",
    amount: 125.5,
    currency: "EUR",
    counterparty: "acc-9",
    channel: "web",
  },
  flow: {
    kind: "flow",
    event_id: "f-1",
    timestamp: TS,
    src_ip: "10.0.0.1",
    dst_ip: "10.0.0.2",
    src_port: 51000,
    dst_port: 443,
    protocol: 6,
    features: { "Flow Duration": 1200, "Total Fwd Packets": 3 },
  },
  click: {
    kind: "click",
    event_id: "c-1",
    timestamp: TS,
    session_id: "s1",
    page: "/home",
    user_id: "u1",
    latency_ms: 42,
  },
  log: {
    kind: "log",
    event_id: "l-1",
    timestamp: TS,
    service: "payments",
    level: "ERROR",
    message: "timeout calling ledger",
  },
  metric: {
    kind: "metric",
    event_id: "m-1",
    timestamp: TS,
    service: "payments",
    cpu: 91.5,
    latency_ms: 410,
  },
};

Deno.test("parseEvent() accepts a valid event of every kind", () => {
  for (const [kind, o] of Object.entries(VALID)) {
    const e = accepted(parseEvent(json(o)));
    assert.equal(e.kind, kind);
    assert.equal(e.event_id, o.event_id);
    assert.equal(e.ts, TS);
    assert.deepEqual(e.raw, o, `${kind}: the raw object is kept, unknown fields included`);
  }
});

Deno.test("parseEvent() gives an auth event its typed fields", () => {
  const e = accepted(parseEvent(json(VALID.auth!))) as AuthEvent;
  assert.deepEqual({ ...e, raw: undefined }, {
    kind: "auth",
    event_id: "a-1",
    ts: TS,
    raw: undefined,
    type: "login_failure",
    user_id: "u1",
    ip: "203.0.113.7",
    country: "NL",
    city: "Utrecht",
    lat: 52.09,
    lon: 5.12,
    device_id: "d1",
    session_id: "s1",
  });
});

Deno.test("parseEvent() gives absent optional auth fields as undefined", () => {
  const text = json({ kind: "auth", type: "logout", user_id: "u1", timestamp: TS });
  const e = accepted(parseEvent(text)) as AuthEvent;
  assert.equal(e.ip, undefined, "a logout needs no ip");
  assert.equal(e.session_id, undefined);
  assert.equal(e.lat, undefined);
  const nulls = accepted(parseEvent(json({ ...VALID.auth!, city: null, lat: null }))) as AuthEvent;
  assert.equal(nulls.city, undefined);
  assert.equal(nulls.lat, undefined);
});

Deno.test("parseEvent() gives a transaction event its typed fields", () => {
  const e = accepted(parseEvent(json(VALID.transaction!))) as TransactionEvent;
  assert.equal(e.user_id, "u1");
  assert.equal(e.account_id, "acc-1");
  assert.equal(e.type, "transfer");
  assert.equal(e.amount, 125.5);
  assert.equal(e.currency, "EUR");
  assert.equal(e.counterparty, "acc-9");
});

Deno.test("parseEvent() derives a stable event_id from the text when there is none", () => {
  const { event_id: _, ...noId } = VALID.auth!;
  const text = json(noId);
  const one = accepted(parseEvent(text));
  const two = accepted(parseEvent(text));
  assert.match(one.event_id, /^e-[0-9a-f]{16}$/);
  assert.equal(two.event_id, one.event_id);
  const other = accepted(parseEvent(json({ ...noId, user_id: "u2" })));
  assert.notEqual(other.event_id, one.event_id);
  const spaced = accepted(parseEvent(JSON.stringify(noId, null, 1)));
  assert.notEqual(spaced.event_id, one.event_id, "the id is of the text as it arrived");
});

Deno.test("parseEvent() takes a numeric event_id as its decimal string", () => {
  assert.equal(accepted(parseEvent(json({ ...VALID.log!, event_id: 17 }))).event_id, "17");
});

Deno.test("parseEvent() reads ISO-8601 and epoch-ms timestamps", () => {
  const iso = "2023-11-14T22:13:20.000Z";
  assert.equal(accepted(parseEvent(json({ ...VALID.auth!, timestamp: iso }))).ts, TS);
  assert.equal(accepted(parseEvent(json({ ...VALID.auth!, timestamp: TS }))).ts, TS);
  const offset = "2023-11-14T23:13:20+01:00";
  assert.equal(accepted(parseEvent(json({ ...VALID.auth!, timestamp: offset }))).ts, TS);
});

Deno.test("parseEvent() uses fallback_ts only when the timestamp is absent", () => {
  const { timestamp: _, ...noTime } = VALID.metric!;
  assert.equal(accepted(parseEvent(json(noTime), { fallback_ts: 5 })).ts, 5);
  assert.equal(accepted(parseEvent(json(VALID.metric!), { fallback_ts: 5 })).ts, TS);
  assert.match(rejected(parseEvent(json(noTime))), /field "timestamp" is missing/);
});

Deno.test("parseEvent() accepts a numeric user_id as its string", () => {
  const auth = accepted(parseEvent(json({ ...VALID.auth!, user_id: 42 }))) as AuthEvent;
  assert.equal(auth.user_id, "42");
  const tx = accepted(
    parseEvent(json({ ...VALID.transaction!, user_id: 7, account_id: 9 })),
  ) as TransactionEvent;
  assert.equal(tx.user_id, "7");
  assert.equal(tx.account_id, "9");
});

Deno.test("parseEvent() takes the kind from the topic when the event has none", () => {
  const { kind: _, ...noKind } = VALID.click!;
  assert.equal(accepted(parseEvent(json(noKind), { kind: "click" })).kind, "click");
  assert.equal(accepted(parseEvent(json(VALID.click!), { kind: "click" })).kind, "click");
});

Deno.test("parseEvent() rejects what is not a JSON object", () => {
  assert.match(rejected(parseEvent("{not json")), /not valid JSON/);
  assert.match(rejected(parseEvent("")), /not valid JSON/);
  for (const text of ["[1,2]", "42", '"auth"', "null", "true"]) {
    assert.match(rejected(parseEvent(text)), /must be a JSON object/, text);
  }
});

Deno.test("parseEvent() rejects a missing, unknown or mismatched kind", () => {
  const { kind: _, ...noKind } = VALID.auth!;
  assert.match(rejected(parseEvent(json(noKind))), /field "kind" is missing/);
  assert.match(rejected(parseEvent(json({ ...VALID.auth!, kind: "dns" }))), /field "kind"/);
  assert.match(rejected(parseEvent(json({ ...VALID.auth!, kind: 3 }))), /field "kind"/);
  const mismatch = rejected(parseEvent(json(VALID.flow!), { kind: "auth" }));
  assert.match(mismatch, /kind "flow"/);
  assert.match(mismatch, /auth/);
});

Deno.test("parseEvent() rejects each missing required field, naming it", () => {
  const table: [string, string][] = [
    ["auth", "type"],
    ["auth", "user_id"],
    ["auth", "ip"],
    ["transaction", "user_id"],
    ["transaction", "account_id"],
    ["transaction", "type"],
    ["transaction", "amount"],
    ["transaction", "currency"],
    ["flow", "src_ip"],
    ["flow", "dst_ip"],
    ["flow", "features"],
    ["click", "session_id"],
    ["click", "page"],
    ["log", "service"],
    ["log", "level"],
    ["log", "message"],
    ["metric", "service"],
  ];
  for (const [kind, field] of table) {
    const o = { ...VALID[kind]! };
    delete o[field];
    const reason = rejected(parseEvent(json(o)));
    assert.match(reason, new RegExp(`"${field}"`), `${kind} without ${field}: ${reason}`);
  }
});

Deno.test("parseEvent() rejects wrong types, naming the field", () => {
  const table: [string, string, unknown][] = [
    ["auth", "type", "login"],
    ["auth", "user_id", ""],
    ["auth", "user_id", true],
    ["auth", "ip", 17],
    ["auth", "country", 31],
    ["auth", "lat", "52.1"],
    ["auth", "session_id", { id: 1 }],
    ["auth", "event_id", ""],
    ["auth", "event_id", false],
    ["transaction", "type", "refund"],
    ["transaction", "amount", "100"],
    ["transaction", "currency", ""],
    ["transaction", "counterparty", 5],
    ["flow", "features", [1, 2]],
    ["flow", "features", "x"],
    ["click", "latency_ms", "fast"],
    ["metric", "cpu", "high"],
    ["metric", "latency_ms", "410"],
    ["log", "message", 404],
  ];
  for (const [kind, field, value] of table) {
    const reason = rejected(parseEvent(json({ ...VALID[kind]!, [field]: value })));
    assert.match(reason, new RegExp(`"${field}"`), `${kind}.${field} = ${JSON.stringify(value)}`);
  }
});

Deno.test("parseEvent() rejects an amount that is not greater than 0", () => {
  for (const amount of [0, -5, -0.01]) {
    const reason = rejected(parseEvent(json({ ...VALID.transaction!, amount })));
    assert.match(reason, /field "amount" must be a number greater than 0/, String(amount));
  }
});

Deno.test("parseEvent() rejects a level outside DEBUG, INFO, WARN, ERROR, FATAL", () => {
  for (const level of ["error", "CRITICAL", "", 3]) {
    const reason = rejected(parseEvent(json({ ...VALID.log!, level })));
    assert.match(reason, /field "level"/, String(level));
  }
  for (const level of ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]) {
    accepted(parseEvent(json({ ...VALID.log!, level })));
  }
});

Deno.test("parseEvent() rejects a non-numeric feature, naming it; CICFlowMeter's Infinity and NaN pass", () => {
  const features = { "Flow Duration": 1200, "Fwd IAT Mean": "lots" };
  const reason = rejected(parseEvent(json({ ...VALID.flow!, features })));
  assert.match(reason, /feature "Fwd IAT Mean" must be a number/);
  for (const v of ["Infinity", "-Infinity", "NaN"]) {
    const parsed = parseEvent(json({ ...VALID.flow!, features: { "Flow Bytes/s": v } }));
    assert.equal(parsed.ok, true, v);
  }
});

Deno.test("parseEvent() gives a flow its features in the model's order, read in one pass when written in that order; a bad value is named either way", () => {
  const all = Object.fromEntries(FLOW_FEATURES.map((name, i) => [name, i]));
  const inOrder = accepted(parseEvent(json({ ...VALID.flow!, features: all }))) as OtherEvent;
  assert.deepEqual([...inOrder.row!.row], FLOW_FEATURES.map((_, i) => i));
  assert.equal(inOrder.row!.missing, 0);
  const reversed = Object.fromEntries([...FLOW_FEATURES].reverse().map((n) => [n, all[n]]));
  const other = accepted(parseEvent(json({ ...VALID.flow!, features: reversed }))) as OtherEvent;
  assert.deepEqual([...other.row!.row], [...inOrder.row!.row]);
  // A bad value among the model's features in its order, and in a name the model has not.
  const bad = { ...all, "Idle Max": "high" };
  assert.match(rejected(parseEvent(json({ ...VALID.flow!, features: bad }))), /"Idle Max"/);
  const extra = { ...all, "Fwd Segment Size Avg": null };
  assert.match(
    rejected(parseEvent(json({ ...VALID.flow!, features: extra }))),
    /"Fwd Segment Size Avg" must be a number/,
  );
  // Names the model has not are taken (not scored); the model's absent ones are counted.
  const some = accepted(parseEvent(json({ ...VALID.flow!, features: { "Other": 1 } })));
  assert.equal((some as OtherEvent).row!.missing, 52);
});

Deno.test("parseEvent() rejects a timestamp that is not a time", () => {
  for (const timestamp of ["yesterday", "", true, { at: 1 }]) {
    const reason = rejected(parseEvent(json({ ...VALID.auth!, timestamp })));
    assert.match(reason, /field "timestamp"/, JSON.stringify(timestamp));
  }
});

Deno.test("parseEvent() rejects a timestamp string that is neither ISO-8601 nor a time", () => {
  // The reason promises "an ISO-8601 string or epoch milliseconds"; V8's Date.parse also
  // reads "1" as 2001-01-01 and "March 7, 2024" in the machine's local time zone.
  for (const timestamp of ["0", "1", "12", "March 7, 2024"]) {
    const parsed = parseEvent(json({ ...VALID.auth!, timestamp }));
    const shown = parsed.ok ? new Date(parsed.event.ts).toISOString() : "";
    assert.equal(parsed.ok, false, `timestamp ${JSON.stringify(timestamp)} was read as ${shown}`);
  }
});

Deno.test("parseEvent() shortens a long offending value in the reason", () => {
  const reason = rejected(parseEvent(json({ ...VALID.auth!, type: "x".repeat(500) })));
  assert.ok(reason.length < 200, reason);
  assert.match(reason, /\.\.\.$/);
});

Deno.test("validateEvent() validates an already parsed value", () => {
  const e = accepted(validateEvent({ ...VALID.log! }, "{}"));
  assert.equal(e.kind, "log");
  assert.match(rejected(validateEvent(undefined, "")), /must be a JSON object/);
});

import assert from "node:assert/strict";
import { FLOW_FEATURES, flowCsvReader, parseFlowTime, splitCsvLine } from "../../io/flow_csv.ts";
import { parseEvent } from "../../events/validate.ts";

/** A MachineLearningCVE-style header: leading spaces, a repeated column, the label last. */
const HEADER = [
  ...FLOW_FEATURES.map((f, i) => i % 2 === 0 ? ` ${f}` : f),
  " Fwd Header Length.1",
  " Fwd Header Length",
  " Label",
].join(",");

function row(values: Record<string, string>, label = "DDoS"): string {
  return [
    ...FLOW_FEATURES.map((f, i) => values[f] ?? String(i + 1)),
    "999",
    "888",
    label,
  ].join(",");
}

const options = { source: "t.csv", timestamp_ms: Date.UTC(2017, 6, 7) };

Deno.test("flowCsvReader() maps a raw CICFlowMeter row to a valid flow event", () => {
  const read = flowCsvReader(HEADER, {
    ...options,
    src_ip: "198.51.100.1",
    dst_ip: "198.51.100.2",
  });
  const r = read(row({ "Flow Bytes/s": "Infinity", "Flow Packets/s": "NaN" }), 2);
  assert.equal(r.ok, true);
  if (!r.ok) return;
  const e = r.event as { features: Record<string, unknown>; event_id: string; label: string };
  assert.equal(Object.keys(e.features).length, 52);
  assert.equal(
    e.features["Fwd Header Length"],
    FLOW_FEATURES.indexOf("Fwd Header Length") + 1,
    "the first of a repeated column",
  );
  assert.equal(e.features["Flow Bytes/s"], "Infinity");
  assert.equal(e.features["Flow Packets/s"], "NaN");
  assert.equal(e.event_id, "t.csv:2");
  assert.equal(e.label, "DDoS");
  const parsed = parseEvent(JSON.stringify(r.event));
  assert.equal(parsed.ok, true, parsed.ok ? "" : parsed.reason);
});

Deno.test("flowCsvReader() refuses rows it cannot read, saying which line and why", () => {
  const read = flowCsvReader(HEADER, options);
  const noIp = read(row({}), 3);
  assert.equal(noIp.ok, false);
  if (!noIp.ok) assert.match(noIp.reason, /line 3: no Source IP column; give --src-ip/);
  const withIps = flowCsvReader(HEADER, { ...options, src_ip: "a", dst_ip: "b" });
  const bad = withIps(row({ "Flow Duration": "soon" }), 4);
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.match(bad.reason, /line 4: "Flow Duration" is "soon", not a number/);
  const short = withIps("1,2,3", 5);
  assert.equal(short.ok, false);
  if (!short.ok) assert.match(short.reason, /line 5: 3 fields, the header has 55/);
  assert.throws(() => flowCsvReader("a,b,c", options), /lacks 52 of the 52 features/);
});

Deno.test("flow CSV helpers: quoted fields, CICIDS2017 times", () => {
  assert.deepEqual(splitCsvLine('a,"b,c","d""e",'), ["a", "b,c", 'd"e', ""]);
  assert.equal(parseFlowTime("7/7/2017 3:56"), Date.UTC(2017, 6, 7, 3, 56));
  assert.equal(parseFlowTime("5/7/2017 1:02:03 PM"), Date.UTC(2017, 6, 5, 13, 2, 3));
  assert.equal(parseFlowTime("2017-07-07T10:00:00Z"), Date.UTC(2017, 6, 7, 10));
  assert.equal(parseFlowTime("whenever"), null);
});

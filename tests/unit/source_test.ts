import assert from "node:assert/strict";
import {
  type FlowModelView,
  flowRule,
  sourceBehaviour,
  type SourceMessage,
  type SourceState,
} from "../../actors/source.ts";
import type { ActorContext, Effect } from "../../actors/types.ts";
import { defaults } from "../../config/defaults.ts";
import type { OtherEvent } from "../../events/types.ts";
import { FLOW_FEATURES } from "../../io/flow_csv.ts";
import { flowFeatures } from "../../events/flow_features.ts";

const CLASSES = ["Normal Traffic", "DoS", "DDoS", "Port Scanning"];
const MODEL: FlowModelView = {
  version: "7",
  classes: CLASSES,
  benign: "Normal Traffic",
  default_threshold: 0.9,
  per_class: { "Port Scanning": 0.6 },
};
const T0 = Date.UTC(2026, 0, 5, 12);
const ctx: ActorContext = { self: { type: "src", key: "203.0.113.5" }, watermark_ms: 0 };

function flow(id: string, ts: number, features: Record<string, unknown> = {}): OtherEvent {
  return {
    kind: "flow",
    event_id: id,
    ts,
    raw: {
      src_ip: "203.0.113.5",
      dst_ip: "192.0.2.80",
      dst_port: 80,
      flow_id: `f-${id}`,
      features,
    },
  };
}

/** One flow through the behaviour: its infer effect answered with `probs`. */
function score(
  s: SourceState,
  e: OtherEvent,
  probs: number[],
  model: FlowModelView | null = MODEL,
): { state: SourceState; effects: readonly Effect[] } {
  const b = sourceBehaviour({ alerts: defaults.alerts, net: defaults.net, model: () => model });
  const asked = b.receive(s, { kind: "event", event: e }, ctx);
  const infer = asked.effects.find((x) => x.kind === "infer");
  if (!infer || infer.kind !== "infer") return asked;
  const reply = infer.reply(Float32Array.from(probs)) as SourceMessage;
  return b.receive(asked.state, reply, ctx);
}

const alerts = (effects: readonly Effect[]) =>
  effects.flatMap((e) => e.kind === "alert" ? [e.alert] : []);

Deno.test("flowFeatures() lays the 52 features out in the model's order; named non-finite values and gaps", () => {
  const { row, missing } = flowFeatures({
    "Destination Port": 443,
    "Flow Bytes/s": "Infinity",
    "Flow Packets/s": "NaN",
    "Idle Min": -1,
  });
  assert.equal(row.length, 52);
  assert.equal(row[0], 443);
  assert.equal(row[FLOW_FEATURES.indexOf("Flow Bytes/s")], Infinity);
  assert.ok(Number.isNaN(row[FLOW_FEATURES.indexOf("Flow Packets/s")]!));
  assert.equal(row[51], -1);
  assert.equal(missing, 48, "absent features are NaN and counted; a named NaN is not absent");
});

Deno.test("flowFeatures() reads features in the model's order and in any other the same", () => {
  const inOrder = Object.fromEntries(FLOW_FEATURES.map((name, i) => [name, i + 0.5]));
  const reversed = Object.fromEntries([...FLOW_FEATURES].reverse().map((n) => [n, inOrder[n]]));
  const a = flowFeatures(inOrder), b = flowFeatures(reversed);
  assert.deepEqual([...a.row], FLOW_FEATURES.map((_, i) => i + 0.5));
  assert.deepEqual([...b.row], [...a.row]);
  assert.equal(a.missing + b.missing, 0);
  // Rows share buffers (cut from one): each keeps its own values, through a buffer's end.
  const rows = Array.from({ length: 1_500 }, (_, i) => flowFeatures({ "Destination Port": i }));
  rows.forEach((r, i) => {
    assert.equal(r.row.length, 52);
    assert.equal(r.row[0], i);
    assert.ok(Number.isNaN(r.row[1]!));
  });
  // As many names as the model's, one of them not the model's: that feature is absent.
  const renamed = { ...inOrder, extra: 1 } as Record<string, unknown>;
  delete renamed["Idle Min"];
  const c = flowFeatures(renamed);
  assert.equal(c.missing, 1);
  assert.ok(Number.isNaN(c.row[51]!));
  assert.equal(c.row[0], 0.5);
});

Deno.test("A source actor alerts flow.<class> at the class threshold, once per episode, never for normal traffic", () => {
  const b = sourceBehaviour({ alerts: defaults.alerts, net: defaults.net, model: () => MODEL });
  let s = b.initial("203.0.113.5");
  let r = score(s, flow("a", T0), [0.02, 0.03, 0.95, 0]);
  const [first] = alerts(r.effects);
  assert.equal(first?.rule, "flow.ddos");
  assert.equal(first?.severity, "medium");
  assert.deepEqual(first?.entity, { type: "src", key: "203.0.113.5" });
  assert.equal(first?.evidence.class, "DDoS");
  assert.equal(first?.evidence.dst_ip, "192.0.2.80");
  assert.equal(first?.evidence.model_version, "7");
  assert.equal(first?.evidence.missing_features, 52);
  assert.equal(first?.model, "flow_classifier@7");
  assert.deepEqual(first?.event_ids, ["a"]);
  s = r.state;
  // The same class again within the cool-down: counted in the episode, no alert.
  r = score(s, flow("b", T0 + 60_000), [0, 0, 0.99, 0.01]);
  assert.deepEqual(alerts(r.effects), []);
  s = r.state;
  assert.equal(s.episodes[0]?.flows, 2);
  // Below the threshold; normal traffic however sure; a lower per-class threshold.
  assert.deepEqual(alerts(score(s, flow("c", T0), [0.15, 0.85, 0, 0]).effects), []);
  assert.deepEqual(alerts(score(s, flow("d", T0), [1, 0, 0, 0]).effects), []);
  assert.equal(
    alerts(score(s, flow("e", T0), [0.35, 0, 0, 0.65]).effects)[0]?.rule,
    "flow.port_scanning",
  );
  // Past the cool-down: a new episode, a new alert.
  r = score(s, flow("f", T0 + 60_000 + defaults.alerts.cooldown_ms), [0, 0, 0.97, 0.03]);
  assert.deepEqual(alerts(r.effects).map((a) => a.event_ids[0]), ["f"]);
  assert.equal(r.state.flows, 3);
  assert.equal(r.state.predicted["DDoS"], 3);
});

Deno.test("Without a model a source actor counts its flows and asks for no score", () => {
  const b = sourceBehaviour({ alerts: defaults.alerts, net: defaults.net, model: () => null });
  const r = b.receive(b.initial("x"), { kind: "event", event: flow("a", T0) }, ctx);
  assert.deepEqual(r.effects, []);
  assert.equal(r.state.flows, 1);
  assert.equal(flowRule("Web Attacks"), "flow.web_attacks");
});

import assert from "node:assert/strict";
import { sourceBehaviour, type SourceState } from "../../actors/source.ts";
import { findScans } from "../../actors/rules/scans.ts";
import { addRecent, EMPTY_RECENT } from "../../actors/window.ts";
import type { ActorContext, AlertDraft } from "../../actors/types.ts";
import { defaults } from "../../config/defaults.ts";
import type { OtherEvent } from "../../events/types.ts";

const SEC = 1_000;
const T0 = Date.UTC(2024, 0, 1, 12);
const CTX = { self: { type: "src", key: "198.18.0.9" }, watermark_ms: 0 } as ActorContext;

function flow(id: string, ts: number, dst: string, port: number, fwd = 1): OtherEvent {
  return {
    kind: "flow",
    event_id: id,
    ts,
    raw: {
      src_ip: "198.18.0.9",
      dst_ip: dst,
      dst_port: port,
      features: { "Total Fwd Packets": fwd },
    },
  } as OtherEvent;
}

function feed(flows: OtherEvent[]) {
  const b = sourceBehaviour({ alerts: defaults.alerts, net: defaults.net, model: () => null });
  let s: SourceState = b.initial("198.18.0.9");
  const alerts: AlertDraft[] = [];
  for (const e of flows) {
    const step = b.receive(s, { kind: "event", event: e }, CTX);
    s = step.state;
    for (const x of step.effects) if (x.kind === "alert") alerts.push(x.alert);
  }
  return { state: s, alerts };
}

const ports = (n: number, start = T0, step = SEC, fwd = 1) =>
  Array.from({ length: n }, (_, i) => flow(`p${i}`, start + i * step, "192.0.2.10", 1000 + i, fwd));

Deno.test("net.port_scan fires at the 15th distinct port of one host within 5 min, not at the 14th", () => {
  assert.deepEqual(feed(ports(14)).alerts, []);
  const fired = feed(ports(15)).alerts;
  assert.equal(fired.length, 1);
  const a = fired[0]!;
  assert.equal(a.rule, "net.port_scan");
  assert.deepEqual(a.entity, { type: "src", key: "198.18.0.9" });
  assert.equal(a.evidence.host, "192.0.2.10");
  assert.equal(a.evidence.distinct_ports, 15);
  assert.equal(a.evidence.model_port_scanning_flows, 0, "the rule alone saw it");
  assert.equal(a.event_ids.length, 15);
  // The same port again is not a new one; 15 ports over more than 5 min are not a scan.
  const repeats = [...ports(14), flow("again", T0 + 20 * SEC, "192.0.2.10", 1000)];
  assert.deepEqual(feed(repeats).alerts, []);
  assert.deepEqual(feed(ports(15, T0, 22 * SEC)).alerts, [], "15 ports over 5 min 8 s");
});

Deno.test("net.port_scan counts probes only: flows with many forward packets are connections", () => {
  assert.deepEqual(feed(ports(30, T0, SEC, 40)).alerts, []);
});

Deno.test("net.address_scan fires at the 25th host on one port; a long scan alerts once per cool-down", () => {
  const hosts = (n: number) =>
    Array.from({ length: n }, (_, i) => flow(`h${i}`, T0 + i * SEC, `192.0.2.${i + 1}`, 22));
  assert.deepEqual(feed(hosts(24)).alerts, []);
  const fired = feed(hosts(25)).alerts;
  assert.deepEqual(fired.map((a) => a.rule), ["net.address_scan"]);
  assert.equal(fired[0]!.evidence.port, "22");
  assert.equal(feed(hosts(200)).alerts.length, 1);
});

Deno.test("While one scan rule cools down the other is still looked for; findScans reports only the rules asked for", () => {
  const hosts = Array.from(
    { length: 25 },
    (_, i) => flow(`h${i}`, T0 + (20 + i) * SEC, `192.0.2.${i + 100}`, 22),
  );
  const { alerts } = feed([...ports(20), ...hosts]);
  assert.deepEqual(alerts.map((a) => a.rule), ["net.port_scan", "net.address_scan"]);

  let probes = EMPTY_RECENT;
  for (let i = 0; i < 30; i++) {
    probes = addRecent(probes, T0 + i, `p${i}`, `192.0.2.10|${1000 + i}`, 300_000, 256);
  }
  const both = findScans(probes, T0 + 30, defaults.net);
  assert.deepEqual(both.map((s) => s.rule), ["net.port_scan"]);
  assert.equal(both[0]!.count, 30);
  assert.deepEqual(findScans(probes, T0 + 30, defaults.net, { ports: false, hosts: true }), []);
  assert.deepEqual(
    findScans(probes, T0 + 30, defaults.net, { ports: true, hosts: false }),
    both,
  );
});

/** A flow answered with data: a DNS reply of `bwd` bytes (Bwd Packet Length Max). */
function answered(id: string, ts: number, dst: string, port: number, bwd: number): OtherEvent {
  const e = flow(id, ts, dst, port, 1);
  (e.raw.features as Record<string, number>)["Bwd Packet Length Max"] = bwd;
  return e;
}

Deno.test("net.address_scan: a resolver's answered queries to many servers are no scan; unanswered probes of as many hosts are", () => {
  // A recursive resolver asks 60 authoritative servers within 2 min; each answers.
  const resolver = Array.from(
    { length: 60 },
    (_, i) => answered(`q${i}`, T0 + i * 2 * SEC, `198.18.0.${i + 1}`, 53, 120 + i),
  );
  assert.deepEqual(feed(resolver).alerts, []);
  // The same hosts probed with nothing (or a bare RST) coming back: an address scan.
  const probes = Array.from(
    { length: 60 },
    (_, i) => answered(`s${i}`, T0 + i * 2 * SEC, `198.18.0.${i + 1}`, 53, 0),
  );
  const fired = feed(probes).alerts;
  assert.equal(fired.length, 1);
  assert.equal(fired[0]!.rule, "net.address_scan");
  assert.equal(fired[0]!.evidence.distinct_hosts, 25);
});

Deno.test("net.port_scan: answered connections to many ports of a host (passive FTP) are no scan", () => {
  const ftp = Array.from(
    { length: 40 },
    (_, i) => answered(`f${i}`, T0 + i * 3 * SEC, "198.51.100.20", 50_000 + i, 1_448),
  );
  assert.deepEqual(feed(ftp).alerts, []);
});

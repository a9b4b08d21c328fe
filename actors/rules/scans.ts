/**
 * `net.port_scan` and `net.address_scan` (docs/detections.md, after Zeek's scan policy): one
 * source probing many ports of one host, or many hosts on one port, within a window of
 * event time. A probe is a flow with few forward packets and no answer carrying data (a
 * refused, unanswered or bare connection attempt): a served request is no probe.
 *
 * @module
 */

import type { NetRules } from "../../config/defaults.ts";
import type { OtherEvent } from "../../events/types.ts";
import type { AlertDraft } from "../types.ts";
import { addRecent, type Recent, within } from "../window.ts";

/** Whether a flow is a probe, and its target as `host|port` (null: not a probe). */
export function probeOf(e: OtherEvent, r: NetRules): string | null {
  const features = e.raw.features as Record<string, unknown> | undefined;
  const fwd = features?.["Total Fwd Packets"];
  if (typeof fwd === "number" && fwd > r.probe_max_fwd_packets) return null;
  const answer = features?.["Bwd Packet Length Max"];
  if (typeof answer === "number" && answer > r.probe_max_bwd_bytes) return null;
  const host = e.raw.dst_ip, port = e.raw.dst_port;
  if (typeof host !== "string" || port === undefined || port === null) return null;
  return `${host}|${String(port)}`;
}

/**
 * The scans the probes in the window show, strongest first: at most one of each rule
 * (of the rules looked for: `ports` for `net.port_scan`, `hosts` for `net.address_scan`).
 */
export function findScans(
  probes: Recent,
  now: number,
  r: NetRules,
  look = { ports: true, hosts: true },
): { rule: "net.port_scan" | "net.address_scan"; target: string; count: number; ids: string[] }[] {
  const w = within(probes, now - r.scan_window_ms, now);
  const portsOf = new Map<string, Set<string>>(), hostsOf = new Map<string, Set<string>>();
  for (const tag of w.tags) {
    const bar = tag.lastIndexOf("|");
    const host = tag.slice(0, bar), port = tag.slice(bar + 1);
    if (look.ports) (portsOf.get(host) ?? portsOf.set(host, new Set()).get(host)!).add(port);
    if (look.hosts) (hostsOf.get(port) ?? hostsOf.set(port, new Set()).get(port)!).add(host);
  }
  const out: ReturnType<typeof findScans> = [];
  const best = (m: Map<string, Set<string>>) =>
    [...m].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1))[0];
  const ports = best(portsOf), hosts = best(hostsOf);
  const idsFor = (match: (tag: string) => boolean) => w.ids.filter((_, i) => match(w.tags[i]!));
  if (ports && ports[1].size >= r.port_scan_ports) {
    out.push({
      rule: "net.port_scan",
      target: ports[0],
      count: ports[1].size,
      ids: idsFor((t) => t.startsWith(`${ports[0]}|`)),
    });
  }
  if (hosts && hosts[1].size >= r.address_scan_hosts) {
    out.push({
      rule: "net.address_scan",
      target: hosts[0],
      count: hosts[1].size,
      ids: idsFor((t) => t.endsWith(`|${hosts[0]}`)),
    });
  }
  return out;
}

/** A probe added to the source's window. */
export function addProbe(probes: Recent, e: OtherEvent, target: string, r: NetRules): Recent {
  return addRecent(probes, e.ts, e.event_id, target, r.scan_window_ms, r.max_probes_tracked);
}

/** The alert of a scan found. */
export function scanAlert(
  scan: ReturnType<typeof findScans>[number],
  src: string,
  ts: number,
  r: NetRules,
  model_agrees: number,
): AlertDraft {
  const port = scan.rule === "net.port_scan";
  return {
    rule: scan.rule,
    severity: "medium",
    entity: { type: "src", key: src },
    ts,
    evidence: {
      [port ? "host" : "port"]: scan.target,
      [port ? "distinct_ports" : "distinct_hosts"]: scan.count,
      threshold: port ? r.port_scan_ports : r.address_scan_hosts,
      window_s: r.scan_window_ms / 1000,
      // Model and behaviour signals combined: flows of this source the classifier put in
      // Port Scanning so far (0: the rule alone saw it).
      model_port_scanning_flows: model_agrees,
    },
    event_ids: scan.ids.slice(-50),
    dedup: `${scan.target}@${scan.ids[0]}`,
  };
}

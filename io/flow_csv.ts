/**
 * Raw CICFlowMeter CSV → flow events (docs/events-and-alerts.md: `kind: "flow"`, `src_ip`, `dst_ip`, ports,
 * protocol, `flow_id`, and `features` keyed by the 52 CICIDS2017 names).
 *
 * Reads both layouts of CICIDS2017: MachineLearningCVE (78 features + ` Label`, names with
 * leading spaces, no addresses) and GeneratedLabelledFlows/TrafficLabelling (with `Flow ID`,
 * `Source IP`, ports, `Timestamp`). Names are trimmed; of a repeated name (`Fwd Header
 * Length`) the first column counts; `Infinity` and `NaN` are kept as the model expects them
 * (the model clips them), written as the strings "Infinity", "-Infinity" and "NaN" since JSON
 * has no such numbers.
 *
 * @module
 */

import { FLOW_FEATURES } from "../events/flow_features.ts";

export { FLOW_FEATURES };

/** Where rows without addresses or times (MachineLearningCVE) get them from. */
export interface FlowCsvOptions {
  /** `src_ip` for rows without a `Source IP` column. */
  src_ip?: string;
  /** `dst_ip` for rows without a `Destination IP` column. */
  dst_ip?: string;
  /** Event time (epoch ms) for rows without a readable `Timestamp`. */
  timestamp_ms: number;
  /** A name for event ids: rows get `<name>:<line>` unless they carry a flow id. */
  source: string;
}

/** One row read: a flow event, or why not. */
export type FlowRow =
  | { ok: true; line: number; event: Record<string, unknown> }
  | { ok: false; line: number; reason: string; raw: string };

/** A CSV line split into fields (double quotes may enclose commas and doubled quotes). */
export function splitCsvLine(line: string): string[] {
  if (!line.includes('"')) return line.split(",");
  const out: string[] = [];
  let field = "", quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') (field += '"', i++);
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") (out.push(field), field = "");
    else field += c;
  }
  out.push(field);
  return out;
}

/** Reads a header line; throws, saying what is missing, if the 52 features are not all there. */
export function flowCsvReader(
  header: string,
  options: FlowCsvOptions,
): (line: string, lineNo: number) => FlowRow {
  const names = splitCsvLine(header.replace(/^\uFEFF/, "")).map((n) => n.trim());
  const index = new Map<string, number>();
  names.forEach((n, i) => {
    if (!index.has(n)) index.set(n, i);
  });
  const missing = FLOW_FEATURES.filter((f) => !index.has(f));
  if (missing.length > 0) {
    throw new Error(
      `Cannot import flows: the header lacks ${missing.length} of the 52 features (${
        missing.slice(0, 5).join(", ")
      }${missing.length > 5 ? ", …" : ""})`,
    );
  }
  const featureAt = FLOW_FEATURES.map((f) => index.get(f)!);
  const col = (name: string) => index.get(name);
  const at = {
    flowId: col("Flow ID"),
    srcIp: col("Source IP") ?? col("Src IP"),
    dstIp: col("Destination IP") ?? col("Dst IP"),
    srcPort: col("Source Port") ?? col("Src Port"),
    protocol: col("Protocol"),
    timestamp: col("Timestamp"),
    label: col("Label"),
  };
  return (line, lineNo) => {
    const fail = (reason: string): FlowRow => ({ ok: false, line: lineNo, reason, raw: line });
    const cells = splitCsvLine(line);
    if (cells.length < names.length) {
      return fail(`line ${lineNo}: ${cells.length} fields, the header has ${names.length}`);
    }
    const features: Record<string, number | string> = {};
    for (let i = 0; i < FLOW_FEATURES.length; i++) {
      const text = cells[featureAt[i]!]!.trim();
      const v = value(text);
      if (v === null) {
        return fail(
          `line ${lineNo}: "${FLOW_FEATURES[i]}" is ${JSON.stringify(text)}, not a number`,
        );
      }
      features[FLOW_FEATURES[i]!] = v;
    }
    const cell = (i: number | undefined) => i === undefined ? "" : cells[i]!.trim();
    const src_ip = cell(at.srcIp) || options.src_ip;
    const dst_ip = cell(at.dstIp) || options.dst_ip;
    if (!src_ip) return fail(`line ${lineNo}: no Source IP column; give --src-ip`);
    if (!dst_ip) return fail(`line ${lineNo}: no Destination IP column; give --dst-ip`);
    const ts = parseFlowTime(cell(at.timestamp)) ?? options.timestamp_ms;
    const flowId = cell(at.flowId);
    const event: Record<string, unknown> = {
      kind: "flow",
      event_id: `${options.source}:${lineNo}`,
      timestamp: new Date(ts).toISOString(),
      src_ip,
      dst_ip,
      dst_port: Number(features["Destination Port"]),
      features,
    };
    if (at.srcPort !== undefined) event.src_port = Number(cell(at.srcPort));
    if (at.protocol !== undefined) event.protocol = Number(cell(at.protocol));
    if (flowId) event.flow_id = flowId;
    if (at.label !== undefined) event.label = cell(at.label);
    return { ok: true, line: lineNo, event };
  };
}

function value(text: string): number | string | null {
  if (text === "Infinity" || text === "inf") return "Infinity";
  if (text === "-Infinity" || text === "-inf") return "-Infinity";
  if (text === "NaN" || text === "nan" || text === "") return "NaN";
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** CICIDS2017's `d/m/yyyy h:mm[:ss] [AM|PM]` (as in the TrafficLabelling files), or ISO; null if neither. */
export function parseFlowTime(text: string): number | null {
  if (text === "") return null;
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?(?: ?([AP]M))?$/i.exec(
    text,
  );
  if (m) {
    let h = Number(m[4]);
    if (m[7]?.toUpperCase() === "PM" && h < 12) h += 12;
    if (m[7]?.toUpperCase() === "AM" && h === 12) h = 0;
    const ms = Date.UTC(
      Number(m[3]),
      Number(m[2]) - 1,
      Number(m[1]),
      h,
      Number(m[5]),
      Number(m[6] ?? 0),
    );
    return Number.isFinite(ms) ? ms : null;
  }
  const iso = Date.parse(text);
  return Number.isFinite(iso) ? iso : null;
}

/**
 * The per-source actor (key `src_ip`): it scores each of its flows with the CICIDS2017
 * flow classifier and raises `flow.<class>` when a flow falls in an attack class with a
 * probability at or above that class's threshold (docs/detections.md: 0.9).
 *
 * Scoring is an `infer` effect: the runtime batches rows across actors, and this actor's
 * turn resumes with the reply. A flow's score is asked for as the flow is admitted
 * (`prefetch`), so a burst of one source's flows is scored in one batch, not one
 * batcher round trip after another. One alert per (class, source, episode): a class that keeps
 * matching raises again only after the cool-down, counting the flows meanwhile.
 *
 * @module
 */

import type { AlertLimits, NetRules } from "../config/defaults.ts";
import { addProbe, findScans, probeOf, scanAlert } from "./rules/scans.ts";
import { onFlow, type Pair } from "./rules/flood.ts";
import { cooledDown, EMPTY_RECENT, type Recent } from "./window.ts";
import type { OtherEvent } from "../events/types.ts";
import { flowFeatures, type FlowRow } from "../events/flow_features.ts";
import { type Behaviour, type Effect, NO_EFFECTS, type Step } from "./types.ts";

/** The actor type name. */
export const SOURCE = "src";

/** The model the actor asks for. */
export const FLOW_MODEL = "flow_classifier";

/** What the actor learns of the model it is served (from its manifest). */
export interface FlowModelView {
  version: string;
  classes: readonly string[];
  /** The class of ordinary traffic (never alerted). */
  benign: string;
  default_threshold: number;
  per_class: Readonly<Record<string, number>>;
}

/** The parameters a source actor reads on every turn. */
export interface SourceParams {
  alerts: AlertLimits;
  net: NetRules;
  /** The active flow model, or null when none is loaded (flows are then counted only). */
  model(): FlowModelView | null;
}

/** What a scored flow carries back to its actor. */
interface Scored {
  kind: "scored";
  event_id: string;
  ts: number;
  dst_ip: string;
  dst_port: unknown;
  flow_id: unknown;
  missing: number;
  probabilities: Float32Array;
}

/** Messages a source actor understands. */
export type SourceMessage = { kind: "event"; event: OtherEvent } | Scored;

/** An open alert episode of one class. */
interface Episode {
  readonly class: string;
  /** Event time of the flow that raised it. */
  readonly since_ms: number;
  /** Event time of the latest flow of the class. */
  readonly last_ms: number;
  /** Flows of the class in the episode. */
  readonly flows: number;
}

/** A source's state. Never mutated: each turn returns a new one. */
export interface SourceState {
  readonly flows: number;
  readonly scored: number;
  /** Flows per predicted class. */
  readonly predicted: Readonly<Record<string, number>>;
  readonly episodes: readonly Episode[];
  /** Recent probes (few-packet flows) by target `host|port` (the scan rules). */
  readonly probes: Recent;
  /** Event time of the last alert of each scan rule (cool-down). */
  readonly scan_alerts: Readonly<Record<string, number>>;
  /** Per destination: flows this minute and the pair's baseline (`net.flood`). */
  readonly pairs: readonly Pair[];
}

const INITIAL: SourceState = Object.freeze({
  flows: 0,
  scored: 0,
  predicted: Object.freeze({}),
  episodes: Object.freeze([]),
  probes: EMPTY_RECENT,
  scan_alerts: Object.freeze({}),
  pairs: Object.freeze([]),
});

/** `flow.<class>`: the rule name of a class ("Port Scanning" → `flow.port_scanning`). */
export function flowRule(cls: string): string {
  return `flow.${cls.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_|_$/g, "")}`;
}

/**
 * The severity of a class: the model's reading alone is an attempt (medium), as a login's
 * risk score is a suspicion; the behaviour rules say an attack is under way (`net.flood` is
 * high). Reconnaissance is context.
 */
const SEVERITY: Readonly<Record<string, "low" | "medium">> = Object.freeze({
  "DDoS": "medium",
  "DoS": "medium",
  "Bots": "medium",
  "Brute Force": "medium",
  "Web Attacks": "medium",
  "Port Scanning": "low",
});

/** The source behaviour. */
export function sourceBehaviour(params: SourceParams): Behaviour<SourceState, SourceMessage> {
  return {
    type: SOURCE,
    initial: () => INITIAL,
    receive: (state, message, ctx) => receive(state, message, ctx.self.key, params),
    view,
    // A flow's features are the flow's own: its score need not wait for the flows before it.
    prefetch: (m) => {
      if (m.kind !== "event" || params.model() === null) return null;
      return { model: FLOW_MODEL, features: rowOf(m.event).row };
    },
  };
}

/** A flow's row, built when it was validated (or here, for a flow that was not). */
function rowOf(e: OtherEvent): FlowRow {
  return e.row ??= flowFeatures(e.raw.features);
}

function receive(
  s: SourceState,
  m: SourceMessage,
  key: string,
  p: SourceParams,
): Step<SourceState> {
  if (m.kind === "event") {
    const e = m.event;
    const cooldown = p.alerts.cooldown_ms;
    let probes = s.probes, scan_alerts = s.scan_alerts, pairs = s.pairs;
    const scans: Effect[] = [];
    const target = probeOf(e, p.net);
    if (target !== null) {
      probes = addProbe(s.probes, e, target, p.net);
      // Only a rule that may alert now is looked for (the search walks the whole window).
      const ports = probes.ts.length >= p.net.port_scan_ports &&
        cooledDown(scan_alerts["net.port_scan"], e.ts, cooldown);
      const hosts = probes.ts.length >= p.net.address_scan_hosts &&
        cooledDown(scan_alerts["net.address_scan"], e.ts, cooldown);
      if (ports || hosts) {
        for (const scan of findScans(probes, e.ts, p.net, { ports, hosts })) {
          scan_alerts = { ...scan_alerts, [scan.rule]: e.ts };
          const agrees = s.predicted["Port Scanning"] ?? 0;
          scans.push({ kind: "alert", alert: scanAlert(scan, key, e.ts, p.net, agrees) });
        }
      }
    }
    if (typeof e.raw.dst_ip === "string") {
      const flood = onFlow(s.pairs, key, e.raw.dst_ip, e.ts, e.event_id, p.net);
      pairs = flood.pairs;
      if (flood.alert && cooledDown(scan_alerts["net.flood"], e.ts, cooldown)) {
        scan_alerts = { ...scan_alerts, "net.flood": e.ts };
        scans.push({ kind: "alert", alert: flood.alert });
      }
    }
    const counted: SourceState = {
      flows: s.flows + 1,
      scored: s.scored,
      predicted: s.predicted,
      episodes: s.episodes,
      probes,
      scan_alerts,
      pairs,
    };
    if (p.model() === null) {
      return { state: counted, effects: scans.length > 0 ? scans : NO_EFFECTS };
    }
    const { row, missing } = rowOf(e);
    return {
      state: counted,
      effects: [...scans, {
        kind: "infer",
        model: FLOW_MODEL,
        features: row,
        reply: (probabilities): Scored => ({
          kind: "scored",
          event_id: e.event_id,
          ts: e.ts,
          dst_ip: String(e.raw.dst_ip),
          dst_port: e.raw.dst_port ?? null,
          flow_id: e.raw.flow_id ?? null,
          missing,
          probabilities,
        }),
      }],
    };
  }
  const model = p.model();
  if (model === null) return { state: s, effects: NO_EFFECTS };
  const probs = m.probabilities;
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  const cls = model.classes[best] ?? String(best);
  const probability = probs[best]!;
  const predicted = { ...s.predicted, [cls]: (s.predicted[cls] ?? 0) + 1 };
  const threshold = model.per_class[cls] ?? model.default_threshold;
  const base = { ...s, scored: s.scored + 1, predicted };
  if (cls === model.benign || !(probability >= threshold)) {
    return { state: base, effects: NO_EFFECTS };
  }
  const open = s.episodes.find((ep) => ep.class === cls);
  const cooldown = p.alerts.cooldown_ms;
  if (open && m.ts - open.last_ms < cooldown && m.ts >= open.since_ms) {
    const episodes = s.episodes.map((ep) =>
      ep === open ? { ...ep, last_ms: Math.max(ep.last_ms, m.ts), flows: ep.flows + 1 } : ep
    );
    return { state: { ...base, episodes }, effects: NO_EFFECTS };
  }
  const episode: Episode = { class: cls, since_ms: m.ts, last_ms: m.ts, flows: 1 };
  const episodes = [...s.episodes.filter((ep) => ep.class !== cls), episode];
  const evidence: Record<string, unknown> = {
    class: cls,
    probability: round(probability),
    threshold,
    probabilities: Object.fromEntries(model.classes.map((c, i) => [c, round(probs[i]!)])),
    dst_ip: m.dst_ip,
    dst_port: m.dst_port,
    flow_id: m.flow_id,
    model_version: model.version,
  };
  if (m.missing > 0) evidence.missing_features = m.missing;
  return {
    state: { ...base, episodes },
    effects: [{
      kind: "alert",
      alert: {
        rule: flowRule(cls),
        severity: SEVERITY[cls] ?? "medium",
        entity: { type: SOURCE, key },
        ts: m.ts,
        evidence,
        event_ids: [m.event_id],
        dedup: m.event_id,
        score: round(probability),
        model: `${FLOW_MODEL}@${model.version}`,
      },
    }],
  };
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function view(s: SourceState): unknown {
  return {
    flows: s.flows,
    scored: s.scored,
    predicted: s.predicted,
    episodes: s.episodes.map((e) => ({
      class: e.class,
      rule: flowRule(e.class),
      since: new Date(e.since_ms).toISOString(),
      last: new Date(e.last_ms).toISOString(),
      flows: e.flows,
    })),
  };
}

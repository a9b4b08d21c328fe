/**
 * What the simulator's events and ground truth are: the scenarios it injects (auth,
 * network and operations), an injected attack's truth and a simulated event. The
 * simulator (`simulator.ts`) and its operations traffic (`ops.ts`) both make them.
 *
 * @module
 */

/** Attack scenarios the simulator can inject. */
export const SCENARIOS = [
  "brute_force",
  "guess_then_success",
  "password_spray",
  "credential_stuffing",
  "account_takeover",
  "impossible_travel",
  "slow_attack",
] as const;
/** One attack scenario. */
export type Scenario = (typeof SCENARIOS)[number];

/**
 * Network scenarios besides the flow model's attack classes, in the flows' rotation: a
 * port scan of one host, an address scan of one port, and a flood from a source that
 * talked to its target normally before.
 */
export const NET_SCENARIOS = ["port_scan", "address_scan", "flood"] as const;
/** One network scenario. */
export type NetScenario = (typeof NET_SCENARIOS)[number];

/** The incidents, in rotation. */
export const OPS_SCENARIOS = [
  "error_burst",
  "cpu_saturation",
  "latency_spike",
  "rapid_transfers",
  "large_transfer",
  "traffic_spike",
  "deploy",
] as const;
export type OpsScenario = (typeof OPS_SCENARIOS)[number];

/** The ground truth of one injected attack. */
export interface Truth {
  scenario: Scenario | "flow_attack" | NetScenario | OpsScenario;
  rules: readonly string[];
  /** The user attacked, the attacking IP for attacks across many users, or a flow source. */
  entity: { type: "user" | "ip" | "src" | "service" | "page"; key: string };
  attacker_ip: string;
  start: string;
  end: string;
  /** The event at which the attack becomes detectable (the last one of it). */
  decisive_event_id: string;
  event_ids: string[];
  /** The attacker's successful logins (the ones `auth.risky_login` should find), if any. */
  risky_logins?: { user_id: string; event_id: string }[];
}

/** A simulated event: a JSON-ready object in docs/events-and-alerts.md format. */
export type SimEvent = Record<string, unknown> & { kind: string; timestamp: string };

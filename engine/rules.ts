/**
 * The rules as an operator sees them: each rule's name, entity, mode (enforce or shadow)
 * and the parameters it reads, changed at run time through the API. The actors read
 * their parameters from the live configuration on every turn, so a change takes effect
 * with the next event; a rule in shadow mode still raises its alerts, marked
 * `mode: "shadow"`, for evaluation without acting on them.
 *
 * @module
 */

import type { Config } from "../config/defaults.ts";
import { checkConfig, ConfigError } from "../config/load.ts";
import { outOfRange, PARAM_RANGES } from "../config/ranges.ts";
import type { RuleStanding } from "./feedback_tracker.ts";

/** Whether a rule's alerts count (enforce) or are only for evaluation (shadow). */
export type Mode = "enforce" | "shadow";

/** A rule, its mode and its parameters now. */
export interface RuleInfo {
  rule: string;
  entity: string;
  mode: Mode;
  /** Parameter name → value (the configuration's `section.name`, by its name). */
  params: Record<string, number>;
}

/** Each rule and the configuration values it reads, as `section.name`. */
export const RULES: readonly { rule: string; entity: string; params: readonly string[] }[] = [
  {
    rule: "auth.brute_force",
    entity: "user",
    params: [
      "auth.brute_force_failures",
      "auth.brute_force_window_ms",
      "auth.brute_force_lock_step_ms",
      "auth.brute_force_lock_max_ms",
      "auth.brute_force_reset_ms",
    ],
  },
  {
    rule: "auth.success_after_failures",
    entity: "user",
    params: ["auth.success_after_failures_min", "auth.success_after_failures_window_ms"],
  },
  {
    rule: "auth.impossible_travel",
    entity: "user",
    params: ["auth.impossible_travel_speed_kmh", "auth.impossible_travel_min_km"],
  },
  { rule: "auth.new_device_location", entity: "user", params: ["auth.new_device_min_logins"] },
  {
    rule: "auth.risky_login",
    entity: "user",
    params: ["auth.risky_login_low", "auth.risky_login_medium", "auth.risky_login_high"],
  },
  {
    rule: "tx.large_amount",
    entity: "user",
    params: [
      "tx.large_amount_sigma",
      "tx.large_amount_history",
      "tx.large_amount_min_history",
      "tx.large_amount_cap",
    ],
  },
  {
    rule: "tx.rapid_transfers",
    entity: "user",
    params: ["tx.rapid_transfers_max", "tx.rapid_transfers_window_ms"],
  },
  {
    rule: "user.account_takeover",
    entity: "user",
    params: [
      "user.account_takeover_window_ms",
      "user.account_takeover_min_amount",
      "user.max_payees",
    ],
  },
  {
    rule: "user.compromise_after_attack",
    entity: "user",
    params: ["user.compromise_window_ms"],
  },
  {
    rule: "ip.password_spray",
    entity: "ip",
    params: [
      "ip.spray_min_users",
      "ip.spray_min_attempts",
      "ip.spray_min_per_user",
      "ip.spray_max_per_user",
      "ip.spray_window_ms",
      "ip.shared_success_ratio",
    ],
  },
  {
    rule: "ip.credential_stuffing",
    entity: "ip",
    params: [
      "ip.stuffing_min_users",
      "ip.stuffing_min_attempts",
      "ip.stuffing_max_per_user",
      "ip.stuffing_min_share",
      "ip.stuffing_window_ms",
      "ip.shared_success_ratio",
    ],
  },
  {
    rule: "ip.throttle",
    entity: "ip",
    params: ["ip.throttle_capacity", "ip.throttle_refill_ms", "ip.shared_success_ratio"],
  },
  {
    rule: "svc.error_burst",
    entity: "service",
    params: ["svc.error_burst_max", "svc.error_burst_window_ms"],
  },
  {
    rule: "svc.high_cpu",
    entity: "service",
    params: ["svc.high_cpu_percent", "svc.sustained_samples"],
  },
  {
    rule: "svc.high_latency",
    entity: "service",
    params: ["svc.high_latency_ms", "svc.sustained_samples"],
  },
  {
    rule: "svc.metric_anomaly",
    entity: "service",
    params: [
      "svc.anomaly_z",
      "svc.anomaly_iqr",
      "svc.anomaly_min_samples",
      "svc.anomaly_min_methods",
      "svc.max_metrics",
      "svc.sustained_samples",
    ],
  },
  {
    rule: "net.port_scan",
    entity: "src",
    params: [
      "net.port_scan_ports",
      "net.scan_window_ms",
      "net.probe_max_fwd_packets",
      "net.probe_max_bwd_bytes",
    ],
  },
  {
    rule: "net.address_scan",
    entity: "src",
    params: [
      "net.address_scan_hosts",
      "net.scan_window_ms",
      "net.probe_max_fwd_packets",
      "net.probe_max_bwd_bytes",
    ],
  },
  {
    rule: "net.flood",
    entity: "src",
    params: ["net.flood_z", "net.flood_min_flows", "net.flood_min_windows"],
  },
  {
    rule: "click.traffic_spike",
    entity: "page",
    params: [
      "page.spike_z",
      "page.spike_min_windows",
      "page.spike_min_views",
      "page.spike_ratio",
      "page.spike_p_value",
    ],
  },
];

/** A change asked for that cannot be made (the API answers 400 with the message). */
export class RuleError extends Error {
  override name = "RuleError";
}

type Sections = Record<string, Record<string, unknown>>;

/** The rules of one process: modes, and parameters in the live configuration. */
export class Rules {
  #config: Config;
  #modes = new Map<string, Mode>();
  #dynamic: () => string[];

  /**
   * `dynamic`: rules known only at run time (`flow.<class>` of the active flow model),
   * which take a mode but read no parameter here. Throws a ConfigError for an unknown
   * rule in `rules.shadow`.
   */
  constructor(config: Config, dynamic: () => string[] = () => []) {
    this.#config = config;
    this.#dynamic = dynamic;
    for (const name of config.rules.shadow.split(",").map((r) => r.trim()).filter(Boolean)) {
      if (!RULES.some((r) => r.rule === name) && !name.startsWith("flow.")) {
        throw new ConfigError(
          `Cannot put rule "${name}" in shadow mode (VIGIL_RULES_SHADOW): no such rule; ` +
            `known: ${RULES.map((r) => r.rule).join(", ")}, flow.<class>`,
        );
      }
      this.#modes.set(name, "shadow");
    }
  }

  /** The mode of a rule's alerts. */
  modeOf(rule: string): Mode {
    return this.#modes.get(rule) ?? "enforce";
  }

  /** Every rule, with its mode and parameters now. */
  list(): RuleInfo[] {
    const out = RULES.map((r) => this.#info(r.rule, r.entity, r.params));
    for (const rule of this.#dynamic()) out.push(this.#info(rule, "src", []));
    return out;
  }

  /** One rule, or null when there is none by that name. */
  get(rule: string): RuleInfo | null {
    return this.list().find((r) => r.rule === rule) ?? null;
  }

  /**
   * Changes a rule's mode and parameters together, or nothing: a parameter the rule does
   * not read, a value that is not a finite number or is outside the parameter's range
   * (`config/ranges.ts`), or values the configuration refuses (e.g. risk levels out of
   * order) throw a RuleError. Returns the rule as it is now, or null when there is no such
   * rule.
   */
  change(rule: string, change: { mode?: unknown; params?: unknown }): RuleInfo | null {
    const info = this.get(rule);
    if (!info) return null;
    const { mode, params } = change;
    if (mode !== undefined && mode !== "enforce" && mode !== "shadow") {
      throw new RuleError(`Cannot set mode ${JSON.stringify(mode)}: use "enforce" or "shadow"`);
    }
    if (params !== undefined && (typeof params !== "object" || params === null)) {
      throw new RuleError('Cannot use "params": send an object of parameter name → number');
    }
    const paths = RULES.find((r) => r.rule === rule)?.params ?? [];
    const candidate = structuredClone(this.#config) as Config;
    const writes: [section: string, name: string, value: number][] = [];
    for (const [name, value] of Object.entries(params ?? {})) {
      const path = paths.find((p) => p.endsWith(`.${name}`));
      if (!path) {
        throw new RuleError(
          `Rule ${rule} has no parameter "${name}"; it has: ${
            Object.keys(info.params).join(", ") || "none"
          }`,
        );
      }
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
        throw new RuleError(
          `Cannot set ${name} to ${JSON.stringify(value)}: it must be a number ≥ 0`,
        );
      }
      const range = PARAM_RANGES.get(path);
      const outside = range ? outOfRange(value, range) : null;
      if (outside) throw new RuleError(`Cannot set ${name} to ${value}: ${outside}`);
      const [section, leaf] = path.split(".") as [string, string];
      (candidate as unknown as Sections)[section]![leaf] = value;
      writes.push([section, leaf, value]);
    }
    try {
      checkConfig(candidate);
    } catch (err) {
      if (err instanceof ConfigError) throw new RuleError(err.message);
      throw err;
    }
    const live = this.#config as unknown as Sections;
    for (const [section, leaf, value] of writes) live[section]![leaf] = value;
    if (mode !== undefined) this.#modes.set(rule, mode);
    return this.get(rule);
  }

  #info(rule: string, entity: string, paths: readonly string[]): RuleInfo {
    const sections = this.#config as unknown as Sections;
    const params: Record<string, number> = {};
    for (const path of paths) {
      const [section, leaf] = path.split(".") as [string, string];
      params[leaf] = sections[section]![leaf] as number;
    }
    return { rule, entity, mode: this.modeOf(rule), params };
  }
}

/** A rule as the API shows it: as it runs, with its precision and budget. */
export type RuleView = RuleInfo & RuleStanding;

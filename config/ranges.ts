/**
 * The range of every rule parameter the API can change (`engine/rules.ts`): a value
 * outside it is refused, by `PATCH /api/v1/rules/{rule}` (400, naming the range) and at
 * start from the environment (a ConfigError), so a typo cannot switch a rule off
 * (`1e308` failures) or let a state grow without bound (`1e9` payees remembered).
 *
 * The ranges are wide: each takes every value a deployment could mean, and the defaults
 * (`defaults.ts`) sit well inside.
 *
 * @module
 */

/** The values a parameter may take. */
export interface Range {
  min: number;
  max: number;
  /** A count or a duration in ms: a whole number. */
  integer: boolean;
}

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const whole = (min: number, max: number): Range => ({ min, max, integer: true });
const real = (min: number, max: number): Range => ({ min, max, integer: false });

/** Each rule parameter, as `section.name`, and its range. */
export const PARAM_RANGES: ReadonlyMap<string, Range> = new Map([
  ["auth.brute_force_failures", whole(1, 1_000)],
  ["auth.brute_force_window_ms", whole(SECOND, DAY)],
  ["auth.brute_force_lock_step_ms", whole(0, DAY)],
  ["auth.brute_force_lock_max_ms", whole(0, 7 * DAY)],
  ["auth.brute_force_reset_ms", whole(MINUTE, 30 * DAY)],
  ["auth.success_after_failures_min", whole(1, 1_000)],
  ["auth.success_after_failures_window_ms", whole(SECOND, DAY)],
  ["auth.impossible_travel_speed_kmh", real(1, 100_000)],
  ["auth.impossible_travel_min_km", real(0, 20_050)],
  ["auth.new_device_min_logins", whole(0, 10_000)],
  ["auth.risky_login_low", real(0, 1)],
  ["auth.risky_login_medium", real(0, 1)],
  ["auth.risky_login_high", real(0, 1)],
  ["tx.large_amount_sigma", real(0, 100)],
  ["tx.large_amount_history", whole(1, 10_000)],
  ["tx.large_amount_min_history", whole(0, 10_000)],
  ["tx.large_amount_cap", real(0, 1e15)],
  ["tx.rapid_transfers_max", whole(1, 1_000)],
  ["tx.rapid_transfers_window_ms", whole(SECOND, DAY)],
  ["user.account_takeover_window_ms", whole(MINUTE, 7 * DAY)],
  ["user.account_takeover_min_amount", real(0, 1e15)],
  ["user.max_payees", whole(1, 256)],
  ["user.compromise_window_ms", whole(MINUTE, 7 * DAY)],
  ["ip.spray_min_users", whole(1, 10_000)],
  ["ip.spray_min_attempts", whole(1, 100_000)],
  ["ip.spray_min_per_user", whole(1, 1_000)],
  ["ip.spray_max_per_user", whole(1, 1_000)],
  ["ip.spray_window_ms", whole(MINUTE, DAY)],
  ["ip.shared_success_ratio", real(0, 1_000)],
  ["ip.stuffing_min_users", whole(1, 10_000)],
  ["ip.stuffing_min_attempts", whole(1, 100_000)],
  ["ip.stuffing_max_per_user", whole(1, 1_000)],
  ["ip.stuffing_min_share", real(0, 1)],
  ["ip.stuffing_window_ms", whole(MINUTE, DAY)],
  ["ip.throttle_capacity", whole(1, 1_000_000)],
  ["ip.throttle_refill_ms", whole(SECOND, DAY)],
  ["svc.error_burst_max", whole(1, 10_000)],
  ["svc.error_burst_window_ms", whole(SECOND, DAY)],
  ["svc.high_cpu_percent", real(0, 100)],
  ["svc.high_latency_ms", real(0, HOUR)],
  ["svc.sustained_samples", whole(1, 100)],
  ["svc.anomaly_z", real(0, 100)],
  ["svc.anomaly_iqr", real(0, 100)],
  ["svc.anomaly_min_samples", whole(1, 100_000)],
  ["svc.anomaly_min_methods", whole(1, 4)],
  ["svc.max_metrics", whole(1, 256)],
  ["net.port_scan_ports", whole(1, 65_536)],
  ["net.address_scan_hosts", whole(1, 1_000_000)],
  ["net.scan_window_ms", whole(SECOND, DAY)],
  ["net.probe_max_fwd_packets", whole(0, 1_000_000)],
  ["net.probe_max_bwd_bytes", whole(0, 1_000_000)],
  ["net.flood_z", real(0, 100)],
  ["net.flood_min_flows", whole(1, 1_000_000_000)],
  ["net.flood_min_windows", whole(1, 10_000)],
  ["page.spike_z", real(0, 100)],
  ["page.spike_min_windows", whole(1, 10_000)],
  ["page.spike_min_views", whole(1, 1_000_000_000)],
  ["page.spike_ratio", real(1, 1_000)],
  ["page.spike_p_value", real(0, 1)],
]);

/**
 * Why `value` is outside `range`, as the end of a sentence ("it must be …"), or null.
 *
 * @example
 * ```ts
 * import { outOfRange, PARAM_RANGES } from "./ranges.ts";
 * outOfRange(1e308, PARAM_RANGES.get("auth.brute_force_failures")!);
 * // "it must be a whole number from 1 to 1000"
 * ```
 */
export function outOfRange(value: number, range: Range): string | null {
  const ok = value >= range.min && value <= range.max &&
    (!range.integer || Number.isInteger(value));
  if (ok) return null;
  return `it must be ${range.integer ? "a whole number" : "a number"} from ${range.min} to ` +
    `${range.max}`;
}

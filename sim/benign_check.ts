/**
 * How often each rule fires on benign traffic: the events go through the real actors in
 * an in-process replay (`engine/replay.ts`, the same run as `deno task replay`), and the
 * alerts raised in the measured days (after the warm-up) are counted per rule, also per
 * 1,000 customers per day.
 *
 * @module
 */

import { type Config, defaults } from "../config/defaults.ts";
import { replay } from "../engine/replay.ts";
import type { Alert } from "../events/types.ts";
import type { ModelService } from "../models/service.ts";
import { BENIGN_DEFAULTS, benignEvents, type BenignOptions, benignOptions } from "./benign.ts";
import type { SimEvent } from "./simulator.ts";

/** One rule's count on benign traffic. */
export interface RuleCount {
  rule: string;
  alerts: number;
  /** Alerts per 1,000 customers per measured day. */
  per_1000_users_per_day: number;
  /** Distinct entities alerted. */
  entities: number;
  severities: string[];
}

/** What the rules did on benign traffic. */
export interface BenignReport {
  events: number;
  invalid: number;
  users: number;
  days: number;
  /** Rules that fired, most alerts first. */
  rules: RuleCount[];
  /** The measured alerts, in event-time order. */
  alerts: Alert[];
}

/** Lines of events, in chunks, for a replay. */
function linesOfEvents(events: readonly SimEvent[]): () => Iterable<string[]> {
  return function* () {
    for (let i = 0; i < events.length; i += 10_000) {
      yield events.slice(i, i + 10_000).map((e) => JSON.stringify(e));
    }
  };
}

/** The count of a rule's alerts in `alerts`, for `users` customers over `days`. */
export function countByRule(alerts: readonly Alert[], users: number, days: number): RuleCount[] {
  const by = new Map<string, Alert[]>();
  for (const a of alerts) {
    const list = by.get(a.rule) ?? [];
    list.push(a);
    by.set(a.rule, list);
  }
  return [...by].map(([rule, list]) => ({
    rule,
    alerts: list.length,
    per_1000_users_per_day: Math.round((list.length / users / days) * 1000 * 1000) / 1000,
    entities: new Set(list.map((a) => `${a.entity.type}/${a.entity.key}`)).size,
    severities: [...new Set(list.map((a) => a.severity))].sort(),
  })).sort((a, b) => b.alerts - a.alerts || (a.rule < b.rule ? -1 : 1));
}

/**
 * Replays `events` (benign traffic of `options`) through the actors with `config` (the
 * defaults) and counts the alerts raised from `options.start_ms` on, per rule. Without
 * `models`, flows are counted and not scored, and `auth.risky_login` has no model.
 *
 * @example
 * ```ts
 * import { countAlerts } from "./benign_check.ts";
 * import { benignEvents } from "./benign.ts";
 * const o = { users: 200, days: 1, warmup_days: 1, flows: false };
 * const report = await countAlerts(benignEvents(o), o);
 * report.rules; // [{ rule: "auth.new_device_location", alerts: …, … }, …]
 * ```
 */
export async function countAlerts(
  events: readonly SimEvent[],
  options: Partial<BenignOptions> = {},
  config: Config = structuredClone(defaults) as Config,
  models: ModelService | null = null,
): Promise<BenignReport> {
  const o = benignOptions(options);
  const r = await replay(linesOfEvents(events), config, models);
  const from = new Date(o.start_ms).toISOString();
  const alerts = r.alerts.filter((a) => a.timestamp >= from);
  return {
    events: r.events,
    invalid: r.invalid,
    users: o.users,
    days: o.days,
    rules: countByRule(alerts, o.users, o.days),
    alerts,
  };
}

/** Generates benign traffic of `options` and counts the alerts on it (`countAlerts`). */
export function benignReport(
  options: Partial<BenignOptions> = BENIGN_DEFAULTS,
  config?: Config,
  models: ModelService | null = null,
): Promise<BenignReport> {
  return countAlerts(benignEvents(options), options, config, models);
}

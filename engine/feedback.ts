/**
 * Feedback that changes something (issue 15): what the analysts' resolution labels say
 * about each rule (its precision over a window of wall-clock time), and each rule's alert
 * budget per hour. Pure functions; `engine/feedback_tracker.ts` feeds them from the store.
 * The design and its choices: docs/feedback.md.
 *
 * @module
 */

import type { RuleSettings } from "../config/defaults.ts";
import { ConfigError } from "../config/load.ts";
import type { TriageKind, TriageLabel } from "./triage.ts";

/** An alert a label is about, and its rule. */
export interface LabelledAlert {
  alert_id: string;
  rule: string;
}

/**
 * A case (alert or incident) whose triage changed in the window, as the precision reads
 * it: its label now (null: none, e.g. reopened), when that label was given, and the
 * alerts it counts for.
 */
export interface LabelledCase {
  kind: TriageKind;
  id: string;
  label: TriageLabel | null;
  /** When the label was given (ms, wall clock); ignored without a label. */
  labelled_ms: number;
  /**
   * The alerts the label counts for: the alert itself, or an incident's members raised
   * by the time of the label. Empty when the store no longer holds them.
   */
  alerts: readonly LabelledAlert[];
  /** Of an incident's alerts, those that had a label of their own when it was read. */
  labelled_alerts: ReadonlySet<string>;
}

/** A rule's labels in the window and its precision. */
export interface RuleFeedback {
  /** true_positive / (true_positive + false_positive); null without either. */
  precision: number | null;
  true_positive: number;
  false_positive: number;
  /** Real but harmless (a pen test, a known scanner): counted, not in the precision. */
  benign: number;
  window_days: number;
}

/** The precision of labels: null when there is no true or false positive to judge by. */
export function precisionOf(tp: number, fp: number): number | null {
  return tp + fp === 0 ? null : tp / (tp + fp);
}

/**
 * Each rule's labels given in the `window_ms` before `now_ms`. A label on an alert
 * counts for its rule; a label on an incident counts once for each of its alerts, by
 * their rules, except the alerts with a label of their own (theirs wins, whenever it was
 * given). Each alert counts at most once. Rules without labels are absent.
 *
 * @example
 * ```ts
 * import { foldFeedback } from "./feedback.ts";
 * const fp = { kind: "alert" as const, id: "a1", label: "false_positive" as const,
 *   labelled_ms: 1_000, alerts: [{ alert_id: "a1", rule: "auth.brute_force" }],
 *   labelled_alerts: new Set<string>() };
 * foldFeedback([fp], 2_000, 7 * 86_400_000).get("auth.brute_force")?.precision; // 0
 * ```
 */
export function foldFeedback(
  cases: readonly LabelledCase[],
  now_ms: number,
  window_ms: number,
): Map<string, RuleFeedback> {
  const from = now_ms - window_ms;
  const window_days = window_ms / 86_400_000;
  // The alerts changed in the window: their label now (null: none any more).
  const own = new Map<string, TriageLabel | null>();
  for (const c of cases) if (c.kind === "alert") own.set(c.id, c.label);
  const out = new Map<string, RuleFeedback>();
  const count = (rule: string, label: TriageLabel) => {
    let f = out.get(rule);
    if (!f) {
      out.set(
        rule,
        f = { precision: null, true_positive: 0, false_positive: 0, benign: 0, window_days },
      );
    }
    f[label]++;
  };
  const counted = new Set<string>();
  for (const c of cases) {
    if (c.label === null || c.labelled_ms < from) continue;
    for (const a of c.alerts) {
      if (c.kind === "incident") {
        const mine = own.has(a.alert_id) ? own.get(a.alert_id)! : null;
        if (mine !== null || (!own.has(a.alert_id) && c.labelled_alerts.has(a.alert_id))) continue;
      }
      // Once per alert (it is one incident's; a repeat in the input changes nothing).
      if (counted.has(a.alert_id)) continue;
      counted.add(a.alert_id);
      count(a.rule, c.label);
    }
  }
  for (const f of out.values()) f.precision = precisionOf(f.true_positive, f.false_positive);
  return out;
}

/** What a rule without labels shows. */
export function noFeedback(window_days: number): RuleFeedback {
  return { precision: null, true_positive: 0, false_positive: 0, benign: 0, window_days };
}

/** A rule's alert budget and how much of it the last hour used. */
export interface RuleBudget {
  /** Alerts an hour the rule may raise; null: no budget. */
  per_hour: number | null;
  /** Its alerts of the last hour of event time, across every process (not suppressed ones). */
  last_hour: number;
  /** More alerts in the last hour than the budget. */
  over: boolean;
  /** Whether going over moves the rule from enforce to shadow mode. */
  auto_shadow: boolean;
}

/** The budget settings, read once: a default, per-rule overrides, the auto-shadowed rules. */
export interface BudgetPlan {
  default_per_hour: number;
  per_rule: ReadonlyMap<string, number>;
  /** "*": every rule. */
  auto_shadow: ReadonlySet<string>;
}

/**
 * Reads `rules.budget_per_hour`, `rules.budgets` (`rule=n,rule=n`) and
 * `rules.auto_shadow` (`*` or `rule,rule`). `known` says whether a name is a rule.
 * Throws a ConfigError naming the variable and the bad part.
 */
export function budgetPlanOf(s: RuleSettings, known: (rule: string) => boolean): BudgetPlan {
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (!whole(s.budget_per_hour)) {
    throw new ConfigError(
      `Cannot use VIGIL_RULES_BUDGET_PER_HOUR=${s.budget_per_hour}: it must be a whole number ` +
        "of alerts an hour, 0 for no budget",
    );
  }
  const per_rule = new Map<string, number>();
  for (const part of s.budgets.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([^=\s]+)\s*=\s*(\d+)$/.exec(part);
    if (!m) {
      throw new ConfigError(
        `Cannot read VIGIL_RULES_BUDGETS part "${part}": write rule=alerts_per_hour, e.g. ` +
          "auth.brute_force=50 (0: no budget)",
      );
    }
    if (!known(m[1]!)) {
      throw new ConfigError(
        `Cannot set a budget for rule "${m[1]}" (VIGIL_RULES_BUDGETS): no such rule`,
      );
    }
    per_rule.set(m[1]!, Number(m[2]));
  }
  const auto_shadow = new Set<string>();
  for (const name of s.auto_shadow.split(",").map((r) => r.trim()).filter(Boolean)) {
    if (name !== "*" && !known(name)) {
      throw new ConfigError(
        `Cannot auto-shadow rule "${name}" (VIGIL_RULES_AUTO_SHADOW): no such rule; use rule ` +
          'names or "*" for every rule',
      );
    }
    auto_shadow.add(name);
  }
  return { default_per_hour: s.budget_per_hour, per_rule, auto_shadow };
}

/** A rule's budget given its alerts of the last hour. */
export function budgetOf(plan: BudgetPlan, rule: string, last_hour: number): RuleBudget {
  const n = plan.per_rule.get(rule) ?? plan.default_per_hour;
  const per_hour = n > 0 ? n : null;
  return {
    per_hour,
    last_hour,
    over: per_hour !== null && last_hour > per_hour,
    auto_shadow: per_hour !== null && (plan.auto_shadow.has("*") || plan.auto_shadow.has(rule)),
  };
}

/**
 * The rules' feedback and budgets as Prometheus gauges, read at scrape time from the
 * process's last read of the store (`engine/feedback_tracker.ts`). Labelled by rule (and
 * label, three values) only. Every process reads the same store, so every worker shows
 * the same values: aggregate with `max by (rule)`, not `sum`.
 *
 * @module
 */

import client from "prom-client";
import type { RuleStanding } from "../engine/feedback_tracker.ts";
import { TRIAGE_LABELS } from "../engine/triage.ts";

/** One rule's standing, for the gauges. */
export type RuleGaugeRow = RuleStanding & { rule: string };

/** Registers the rule gauges on `registry`; `rows` is read at each scrape. */
export function registerRuleGauges(registry: client.Registry, rows: () => RuleGaugeRow[]): void {
  const registers = [registry];
  const gauge = (
    name: string,
    help: string,
    set: (g: client.Gauge<string>, r: RuleGaugeRow) => void,
    labelNames = ["rule"],
  ) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const r of rows()) set(this, r);
      },
    });
  gauge(
    "vigil_rule_precision",
    "Each rule's precision from the analysts' labels of the window (true / (true + false positives)); absent for a rule without either.",
    (g, r) => {
      if (r.feedback.precision !== null) g.set({ rule: r.rule }, r.feedback.precision);
    },
  );
  gauge(
    "vigil_rule_labels",
    "Resolution labels counted for each rule in the precision window, by label (benign apart from the precision).",
    (g, r) => {
      for (const label of TRIAGE_LABELS) {
        if (r.feedback[label] > 0) g.set({ rule: r.rule, label }, r.feedback[label]);
      }
    },
    ["rule", "label"],
  );
  gauge(
    "vigil_rule_alert_budget",
    "Each rule's alert budget per hour; absent for a rule without one.",
    (g, r) => {
      if (r.budget.per_hour !== null) g.set({ rule: r.rule }, r.budget.per_hour);
    },
  );
  gauge(
    "vigil_rule_alerts_last_hour",
    "Each rule's alerts in the last hour of event time, every process together, suppressed ones left out.",
    (g, r) => g.set({ rule: r.rule }, r.budget.last_hour),
  );
  gauge(
    "vigil_rule_over_budget",
    "1 while a rule raised more alerts in the last hour than its budget, else 0.",
    (g, r) => g.set({ rule: r.rule }, r.budget.over ? 1 : 0),
  );
}

/**
 * Each process's view of the rules' feedback and budgets, read from the shared store:
 * every `feedback_refresh_ms` (what other processes' analysts labelled, and the alerts
 * every process raised), and at once for a change this process made. The folding is
 * pure (`engine/feedback.ts`); this file reads, caches and decides when.
 *
 * @module
 */

import type { Store, TriagedCase } from "../io/store.ts";
import type { TriageKind } from "./triage.ts";
import {
  budgetOf,
  type BudgetPlan,
  foldFeedback,
  type LabelledCase,
  noFeedback,
  type RuleBudget,
  type RuleFeedback,
} from "./feedback.ts";

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** How a tracker reads and bounds. */
export interface TrackerOptions {
  store: Store;
  plan: BudgetPlan;
  precision_window_days: number;
  max_labelled_cases: number;
  /** Alerts of one incident read to find what its label counts for. */
  max_incident_members: number;
  /** Wall-clock now (ms). */
  now: () => number;
}

/** A rule's feedback and budget now. */
export interface RuleStanding {
  feedback: RuleFeedback;
  budget: RuleBudget;
}

/** The rules' precision and budgets as this process last read them. */
export class FeedbackTracker {
  #o: TrackerOptions;
  /** Each case read, by `kind:id`, with the revision it was resolved at. */
  #cases = new Map<string, { revision: number; c: LabelledCase }>();
  #feedback = new Map<string, RuleFeedback>();
  #lastHour = new Map<string, number>();
  /** One read or change at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: TrackerOptions) {
    this.#o = options;
  }

  /** The window of the precision, in ms. */
  get window_ms(): number {
    return this.#o.precision_window_days * DAY_MS;
  }

  /** A rule's feedback and budget, as last read. */
  standing(rule: string): RuleStanding {
    return {
      feedback: this.#feedback.get(rule) ?? noFeedback(this.#o.precision_window_days),
      budget: budgetOf(this.#o.plan, rule, this.#lastHour.get(rule) ?? 0),
    };
  }

  /** Reads the labels of the window and the last hour's alert counts from the store. */
  refresh(): Promise<void> {
    return this.#serial(async () => {
      const now = this.#o.now();
      const since = new Date(now - this.window_ms).toISOString();
      const [triaged, counts] = await Promise.all([
        this.#o.store.findTriaged(since, this.#o.max_labelled_cases),
        this.#o.store.countAlertsByRule(now - HOUR_MS),
      ]);
      const next = new Map<string, { revision: number; c: LabelledCase }>();
      for (const t of triaged) {
        const key = `${t.kind}:${t.id}`;
        const held = this.#cases.get(key);
        // A change this process made after the read began is newer than what was read.
        next.set(key, held && held.revision >= t.revision ? held : await this.#resolved(t));
      }
      this.#cases = next;
      this.#lastHour = counts;
      this.#fold(now);
    });
  }

  /** Takes in a change of a case's triage made here, before the next read. */
  noted(case_: TriagedCase): Promise<void> {
    return this.#serial(async () => {
      const key = `${case_.kind}:${case_.id}`;
      if ((this.#cases.get(key)?.revision ?? 0) >= case_.revision) return;
      this.#cases.set(key, await this.#resolved(case_));
      this.#fold(this.#o.now());
    });
  }

  #fold(now: number): void {
    this.#feedback = foldFeedback([...this.#cases.values()].map((x) => x.c), now, this.window_ms);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** What a case's label counts for: the alert, or an incident's alerts by the label's time. */
  async #resolved(t: TriagedCase): Promise<{ revision: number; c: LabelledCase }> {
    const labelled_ms = t.labelled_at === null ? 0 : Date.parse(t.labelled_at);
    const c: LabelledCase = {
      kind: t.kind,
      id: t.id,
      label: t.label,
      labelled_ms,
      alerts: [],
      labelled_alerts: new Set(),
    };
    if (t.label !== null) {
      const store = this.#o.store;
      if (t.kind === "alert") {
        const a = await store.getAlert(t.id);
        if (a) c.alerts = [{ alert_id: a.alert_id, rule: a.rule }];
      } else {
        const members = (await store.findAlerts({
          incident_id: t.id,
          limit: this.#o.max_incident_members,
        })).filter((a) => !(Date.parse(a.detected_at) > labelled_ms));
        c.alerts = members.map((a) => ({ alert_id: a.alert_id, rule: a.rule }));
        const own = await store.getTriages(kindAlert, members.map((a) => a.alert_id));
        c.labelled_alerts = new Set([...own].filter(([, x]) => x.label !== null).map(([id]) => id));
      }
    }
    return { revision: t.revision, c };
  }
}

const kindAlert: TriageKind = "alert";

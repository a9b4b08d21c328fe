import assert from "node:assert/strict";
import {
  budgetOf,
  budgetPlanOf,
  foldFeedback,
  type LabelledCase,
  precisionOf,
} from "../../engine/feedback.ts";
import { applyTriage, UNTOUCHED } from "../../engine/triage.ts";
import { defaults } from "../../config/defaults.ts";
import type { TriageLabel } from "../../engine/triage.ts";

const DAY = 86_400_000;
const WEEK = 7 * DAY;
const NOW = Date.parse("2026-03-09T10:00:00Z");

const alertCase = (id: string, rule: string, label: TriageLabel | null, at = NOW - DAY) => ({
  kind: "alert" as const,
  id,
  label,
  labelled_ms: at,
  alerts: [{ alert_id: id, rule }],
  labelled_alerts: new Set<string>(),
});

const incidentCase = (
  id: string,
  label: TriageLabel | null,
  members: [string, string][],
  labelled: string[] = [],
  at = NOW - DAY,
): LabelledCase => ({
  kind: "incident",
  id,
  label,
  labelled_ms: at,
  alerts: members.map(([alert_id, rule]) => ({ alert_id, rule })),
  labelled_alerts: new Set(labelled),
});

const counts = (cases: LabelledCase[]) =>
  Object.fromEntries(
    [...foldFeedback(cases, NOW, WEEK)].map((
      [rule, f],
    ) => [rule, [f.true_positive, f.false_positive, f.benign, f.precision]]),
  );

Deno.test("foldFeedback() counts an alert's label for its rule and an incident's for each of its alerts' rules", () => {
  assert.deepEqual(
    counts([
      alertCase("a1", "auth.brute_force", "true_positive"),
      alertCase("a2", "auth.brute_force", "false_positive"),
      alertCase("a3", "auth.brute_force", "true_positive"),
      incidentCase("i1", "false_positive", [
        ["b1", "ip.password_spray"],
        ["b2", "ip.throttle"],
        ["b3", "ip.throttle"],
      ]),
    ]),
    {
      "auth.brute_force": [2, 1, 0, 2 / 3],
      "ip.password_spray": [0, 1, 0, 0],
      "ip.throttle": [0, 2, 0, 0],
    },
  );
  // A rule without labels is absent: no precision to invent.
  assert.deepEqual(counts([]), {});
  assert.equal(precisionOf(0, 0), null);
});

Deno.test("foldFeedback(): an alert's own label wins over its incident's, whenever it was given", () => {
  const members: [string, string][] = [["b1", "ip.password_spray"], ["b2", "ip.throttle"]];
  // b2 labelled in the window: its own label counts, the incident's does not for it.
  assert.deepEqual(
    counts([
      incidentCase("i1", "false_positive", members),
      alertCase("b2", "ip.throttle", "true_positive"),
    ]),
    { "ip.password_spray": [0, 1, 0, 0], "ip.throttle": [1, 0, 0, 1] },
  );
  // b2 labelled long ago (before the window; known when the incident's alerts were read):
  // neither counts for it.
  assert.deepEqual(counts([incidentCase("i1", "false_positive", members, ["b2"])]), {
    "ip.password_spray": [0, 1, 0, 0],
  });
  // b2's label was taken back since (reopened in the window): the incident's counts.
  assert.deepEqual(
    counts([
      incidentCase("i1", "false_positive", members, ["b2"]),
      alertCase("b2", "ip.throttle", null),
    ]),
    { "ip.password_spray": [0, 1, 0, 0], "ip.throttle": [0, 1, 0, 0] },
  );
  // An incident without a label (reopened) counts nothing.
  assert.deepEqual(counts([incidentCase("i1", null, members)]), {});
});

Deno.test("foldFeedback(): the window is wall-clock time of the label, its first millisecond in", () => {
  const at = (ms: number) => alertCase("a1", "net.port_scan", "false_positive", ms);
  assert.deepEqual(counts([at(NOW - WEEK)]), { "net.port_scan": [0, 1, 0, 0] });
  assert.deepEqual(counts([at(NOW - WEEK - 1)]), {});
  assert.deepEqual(
    counts([incidentCase("i1", "true_positive", [["x", "net.flood"]], [], NOW - WEEK - 1)]),
    {},
  );
  // A later note does not move a label's time: applyTriage keeps labelled_at.
  const limits = { max_triage_notes: 5, max_note_chars: 100, max_assignee_chars: 20 };
  const resolved = applyTriage(
    UNTOUCHED,
    { status: "resolved", label: "benign" },
    "ana",
    "2026-03-01T09:00:00.000Z",
    limits,
  );
  const noted = applyTriage(
    resolved,
    { note: "pen test" },
    "bo",
    "2026-03-09T09:00:00.000Z",
    limits,
  );
  assert.equal(noted.labelled_at, "2026-03-01T09:00:00.000Z");
  assert.equal(noted.updated_at, "2026-03-09T09:00:00.000Z");
  const relabelled = applyTriage(
    noted,
    { label: "true_positive" },
    "bo",
    "2026-03-09T09:30:00.000Z",
    limits,
  );
  assert.equal(relabelled.labelled_at, "2026-03-09T09:30:00.000Z");
  const reopened = applyTriage(
    relabelled,
    { status: "open" },
    "bo",
    "2026-03-09T09:40:00.000Z",
    limits,
  );
  assert.equal(reopened.labelled_at, null);
});

Deno.test("foldFeedback(): benign is counted apart and is not in the precision", () => {
  assert.deepEqual(
    counts([
      alertCase("a1", "svc.high_cpu", "benign"),
      alertCase("a2", "svc.high_cpu", "benign"),
      alertCase("a3", "tx.large_amount", "benign"),
      alertCase("a4", "tx.large_amount", "true_positive"),
    ]),
    { "svc.high_cpu": [0, 0, 2, null], "tx.large_amount": [1, 0, 1, 1] },
  );
  const f = foldFeedback([alertCase("a1", "svc.high_cpu", "benign")], NOW, WEEK);
  assert.equal(f.get("svc.high_cpu")?.window_days, 7);
});

Deno.test("budgetPlanOf() reads the default, per-rule budgets and auto-shadowed rules, or names what is wrong", () => {
  const known = (r: string) => ["auth.brute_force", "net.port_scan"].includes(r);
  const plan = budgetPlanOf({
    ...defaults.rules,
    budget_per_hour: 100,
    budgets: " auth.brute_force=5, net.port_scan = 0",
    auto_shadow: "auth.brute_force",
  }, known);
  assert.deepEqual(budgetOf(plan, "auth.brute_force", 5), {
    per_hour: 5,
    last_hour: 5,
    over: false,
    auto_shadow: true,
  });
  assert.equal(budgetOf(plan, "auth.brute_force", 6).over, true);
  // 0: no budget, never over, never auto-shadowed.
  assert.deepEqual(budgetOf(plan, "net.port_scan", 1e6), {
    per_hour: null,
    last_hour: 1e6,
    over: false,
    auto_shadow: false,
  });
  assert.deepEqual(budgetOf(plan, "svc.high_cpu", 101), {
    per_hour: 100,
    last_hour: 101,
    over: true,
    auto_shadow: false,
  });
  const every = budgetPlanOf({ ...defaults.rules, auto_shadow: "*" }, known);
  assert.equal(budgetOf(every, "svc.high_cpu", 0).auto_shadow, true);
  assert.equal(budgetOf(every, "svc.high_cpu", 0).per_hour, defaults.rules.budget_per_hour);
  const bad = (s: Partial<typeof defaults.rules>, why: RegExp) =>
    assert.throws(() => budgetPlanOf({ ...defaults.rules, ...s }, known), why);
  bad({ budgets: "auth.brute_force:5" }, /VIGIL_RULES_BUDGETS part "auth.brute_force:5"/);
  bad({ budgets: "auth.nope=5" }, /rule "auth.nope" \(VIGIL_RULES_BUDGETS\): no such rule/);
  bad({ budgets: "auth.brute_force=-1" }, /rule=alerts_per_hour/);
  bad({ auto_shadow: "auth.nope" }, /auto-shadow rule "auth.nope"/);
  bad({ budget_per_hour: 1.5 }, /VIGIL_RULES_BUDGET_PER_HOUR=1.5/);
});
